"""The SQL functions of the models, kept in step with the model store.

Every model's kind names its functions (``kinds``: the prediction function, ``fn_explain``,
``fn_probabilities`` for classifiers). Before each statement the front door compares the
store's fingerprint with the one it last saw and (re)registers or removes functions, so a model
created by another connection or process is callable at once. A model that is not READY has
stand-ins with the same signature that say which model it is, its state and what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from sqlml import kinds
from sqlml.engines.base import Engine
from sqlml.errors import CorruptModelPackage, ModelNotFound, ModelNotReady, SqlmlError
from sqlml.jobs import status as J
from sqlml.kinds.base import TARGET, FunctionSpec
from sqlml.statements import catalog, explain_model
from sqlml.store.integrity import PackageFolder

log = logging.getLogger(__name__)

function_names = kinds.function_names


def by_function(models: list[tuple[Path, dict]]) -> dict[str, dict]:
    """Each model function's name -> its model's manifest."""
    return {name: m for _, m in models for name in function_names(m)}


class FunctionSync:
    """Registers the functions of every model of ``store`` in ``engine``."""

    def __init__(self, engine: Engine, store):
        self.engine, self.store = engine, store
        self._fingerprint: tuple | None = None
        self._owners: dict[str, str] = {}  # registered function -> its model, "schema.name"
        # Functions removed because their model went away -> that model: a call to one is
        # told the model is gone, not offered another model's function by the database.
        self.retired: dict[str, str] = {}
        self.failed: dict[str, str] = {}  # function -> why it could not be registered

    def sync(self, force: bool = False) -> None:
        fingerprint = (self.store.fingerprint(), J.fingerprint(self.store))
        if fingerprint == self._fingerprint and not force:
            return
        models = catalog.list_models(self.store)
        wanted: dict[str, tuple] = {}
        for directory, manifest in models:
            if manifest["state"] == "BROKEN":  # nothing to call; the front door says why
                continue
            for name, spec in function_names(manifest).items():
                wanted.setdefault(name, (directory, manifest, spec))
        registered = self.engine.registered_functions()
        # A name no model wants any more has nothing left to explain.
        self.failed = {n: why for n, why in self.failed.items() if n in wanted}
        for name in registered.keys() - wanted.keys() - {explain_model.FUNCTION}:
            self.engine.unregister_function(name)
            if name in self._owners:
                self.retired[name] = self._owners.pop(name)
        self._register_explain_model(registered)
        for name, (directory, manifest, spec) in wanted.items():
            if registered.get(name) == manifest["package_id"]:
                continue
            try:
                self._register(name, directory, manifest, spec)
            except Exception as e:  # noqa: BLE001 -- a bad manifest may fail in any way
                # One unreadable model must not cost the others their functions, nor the
                # connection its statements (DROP MODEL removes it). A call to it says why.
                log.warning("function %s not registered: %s", name, e)
                where = f"{manifest['schema']}.{manifest['name']}"
                self.failed[name] = f"Function {name} of model {where} cannot be used: {e}"
        self.engine.publish_model_info(
            [(m["schema"], m["name"], m.get("owner") or "", m["state"]) for _, m in models]
        )
        self.engine.publish_leaderboards(list(_leaderboards(models)))
        self._fingerprint = fingerprint

    def unavailable(self, error, functions: dict[str, dict]) -> SqlmlError | None:
        """Why the function an engine error names cannot run, when it is a model's that is
        BROKEN, failed to register, or was dropped (rather than the engine's "does not exist,
        did you mean" another model's function)."""
        name = error.name
        manifest = functions.get(name)
        if manifest is not None and manifest["state"] == "BROKEN":
            return CorruptModelPackage(
                f"Function {name} cannot run: {manifest['failure_reason']} "
                f"(DROP MODEL {manifest['schema']}.{manifest['name']} removes it.)"
            )
        if name in self.failed:
            return CorruptModelPackage(self.failed[name])
        if error.sqlstate == "42883" and name in self.retired and manifest is None:
            return ModelNotFound(
                f"Function {name} belonged to model {self.retired[name]}, which no longer "
                "exists (it was dropped). SHOW MODEL ALL lists the models."
            )
        return None

    def _register_explain_model(self, registered: dict[str, str]) -> None:
        token = f"{explain_model.FUNCTION}:{self.store.root}"
        if registered.get(explain_model.FUNCTION) != token:
            store = self.store
            self.engine.register_function(
                explain_model.FUNCTION,
                token,
                explain_model.function(lambda: catalog.list_models(store)),
                [catalog.Column("model", self.engine.sql_type(pa.string()), pa.string())],
                pa.json_(),
            )

    def _register(self, name: str, directory: Path, manifest: dict, spec: FunctionSpec) -> None:
        features, target = catalog.columns(manifest, self.engine)
        if manifest["state"] == "READY":
            fn = _predict(directory, catalog.with_arrow_types(manifest, self.engine), spec.method)
        else:
            fn = self._not_ready(name, directory, manifest)
        if spec.returns == TARGET:
            returns = target
            if returns is None:
                default = kinds.for_manifest(manifest).default_target_type()
                returns = catalog.Column("", self.engine.sql_type(default), default)
        else:
            returns = spec.returns
        self.engine.register_function(name, manifest["package_id"], fn, features, returns)
        self._owners[name] = f"{manifest['schema']}.{manifest['name']}"
        self.retired.pop(name, None)
        self.failed.pop(name, None)

    def _not_ready(self, name: str, job_dir: Path, manifest: dict):
        """A stand-in for the function of a model not READY yet."""
        store, schema, model = self.store, manifest["schema"], manifest["name"]

        def not_ready(columns: list) -> pa.Array:
            resolved = J.resolve(store, job_dir) if job_dir.exists() else None
            state = resolved[1]["state"] if resolved else "gone"
            if state == "FAILED":
                advice = (
                    f"It FAILED: {catalog.failure(resolved[1])} DROP MODEL {model} and create "
                    "it again."
                )
            elif state == "gone":
                advice = "Its training just ended; run the query again."
            else:
                advice = f"It is {state}; SHOW MODEL {model} shows its progress."
            raise ModelNotReady(
                f"Prediction function {name} of model {schema}.{model} cannot be called before "
                f"the model is READY. {advice}"
            )

        return not_ready


def _leaderboards(models: list[tuple[Path, dict]]):
    """(schema, model, checked leaderboard file) of each READY model that has one."""
    for directory, m in models:
        name = m.get("model", {}).get("leaderboard") if m["state"] == "READY" else None
        if name:
            try:
                yield m["schema"], m["name"], PackageFolder(directory, m) / name
            except CorruptModelPackage as e:
                log.warning("leaderboard of %s.%s not shown: %s", m["schema"], m["name"], e)


def _predict(directory: Path, manifest: dict, method: str):
    """The function computing ``method`` ("predict", "probabilities" or "explain") of the
    model's predictor, loaded once per process."""

    def call(columns: list) -> pa.Array:
        # Imported at the first call: a session that predicts nothing never loads it.
        from sqlml.runtime.predictor import load_predictor

        return getattr(load_predictor(directory, manifest), method)(columns)

    return call
