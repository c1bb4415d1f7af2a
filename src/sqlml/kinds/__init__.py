"""Kinds of model, and the registry from a manifest's ``kind`` (or a statement) to each.

To add a kind: write a module with a :class:`~sqlml.kinds.base.ModelKind` subclass and add one
line to ``KINDS``. Kinds are asked in order which CREATE MODEL statements they take (the
catch-all AUTO ON kind last), and which manifests written before ``kind`` existed are theirs.
"""

from __future__ import annotations

from sqlml.errors import CorruptModelPackage
from sqlml.kinds.auto import AutoKind
from sqlml.kinds.base import TARGET, FunctionSpec, ModelKind, reserved_names
from sqlml.kinds.external import ExternalKind
from sqlml.kinds.forecast import ForecastKind
from sqlml.kinds.imported import ImportedKind
from sqlml.kinds.kmeans import KMeansKind
from sqlml.kinds.remote import RemoteKind
from sqlml.kinds.xgboost import XGBoostKind
from sqlml.sql import ast

KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ImportedKind(),  # a model from a file (FROM 'path'): nothing to train
        RemoteKind(),
        ExternalKind(),
        ForecastKind(),  # before XGBoost: it takes AUTO OFF, which FORECAST refuses
        KMeansKind(),
        XGBoostKind(),
        AutoKind(),  # last: takes every statement the kinds before it do not
    )
}


def for_statement(stmt: ast.CreateModel) -> ModelKind:
    """The kind that trains ``stmt``."""
    return next(kind for kind in KINDS.values() if kind.claims(stmt))


def kind_name(manifest: dict) -> str:
    """The manifest's kind; for a manifest written before kinds were named, the first kind
    that reads it."""
    name = manifest.get("kind")
    if name is None:
        return next(k.name for k in KINDS.values() if k.reads(manifest))
    return name


def for_manifest(manifest: dict) -> ModelKind:
    name = kind_name(manifest)
    kind = KINDS.get(name)
    if kind is None:
        raise CorruptModelPackage(
            f"Model '{manifest.get('name')}' is of kind {name!r}, which this version of sqlml "
            f"does not know (it knows {', '.join(KINDS)}). Upgrade sqlml."
        )
    return kind


def function_names(manifest: dict) -> dict[str, FunctionSpec]:
    """Lower-case SQL function name -> what it computes, for one model. A model of a kind this
    sqlml does not know keeps every name such a model may take, so that no other model takes
    them meanwhile; so does a BROKEN one, by the name its manifest still shows."""
    if manifest["state"] == "BROKEN":
        function = manifest["function"]["name"]
        return (
            {n: FunctionSpec("predict", TARGET) for n in reserved_names(function)}
            if function
            else {}
        )
    try:
        kind = for_manifest(manifest)
    except CorruptModelPackage:
        return {
            n: FunctionSpec("predict", TARGET) for n in reserved_names(manifest["function"]["name"])
        }
    return kind.functions(manifest)


__all__ = ["KINDS", "ModelKind", "for_manifest", "for_statement", "function_names", "kind_name"]
