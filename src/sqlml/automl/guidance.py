"""PREPROCESSORS under AUTO ON: the user's transformers for the columns they name; every other
column is still profiled and encoded automatically (reference §2.3, §2.5).

What each transformer does to a named column, in the tree-family plan (the linear and neural
learners' dense encoding is computed from it, as for every column):

- ``OneHotEncoder``: the column is categorical, whatever its type (numbers become levels): native
  categorical splits for the boosters, one-hot columns for the linear and neural learners;
- ``OrdinalEncoder``: the column's levels become one ordered number (levels by frequency);
- ``NumericPassthrough``: the value as a number, never profiled away;
- ``DateTimeVectorizer``: calendar parts and days since 1970 of a DATE or TIMESTAMP;
- ``StandardScaler``, ``MinMax``: the number shifted and scaled (fitted on the training rows);
- ``Imputer``: NULL becomes the training mean (a category's most frequent level);
- ``ImputerWithIndicator``: the same, plus a 0/1 feature saying the value was NULL.

``Normalizer`` and ``PCA`` mix several columns into one row vector; they are not supported yet.
A column the user names is kept even when the profiler would drop it (an identifier-like
string), unless it is NULL in every row.
"""

from __future__ import annotations

import numpy as np

from sqlml.automl.profiling import ColumnProfile

AUTO_ON_TRANSFORMERS = (
    "OneHotEncoder",
    "OrdinalEncoder",
    "NumericPassthrough",
    "Imputer",
    "ImputerWithIndicator",
    "StandardScaler",
    "MinMax",
    "DateTimeVectorizer",
)
NOT_SUPPORTED_YET = ("Normalizer", "PCA")
NUMERIC_ONLY = ("NumericPassthrough", "StandardScaler", "MinMax")
SCALERS = ("StandardScaler", "MinMax")


def by_column(entries: list | None) -> dict[str, list[str]]:
    """Column name -> its transformers, from parsed PREPROCESSORS entries."""
    out: dict[str, list[str]] = {}
    for columns, transformers in entries or []:
        for name in columns:
            out[name] = list(transformers)
    return out


def guided_profile(profile: ColumnProfile, transformers: list[str]) -> ColumnProfile:
    """The profile the user's transformers call for."""
    if profile.reason == "all values are NULL":
        return profile
    if "OneHotEncoder" in transformers or "OrdinalEncoder" in transformers:
        kind = "categorical"
    elif "DateTimeVectorizer" in transformers:
        kind = "datetime"
    elif any(t in transformers for t in NUMERIC_ONLY):
        kind = "numeric"
    elif profile.kind == "dropped":
        kind = "categorical"  # named, so kept: an identifier-like string's levels
    else:
        kind = profile.kind
    return ColumnProfile(profile.name, kind, profile.null_fraction, profile.distinct)


def fit_steps(values: np.ndarray, transformers: list[str]) -> dict:
    """The plan entries for one feature's value: ``steps`` (shift, scale) in order,
    ``impute`` (the value NULL becomes) and ``indicator``. ``values`` is the feature as the plan
    computes it (NaN for NULL)."""
    out: dict = {}
    x = values.astype(np.float64)
    steps = []
    for name in transformers:
        if name not in SCALERS:
            continue
        seen = x[~np.isnan(x)]
        if name == "StandardScaler":
            shift, scale = (float(seen.mean()), float(seen.std())) if len(seen) else (0.0, 1.0)
        else:
            shift, scale = (
                (float(seen.min()), float(seen.max() - seen.min())) if len(seen) else (0.0, 1.0)
            )
        steps.append([shift, scale if scale > 0 else 1.0])
        x = (x - steps[-1][0]) / steps[-1][1]
    if steps:
        out["steps"] = steps
    if "Imputer" in transformers or "ImputerWithIndicator" in transformers:
        seen = x[~np.isnan(x)]
        out["impute"] = float(seen.mean()) if len(seen) else 0.0
    if "ImputerWithIndicator" in transformers:
        out["indicator"] = True
    return out


def apply_steps(spec: dict, value: np.ndarray) -> list[np.ndarray]:
    """The feature after the user's steps, and its indicator when asked for."""
    missing = np.isnan(value)
    for shift, scale in spec.get("steps", ()):
        value = (value - shift) / scale
    if "impute" in spec:
        value = np.where(missing, spec["impute"], value)
    return [value, missing.astype(np.float64)] if spec.get("indicator") else [value]
