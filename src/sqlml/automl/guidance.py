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

- ``Normalizer``: the set's numbers, as one vector per row, scaled to unit length;
- ``PCA``: the set's numbers replaced by the principal components that keep 95 % of their
  variance (fitted on the training rows, NULL as the column's mean). Explanations credit a
  component to the set as a whole, named ``PCA(a, b, ...)``.

A column the user names is kept even when the profiler would drop it (an identifier-like
string), unless it is NULL in every row. Normalizer and PCA run after the per-column steps, in
the order the entry lists them, on the matrix of features (``fit_mixes``, ``apply_mixes``).
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
    "Normalizer",
    "PCA",
)
NUMERIC_ONLY = ("NumericPassthrough", "StandardScaler", "MinMax", "Normalizer", "PCA")
MIXERS = ("Normalizer", "PCA")
PCA_VARIANCE = 0.95
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


def fit_scaler(name: str, x: np.ndarray) -> tuple[float, float]:
    """(shift, scale) of StandardScaler (mean, standard deviation) or MinMax (minimum, range)
    over the non-NaN values of ``x``; a zero scale becomes 1."""
    seen = x[~np.isnan(x)]
    if not len(seen):
        return 0.0, 1.0
    if name == "StandardScaler":
        shift, scale = float(seen.mean()), float(seen.std())
    else:
        shift, scale = float(seen.min()), float(seen.max() - seen.min())
    return shift, scale if scale > 0 else 1.0


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
        steps.append(list(fit_scaler(name, x)))
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


def fit_mixes(plan: dict, X: np.ndarray, entries: list | None) -> list[dict]:
    """The Normalizer and PCA steps of the PREPROCESSORS ``entries``, fitted on the training
    matrix ``X`` (``transform``'s output before any mix): each names the features it reads."""
    first = {}
    for j, name in enumerate(plan["features"]):
        first.setdefault(name, j)  # a column's own feature (not its __missing indicator)
    mixes = []
    for columns, transformers in entries or []:
        features = [first[c] for c in columns if c in first]
        for name in transformers:
            if name not in MIXERS or not features:
                continue
            mix = {"op": name, "features": features, "columns": list(columns)}
            if name == "PCA":
                mix.update(_fit_pca(_apply(mixes, X)[:, features]))
            mixes.append(mix)
    return mixes


def _fit_pca(Xf: np.ndarray) -> dict:
    Xf = Xf.astype(np.float64)
    seen = ~np.isnan(Xf)
    fill = np.nansum(Xf, axis=0) / np.maximum(seen.sum(axis=0), 1)
    Xf = np.where(seen, Xf, fill)
    mean = Xf.mean(axis=0)
    _, singular, vt = np.linalg.svd(Xf - mean, full_matrices=False)
    variance = singular**2
    share = np.cumsum(variance) / variance.sum() if variance.sum() > 0 else np.ones(len(singular))
    k = int(np.searchsorted(share, PCA_VARIANCE) + 1)
    return {"fill": fill.tolist(), "mean": mean.tolist(), "components": vt[:k].tolist()}


def _apply(mixes: list[dict], X: np.ndarray) -> np.ndarray:
    out = X.copy()
    apply_mixes(mixes, out)
    return out


def apply_mixes(mixes: list[dict], X: np.ndarray) -> None:
    """Normalizer and PCA, in place on the feature matrix ``X``."""
    for mix in mixes:
        f = mix["features"]
        Xf = X[:, f].astype(np.float64)
        if mix["op"] == "Normalizer":
            norm = np.sqrt(np.nansum(Xf**2, axis=1, keepdims=True))
            X[:, f] = np.where(norm > 0, Xf / np.where(norm > 0, norm, 1.0), Xf)
        else:
            Xf = np.where(np.isnan(Xf), np.asarray(mix["fill"]), Xf)
            components = np.asarray(mix["components"])
            Z = (Xf - np.asarray(mix["mean"])) @ components.T
            X[:, f[: len(components)]] = Z
            X[:, f[len(components) :]] = 0.0  # unused slots, outside every view


def pca_slots(mixes: list[dict]) -> tuple[dict[int, int], set[int]]:
    """Features holding a PCA component (feature -> PCA number), and the unused slots."""
    used, unused, g = {}, set(), 0
    for mix in mixes:
        if mix["op"] == "PCA":
            k = len(mix["components"])
            used.update({j: g for j in mix["features"][:k]})
            unused.update(mix["features"][k:])
            g += 1
    return used, unused


def pca_names(mixes: list[dict]) -> list[str]:
    return [f"PCA({', '.join(m['columns'])})" for m in mixes if m["op"] == "PCA"]


def finish_plan(plan: dict, mixes: list[dict]) -> None:
    """Record ``mixes`` in the plan: PCA's unused slots leave every view, its components are
    named ``pcaG_I``."""
    if not mixes:
        return
    plan["mixes"] = mixes
    used, unused = pca_slots(mixes)
    order: dict[int, int] = {}
    for j, g in used.items():
        order[g] = order.get(g, -1) + 1
        plan["features"][j] = f"pca{g}_{order[g]}"
    for name, chosen in plan.get("views", {}).items():
        categorical = {chosen["columns"][p] for p in chosen["categorical"]}
        columns = [j for j in chosen["columns"] if j not in unused]
        plan["views"][name] = {
            "columns": columns,
            "categorical": sorted(columns.index(j) for j in categorical if j in columns),
        }
