"""The SQL functions a model provides.

Every model has its prediction function (``FUNCTION fn``) and ``fn_explain``, the same arguments
returning each input column's contribution to the prediction (like BigQuery's
ML.EXPLAIN_PREDICT): ``STRUCT(label, value, expected_value, contributions)``, where
``expected_value`` plus the contributions is ``value``, the prediction (a regression model's
value, a classifier's probability of ``label``). A classification model also has
``fn_probabilities``, as in Redshift: the same arguments, returning each class with its
probability, most probable first. Redshift returns a SUPER ``{"probabilities": [...],
"labels": [...]}``; here it is ``STRUCT(labels VARCHAR[], probabilities DOUBLE[])``, read with
``p.labels[1]`` and ``p.probabilities[1]`` (DuckDB lists count from 1, Redshift's from 0).
"""

from __future__ import annotations

PROBABILITIES_SUFFIX = "_probabilities"
PROBABILITIES_TYPE = "STRUCT(labels VARCHAR[], probabilities DOUBLE[])"
EXPLAIN_SUFFIX = "_explain"
EXPLAIN_TYPE = (
    "STRUCT(label VARCHAR, value DOUBLE, expected_value DOUBLE, "
    "contributions STRUCT(feature VARCHAR, contribution DOUBLE)[])"
)
RETURN_TYPES = {"probabilities": PROBABILITIES_TYPE, "explain": EXPLAIN_TYPE}
# What each kind of function is called in messages.
DESCRIPTIONS = {"predict": "prediction", "probabilities": "probability", "explain": "explanation"}
CLASSIFICATION = ("BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION")


def provides_probabilities(manifest: dict) -> bool:
    """Classification models do. While a model trains without a PROBLEM_TYPE its kind is not
    known yet, so its probability function's name is reserved (and says the model is not READY)."""
    if manifest.get("auto") is False:  # as in Redshift: AUTO ON classifiers only
        return False
    problem_type = manifest.get("problem_type")
    if problem_type in CLASSIFICATION:
        return True
    return problem_type is None and manifest.get("state") != "READY"


def function_names(manifest: dict) -> dict[str, str]:
    """Lower-case SQL function name -> what it computes: "predict", "probabilities" or
    "explain" (the Predictor method of that name)."""
    name = manifest["function"]["name"].lower()
    out = {name: "predict"}
    if provides_probabilities(manifest):
        out[name + PROBABILITIES_SUFFIX] = "probabilities"
    if manifest.get("model_type") != "KMEANS":  # a cluster id has no contributions
        out[name + EXPLAIN_SUFFIX] = "explain"
    return out


def reserved_names(function: str) -> set[str]:
    """Every name a model with prediction function ``function`` may take."""
    fn = function.lower()
    return {fn, fn + PROBABILITIES_SUFFIX, fn + EXPLAIN_SUFFIX}
