"""The SQL functions of the models, kept in step with the model store.

Every model's kind names its functions (``kinds``: the prediction function, ``fn_explain``,
``fn_probabilities`` for classifiers). Before each statement the front door compares the
store's fingerprint with the one it last saw and (re)registers or removes functions, so a model
created by another connection or process is callable at once. A model that is not READY has
stand-ins with the same signature that say which model it is, its state and what to do.

**Privileges in a served database.** Whether a user may call a model's function is checked
when the function runs, not by reading the statement. A statement-level check (which model
functions does the text call?) misses every call the text does not spell out: a view whose
query calls the function, a macro wrapping it, ``query('...')`` building the statement from
a string, ``explain_model(name_column)``. All of these end in one call of the function, so
the function is where the check cannot be gone around. But DuckDB keeps Python functions in
the catalog of the database instance, shared by every session, and runs them in its own
threads: the function itself cannot tell whose query it serves. So in a served database every
model function is registered with one more, first, parameter: the caller's key (128 random
bits per session, ``access.CALLERS``), and each session has a temporary macro of its own
(DuckDB's temporary objects belong to one connection) under the function's name that passes its
key: ``fn(a, b)`` is ``system.main.fn('<key>', a, b)``. The function looks the key up and checks
that session's privileges for every batch, whichever thread runs it, however the call was
reached. Calling ``system.main.fn`` directly needs another session's key, which is not found; a
session's own key only gives its own privileges. Embedded connections register the functions
without the extra parameter (one user, nothing to check).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from sqlml import kinds
from sqlml.access import CALLERS, Access
from sqlml.engines.base import Column, Engine
from sqlml.errors import CorruptModelPackage, ModelNotFound, ModelNotReady, SqlmlError
from sqlml.jobs import status as J
from sqlml.kinds.base import TARGET, FunctionSpec
from sqlml.lazy import pa
from sqlml.statements import catalog, explain_model
from sqlml.store.integrity import PackageFolder

log = logging.getLogger(__name__)

function_names = kinds.function_names


def by_function(models: list[tuple[Path, dict]]) -> dict[str, dict]:
    """Each model function's name -> its model's manifest."""
    return {name: m for _, m in models for name in function_names(m)}


@functools.cache
def _caller() -> Column:
    """The first parameter of a served database's model functions: the calling session's key."""
    return Column("sqlml_caller", "VARCHAR", pa.string())


class FunctionSync:
    """Registers the functions of every model of ``store`` in ``engine``, and publishes the
    catalog views of the models ``access`` may use. ``caller``: the session's key in a
    served database (its model functions take it first; see the module's docstring), None in
    an embedded one. ``served`` without ``caller`` (the server's own connection) registers the
    functions for the sessions, and makes no macros."""

    def __init__(
        self,
        engine: Engine,
        store,
        access: Access,
        served: bool = False,
        caller: str | None = None,
    ):
        self.engine, self.store = engine, store
        self.access = access
        self.served = served
        self.caller = caller
        self._aliases: dict[str, str] = {}  # this connection's macros -> what they call
        self._fingerprint: tuple | None = None
        self._owners: dict[str, str] = {}  # registered function -> its model, "schema.name"
        # Functions removed because their model went away -> that model: a call to one is
        # told the model is gone, not offered another model's function by the database.
        self.retired: dict[str, str] = {}
        self.failed: dict[str, str] = {}  # function -> why it could not be registered

    def invalidate(self) -> None:
        """Rebuild everything at the next sync: a ROLLBACK undid the connection's temporary
        macros and views made inside the transaction."""
        self._fingerprint = None
        self._aliases.clear()

    def sync(self, force: bool = False) -> None:
        self.access.refresh()
        fingerprint = (
            self.store.fingerprint(),
            J.fingerprint(self.store),
            self.access.fingerprint(),
        )
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
        self._register_explain_model(registered, models, fingerprint)
        for name, (directory, manifest, spec) in wanted.items():
            if registered.get(name) == self._token(manifest["package_id"]):
                continue
            try:
                self._register(name, directory, manifest, spec)
            except Exception as e:  # noqa: BLE001 -- a bad manifest may fail in any way
                # One unreadable model must not cost the others their functions, nor the
                # connection its statements (DROP MODEL removes it). A call to it says why.
                log.warning("function %s not registered: %s", name, e)
                where = f"{manifest['schema']}.{manifest['name']}"
                self.failed[name] = f"Function {name} of model {where} cannot be used: {e}"
        self._sync_aliases(wanted)
        visible = [(d, m) for d, m in models if self.access.may_execute(m)]
        self.engine.publish_model_info(
            [(m["schema"], m["name"], m.get("owner") or "", m["state"]) for _, m in visible]
        )
        self.engine.publish_leaderboards(list(_leaderboards(visible)))
        self.engine.publish_forecasts(dict(_forecasts(visible)))
        self.engine.publish_model_privileges(self._privilege_rows(models))
        self._fingerprint = fingerprint

    def _token(self, token: str) -> str:
        """What a function is registered with: a served database's take the caller first."""
        return f"{token}#caller" if self.served else token

    def _sync_aliases(self, wanted: dict[str, tuple]) -> None:
        """This session's macros: in a served session one per registered model function (and
        explain_model), passing its key first; in an embedded one, one per function whose last
        parameters may be left out (``FunctionSpec.optional``), passing NULL for them."""
        if self.served and self.caller is None:
            return  # the server's own connection: no session to make macros for
        registered = self.engine.registered_functions()
        parameters = {
            name: ([f["name"] for f in m["features"]], spec.optional)
            for name, (_, m, spec) in wanted.items()
            if self.caller is not None or spec.optional
        }
        if self.caller is not None:
            parameters[explain_model.FUNCTION] = (["model"], 0)
        for name in list(self._aliases):
            if name not in registered or name not in parameters:
                self.engine.drop_alias(name)
                del self._aliases[name]
        for name, (names, optional) in parameters.items():
            token = registered.get(name)
            if token is not None and self._aliases.get(name) != token:
                self.engine.alias_function(name, names, self.caller, optional)
                self._aliases[name] = token

    def _privilege_rows(self, models: list[tuple[Path, dict]]) -> list[tuple]:
        """``svv_ml_model_privileges``: the EXECUTE grants on existing models, all of them for
        superusers, else those on the user's models or to the user's identities."""
        by_key = {(m["schema"].lower(), m["name"].lower()): m for _, m in models}
        privileges = self.access.privileges
        mine = set() if self.access.user is None else privileges.identities(self.access.user)
        rows = []
        for grant in privileges.model_grants():
            manifest = by_key.get((grant["model"][0].lower(), grant["model"][1].lower()))
            kind, name = grant["grantee"]
            if manifest is None:
                continue
            if not self.access.administers(manifest) and (kind, name) not in mine:
                continue
            rows.append(
                (
                    manifest["schema"],
                    manifest["name"],
                    "EXECUTE",
                    privileges.ids.get(f"{kind}:{name}", 0),
                    "public" if kind == "public" else name,
                    kind,
                    bool(grant.get("grant_option")) and kind == "user",
                )
            )
        return sorted(rows)

    def call_arguments(self, arguments: str) -> str:
        """The argument types of a failed call as the engine printed them, without the
        caller's key a served session's macro put first."""
        if not self.served:
            return arguments
        return arguments.split(",", 1)[1] if "," in arguments else ""

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

    def _register_explain_model(
        self, registered: dict[str, str], models: list[tuple[Path, dict]], fingerprint: tuple
    ) -> None:
        token = f"{explain_model.FUNCTION}:{self.store.root}"
        if self.engine.remote_packages():
            # The executors cannot list the store: they get today's models, each READY one
            # at the location of its copy, and a new function whenever the models change.
            token += f":{hash(fingerprint)}"
        token = self._token(token)
        if registered.get(explain_model.FUNCTION) != token:
            if self.engine.remote_packages():
                located = [(self._location(d, m), m) for d, m in models]
                fn = explain_model.function(lambda: located)
            else:
                store = self.store
                fn = explain_model.function(lambda: catalog.list_models(store))
            parameters = [catalog.Column("model", self.engine.sql_type(pa.string()), pa.string())]
            if self.served:
                fn, parameters = _guarded_explain(fn), [_caller(), *parameters]
            self.engine.register_function(explain_model.FUNCTION, token, fn, parameters, pa.json_())

    def _register(self, name: str, directory: Path, manifest: dict, spec: FunctionSpec) -> None:
        features, target = catalog.columns(manifest, self.engine)
        if manifest["state"] == "READY":
            fn = _predict(
                self.engine.package_location(directory, manifest),
                catalog.with_arrow_types(manifest, self.engine),
                spec.method,
            )
        else:
            fn = self._not_ready(name, directory, manifest)
        if spec.returns == TARGET:
            returns = target
            if returns is None:
                default = kinds.for_manifest(manifest).default_target_type()
                returns = catalog.Column("", self.engine.sql_type(default), default)
        else:
            returns = spec.returns
        if self.served:
            fn, features = _guarded(fn, name, manifest), [_caller(), *features]
        token = self._token(manifest["package_id"])
        self.engine.register_function(name, token, fn, features, returns, spec.volatile)
        self._owners[name] = f"{manifest['schema']}.{manifest['name']}"
        self.retired.pop(name, None)
        self.failed.pop(name, None)

    def _location(self, directory: Path, manifest: dict) -> Path | str:
        """Where the engine's workers read a READY package (a copy's location, or the folder);
        a model whose copy cannot be made keeps its folder, and explaining it says why."""
        if manifest["state"] != "READY":
            return directory
        try:
            return self.engine.package_location(directory, manifest)
        except SqlmlError as e:
            log.warning("%s.%s not copied: %s", manifest["schema"], manifest["name"], e)
            return directory

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


def _guarded(fn, name: str, manifest: dict):
    """``fn`` of a served database: its first argument is the caller's key, whose session
    must be allowed to execute the model."""

    def call(columns: list) -> pa.Array:
        access = CALLERS.of(columns[0], name)
        if access is not None:
            access.require_execute(manifest, f"calling {name}")
        return fn(columns[1:])

    return call


def _guarded_explain(fn):
    """explain_model of a served database: the caller's session must be allowed to execute
    every model it explains (checked once it knows which, by ``explain_model.function``)."""

    def call(columns: list) -> pa.Array:
        access = CALLERS.of(columns[0], explain_model.FUNCTION)
        return fn(columns[1:], access)

    return call


def _leaderboards(models: list[tuple[Path, dict]]):
    """(schema, model, checked leaderboard file) of each READY model that has one."""
    for directory, m in models:
        name = m.get("model", {}).get("leaderboard") if m["state"] == "READY" else None
        if name:
            try:
                yield m["schema"], m["name"], PackageFolder(directory, m) / name
            except CorruptModelPackage as e:
                log.warning("leaderboard of %s.%s not shown: %s", m["schema"], m["name"], e)


def _forecasts(models: list[tuple[Path, dict]]):
    """(view name, checked forecast file) of each READY FORECAST model."""
    for directory, m in models:
        model = m.get("model", {}) if m["state"] == "READY" else {}
        if m.get("kind") == "forecast" and model.get("forecast") and model.get("view"):
            try:
                yield model["view"], PackageFolder(directory, m) / model["forecast"]
            except CorruptModelPackage as e:
                log.warning("forecast of %s.%s not shown: %s", m["schema"], m["name"], e)


def _predict(directory: Path | str, manifest: dict, method: str):
    """The function computing ``method`` ("predict", "probabilities" or "explain") of the
    model's predictor, loaded once per process."""

    def call(columns: list) -> pa.Array:
        # Imported at the first call: a session that predicts nothing never loads it.
        from sqlml.runtime.predictor import load_predictor

        return getattr(load_predictor(directory, manifest), method)(columns)

    return call
