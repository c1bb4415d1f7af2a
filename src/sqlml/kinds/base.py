"""The model-kind interface: what a kind of model is, from CREATE MODEL to SHOW MODEL.

A kind (AUTO ON, AUTO OFF XGBoost, K-means, ...) says which CREATE MODEL statements it takes and
checks them, fills in its part of the manifest from the FROM query's columns, trains in the
trainer process (given the data, the draft manifest and a deadline), loads its package into a
predictor, names the SQL functions the model provides, and says what SHOW MODEL and
explain_model show of it. MLflow's flavors, applied to training as well as loading: the
manifest's ``kind`` names the implementation, through the registry in ``kinds/__init__``.

Kind modules import their learning libraries only inside ``train`` and ``load``: the session
imports every kind to route statements, and a queued trainer process must stay small.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlml import arrowtypes
from sqlml.automl.budget import Deadline
from sqlml.engines.base import Column, Engine
from sqlml.errors import CorruptModelPackage, TrainingDataError
from sqlml.lazy import pa
from sqlml.sql import ast

PROBABILITIES_SUFFIX = "_probabilities"
EXPLAIN_SUFFIX = "_explain"


@functools.cache
def probabilities_type() -> pa.DataType:
    """What the probability function returns: each class with its probability, most probable
    first (as in Redshift, whose SUPER is {"probabilities": [...], "labels": [...]}); read with
    p.labels[1], p.probabilities[1]."""
    return pa.struct([("labels", pa.list_(pa.string())), ("probabilities", pa.list_(pa.float64()))])


@functools.cache
def explanation_type() -> pa.DataType:
    """What the explanation function returns (like BigQuery's ML.EXPLAIN_PREDICT):
    expected_value plus the contributions is value, the prediction (a classifier's probability
    of label)."""
    return pa.struct(
        [
            ("label", pa.string()),
            ("value", pa.float64()),
            ("expected_value", pa.float64()),
            (
                "contributions",
                pa.list_(pa.struct([("feature", pa.string()), ("contribution", pa.float64())])),
            ),
        ]
    )


# What each kind of function is called in messages.
DESCRIPTIONS = {"predict": "prediction", "probabilities": "probability", "explain": "explanation"}
# The return type of a function that returns the model's target column's values.
TARGET = "target"


@dataclass(frozen=True)
class FunctionSpec:
    """A SQL function a model provides: the Predictor method computing it ("predict",
    "probabilities", "explain") and its return type (an Arrow type, or TARGET)."""

    method: str
    returns: pa.DataType | str
    volatile: bool = False  # a remote call: the engine calls it once per row (Engine)
    optional: int = 0  # how many last parameters a call may leave out (NULL is passed)


class Predictor(Protocol):
    """A loaded model: a method per FunctionSpec.method, Arrow arrays in, one Arrow array out."""

    def predict(self, columns: list) -> pa.Array: ...


class TrainedModel(Protocol):
    """What ``ModelKind.train`` returns: its package writer and what the manifest records."""

    metrics: dict
    objective: str | None

    def save(self, directory: Path) -> dict: ...


@dataclass
class Draft:
    """What a kind sees of a CREATE MODEL statement once the FROM query is known."""

    stmt: ast.CreateModel
    columns: list[Column]  # every column of the FROM query, in order
    target: str | None  # the TARGET column as spelt in the query
    query: str
    engine: Engine

    @property
    def where(self) -> str:
        return f"CREATE MODEL {self.stmt.name}"

    @property
    def features(self) -> list[Column]:
        return [c for c in self.columns if c.name != self.target]


class ModelKind(ABC):
    name: str  # the manifest's ``kind``
    libraries: tuple[str, ...] = ()  # whose versions the manifest records
    evaluable: bool = False  # EVALUATE MODEL computes its metrics
    # Jobs that search within MAX_RUNTIME (AUTO ON) queue for the "search" slots; the others
    # (one fit of known size: AUTO OFF XGBoost, K-means) have slots of their own, so a short
    # job never waits behind a long search (jobs.training).
    lane: str = "direct"
    # False for models served elsewhere (remote, external): CREATE MODEL writes their package
    # at once (``package``), and SHOW MODEL has no training section for them.
    trained: bool = True

    # -- CREATE MODEL ----------------------------------------------------------------------

    @abstractmethod
    def claims(self, stmt: ast.CreateModel) -> bool:
        """True when this kind trains ``stmt`` (the registry asks kinds in order)."""

    @abstractmethod
    def check(self, stmt: ast.CreateModel) -> None:
        """Refuse what the statement gets wrong before the database is asked anything."""

    @abstractmethod
    def draft(self, draft: Draft) -> dict:
        """Check the statement against the FROM query's columns; return this kind's manifest
        fields (``problem_type`` among them when the kind knows it before training)."""

    def default_target_type(self) -> pa.DataType:
        """The type of the prediction of a model trained without a TARGET column."""
        raise TrainingDataError("a TARGET column is required")

    # -- the trainer process ---------------------------------------------------------------

    @abstractmethod
    def train(
        self,
        table: pa.Table,
        draft: dict,
        deadline: Deadline,
        *,
        seed: int,
        on_trial: Callable | None,
        scratch: Path,
    ) -> TrainedModel:
        """Fit on ``table`` (the snapshot) within ``deadline``."""

    # -- a READY model ---------------------------------------------------------------------

    @abstractmethod
    def load(self, directory: Path, manifest: dict) -> Predictor:
        """The package as a predictor, read with each library's own loader."""

    def reads(self, manifest: dict) -> bool:
        """True for a manifest of this kind written before manifests named their kind."""
        return False

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        """Lower-case SQL function name -> what it computes. Every model has its prediction
        function and ``fn_explain``; kinds add or remove."""
        name = manifest["function"]["name"].lower()
        return {
            name: FunctionSpec("predict", TARGET),
            name + EXPLAIN_SUFFIX: FunctionSpec("explain", explanation_type()),
        }

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        """SHOW MODEL's rows particular to the kind, after the PARAMETERS section's common
        ones."""
        return []

    def usage_rows(self, folder: Path, manifest: dict) -> list[tuple[str, str]]:
        """SHOW MODEL's rows on what using the model has cost so far (an external model's
        tokens), read from beside the package in ``folder``."""
        return []

    def explanation(self, directory: Path, manifest: dict) -> str | None:
        """explain_model's document of a READY model; None when there is none."""
        from sqlml.store.integrity import PackageFolder

        name = manifest.get("model", {}).get("explanation")
        folder = PackageFolder(directory, manifest)
        if not name or (folder.files is None and not folder.exists(name)):
            return None  # none written (format 1 packages may lack the file)
        text = (folder / name).read_bytes()
        try:
            json.loads(text)
            return text.decode("utf-8")
        except ValueError as e:  # UnicodeDecodeError is one
            raise CorruptModelPackage(
                f"{folder.where}: file {name!r} is not a JSON explanation ({e})."
            ) from e

    def unavailable_explanation(self, manifest: dict) -> str | None:
        """Why explain_model has nothing for this kind whatever its state, or None."""
        return None


def reserved_names(function: str) -> set[str]:
    """Every name a model with prediction function ``function`` may take, whatever its kind."""
    fn = function.lower()
    return {fn, fn + PROBABILITIES_SUFFIX, fn + EXPLAIN_SUFFIX}


def check_format(manifest: dict, expected: str) -> dict:
    """The manifest's ``model`` section, when it is of the format this sqlml reads."""
    section = manifest.get("model")
    found = section.get("format") if isinstance(section, dict) else None
    if found != expected:
        raise CorruptModelPackage(
            f"Model '{manifest['name']}' has model format {found!r} where {expected!r} was "
            "expected; this version of sqlml cannot load it. Upgrade sqlml."
        )
    return section


def check_numbers(draft: Draft) -> None:
    """Kinds that train on the columns as they are take numbers and booleans only."""
    for column in draft.columns:
        if not arrowtypes.is_number_or_boolean(column.arrow):
            role = "TARGET column" if column.name == draft.target else "column"
            raise TrainingDataError(
                f"{draft.where}: {role} '{column.name}' is {column.sql_type}; AUTO OFF trains on "
                "numbers and booleans as they are. CAST it or encode it in the FROM query, or "
                "use AUTO ON."
            )


def hyperparameter_rows(manifest: dict) -> list[tuple[str, str]]:
    """SHOW MODEL's HYPERPARAMETERS section: every effective value, defaults included, as in
    Redshift."""
    values = manifest.get("hyperparameters")
    if values is None:
        return []
    shown = dict(values)
    if manifest.get("objective"):
        shown["objective"] = manifest["objective"]
    return [("", ""), ("HYPERPARAMETERS:", "")] + [
        (k, _hyperparameter(v)) for k, v in sorted(shown.items())
    ]


def _hyperparameter(value) -> str:
    if isinstance(value, list):  # eval_metrics
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
