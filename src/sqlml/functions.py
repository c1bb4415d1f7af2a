"""The SQL functions a model provides.

Every model has its prediction function (``FUNCTION fn``). A classification model also has
``fn_probabilities``, as in Redshift: the same arguments, returning each class with its
probability, most probable first. Redshift returns a SUPER ``{"probabilities": [...],
"labels": [...]}``; here it is ``STRUCT(labels VARCHAR[], probabilities DOUBLE[])``, read with
``p.labels[1]`` and ``p.probabilities[1]`` (DuckDB lists count from 1, Redshift's from 0).
"""

from __future__ import annotations

PROBABILITIES_SUFFIX = "_probabilities"
PROBABILITIES_TYPE = "STRUCT(labels VARCHAR[], probabilities DOUBLE[])"
CLASSIFICATION = ("BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION")


def provides_probabilities(manifest: dict) -> bool:
    """Classification models do. While a model trains without a PROBLEM_TYPE its kind is not
    known yet, so its probability function's name is reserved (and says the model is not READY)."""
    problem_type = manifest.get("problem_type")
    if problem_type in CLASSIFICATION:
        return True
    return problem_type is None and manifest.get("state") != "READY"


def function_names(manifest: dict) -> dict[str, str]:
    """Lower-case SQL function name -> what it computes ("predict" or "probabilities")."""
    name = manifest["function"]["name"].lower()
    out = {name: "predict"}
    if provides_probabilities(manifest):
        out[name + PROBABILITIES_SUFFIX] = "probabilities"
    return out
