"""Preprocessing plans: built once from the training data, stored as JSON, replayed at prediction.

A plan turns the feature columns (Arrow arrays, in FROM order) into one float32 matrix (float64
for plans of version 1). Every step
is a vectorized Arrow compute call; nothing here loops over rows in Python. The same ``transform``
runs at training and at prediction time, so the SQL function computes exactly what training saw.

Encodings (for tree learners):

- numeric, boolean: the value as float, NULL as NaN (the learner's missing-value handling);
- categorical: a code per level, levels ordered by frequency; NULL and unseen levels are NaN;
- high-cardinality: the code of the ``TOP_LEVELS`` most frequent levels (rarer seen levels share
  one "other" code), the level's training frequency as a numeric feature (0 when unseen), and the
  level's full code, which only learners with their own statistics for rare levels see;
- text: character count, word count, and the presence of each of the ``TEXT_WORDS`` words that
  appear in the most training rows (case-insensitive, whole words);
- datetime: year, month, day, weekday, day of year (and hour for timestamps), and days since 1970;
- time of day: seconds since midnight.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.automl.guidance import apply_mixes, apply_steps, fit_steps, pca_slots
from sqlml.automl.profiling import ColumnProfile

TOP_LEVELS = 254
MAX_KNOWN_LEVELS = 100_000
# Version 2: the matrix is float32, half the memory of float64 and what XGBoost and CatBoost bin
# from anyway (LightGBM bins the float32 values it is given, and prediction replays the same
# dtype). Version 1 plans keep float64 so that old packages predict exactly as before.
PLAN_VERSION = 2
TEXT_WORDS = 32


def _as_string(column):
    if pa.types.is_dictionary(column.type) or not pa.types.is_string(column.type):
        return pc.cast(column, pa.string())
    return column


def _levels_by_frequency(column, limit: int) -> tuple[list[str], list[int]]:
    counts = (
        pc.value_counts(_as_string(column).drop_null()) if column.null_count < len(column) else []
    )
    pairs = sorted(
        ((c["values"].as_py(), c["counts"].as_py()) for c in counts), key=lambda vc: (-vc[1], vc[0])
    )[:limit]
    return [v for v, _ in pairs], [c for _, c in pairs]


def _words(column):
    return pc.utf8_split_whitespace(pc.utf8_lower(_as_string(column)))


def _frequent_words(column, limit: int) -> list[str]:
    """The words found in the most rows (each row counted once per word)."""
    lists = _words(column.drop_null() if column.null_count else column)
    rows = pc.list_parent_indices(lists)
    words = pc.list_flatten(lists)
    pairs = pa.table({"row": rows, "word": words}).group_by(["row", "word"]).aggregate([])
    counts = pc.value_counts(pairs.column("word"))
    ranked = sorted(
        ((c["values"].as_py(), c["counts"].as_py()) for c in counts), key=lambda wc: (-wc[1], wc[0])
    )
    return [w for w, _ in ranked if w.isalnum()][:limit]


def _text(spec: dict, column) -> list[np.ndarray]:
    text = _as_string(column)
    lists = _words(column)
    out = [_float(pc.utf8_length(text)), _float(pc.list_value_length(lists))]
    lower = pc.utf8_lower(text)
    for word in spec["words"]:
        present = pc.match_substring_regex(lower, pattern=rf"(^|\s){word}(\s|$)")
        out.append(_float(present))
    return out


def _is_timestamp(dtype: pa.DataType) -> bool:
    return pa.types.is_timestamp(dtype)


def build_plan(
    columns: list, profiles: list[ColumnProfile], guidance: dict[str, list[str]] | None = None
) -> dict:
    """The preprocessing plan for tree learners, as JSON-ready data. ``guidance``: the user's
    PREPROCESSORS transformers by column name (automl.guidance); their profiles are already
    the ones the transformers call for."""
    specs, features, categorical, capped, full = [], [], [], [], []
    guidance = guidance or {}
    for index, (column, prof) in enumerate(zip(columns, profiles, strict=True)):
        spec: dict = {"name": prof.name, "kind": prof.kind, "index": index}
        transformers = guidance.get(prof.name)
        if prof.kind == "dropped":
            spec["reason"] = prof.reason
        elif prof.kind == "categorical":
            spec["levels"], _ = _levels_by_frequency(column, prof.distinct)
            categorical.append(len(features))
            features.append(prof.name)
        elif prof.kind == "high_cardinality":
            levels, counts = _levels_by_frequency(column, MAX_KNOWN_LEVELS)
            spec["levels"], spec["frequencies"] = levels, [c / len(column) for c in counts]
            categorical.append(len(features))
            capped.append(len(features))
            full.append(len(features) + 2)
            features += [prof.name, f"{prof.name}__frequency", f"{prof.name}__code"]
        elif prof.kind == "text":
            spec["words"] = _frequent_words(column, TEXT_WORDS)
            features += [f"{prof.name}__chars", f"{prof.name}__words"]
            features += [f"{prof.name}__has_{w}" for w in spec["words"]]
        elif prof.kind == "datetime":
            spec["timestamp"] = _is_timestamp(column.type)
            parts = ["year", "month", "day", "weekday", "dayofyear"]
            parts += ["hour"] if spec["timestamp"] else []
            spec["parts"] = parts + ["epoch_days"]
            features += [f"{prof.name}__{p}" for p in spec["parts"]]
        else:  # numeric, boolean, time
            features.append(prof.name)
        if transformers and prof.kind != "dropped":
            _guide(spec, column, transformers, categorical, features)
        specs.append(spec)
    everything = range(len(features))
    every_level = _view(
        [j for j in everything if j not in capped],
        [j for j in categorical if j not in capped] + full,
    )
    views = {
        "tree": _view([j for j in everything if j not in full], categorical),
        "catboost": every_level,
    }
    if capped:
        # Every level's code as a category, for LightGBM's own categorical splits (the
        # lightgbm_native candidate; without high-cardinality columns it would repeat the tree
        # view). The encoding step (automl.encoding) adds the "target" view.
        views["full"] = every_level
    return {
        "version": PLAN_VERSION,
        "dtype": "float32",
        "columns": specs,
        "features": features,
        "categorical_features": categorical,
        "views": views,
    }


def _guide(spec: dict, column, transformers: list[str], categorical: list, features: list):
    """Record the user's transformers for one column in its spec (automl.guidance)."""
    spec["transformers"] = list(transformers)
    is_category = spec["kind"] in ("categorical", "high_cardinality")
    if is_category and "OrdinalEncoder" in transformers and "OneHotEncoder" not in transformers:
        categorical.remove(features.index(spec["name"]))  # an ordered number, not a category
    first = _parts({"views": True}, spec, column, compile_lookups({"columns": [spec]}))[0]
    extras = fit_steps(first, [] if is_category else transformers)
    if is_category and ("Imputer" in transformers or "ImputerWithIndicator" in transformers):
        extras["impute"] = 0.0  # the most frequent level's code
        extras["indicator"] = "ImputerWithIndicator" in transformers
    spec.update(extras)
    if spec.get("indicator"):
        features.append(f"{spec['name']}__missing")


def _view(columns: list[int], categorical: list[int]) -> dict:
    return {"columns": columns, "categorical": sorted(columns.index(j) for j in categorical)}


def view(plan: dict, name: str) -> tuple[list[int] | None, list[int]]:
    """Column indices of the named view of the feature matrix, and its categorical positions.

    Learners see different columns of one matrix: the capped code of a high-cardinality column
    suits LightGBM and XGBoost, the full code suits CatBoost's ordered target statistics.
    Plans without views (format 1) have one view: every column.
    """
    views = plan.get("views")
    if not views:
        return None, plan["categorical_features"]
    chosen = views[name]
    return chosen["columns"], chosen["categorical"]


def feature_sources(plan: dict) -> list[int]:
    """For every feature of the matrix, the index of the input column it is computed from (a
    date's parts, a text's word flags and a category's frequency all belong to their column)."""
    out = []
    for spec in plan["columns"]:
        kind = spec["kind"]
        if kind == "dropped":
            width = 0
        elif kind == "high_cardinality":
            width = 3 if "views" in plan else 2  # plans of format 1 have no full code
        elif kind == "text":
            width = 2 + len(spec["words"])
        elif kind == "datetime":
            width = len(spec["parts"])
        else:
            width = 1
        width += 1 if spec.get("indicator") else 0
        out += [spec["index"]] * width
    for spec in plan["columns"]:  # target encodings come after every other feature
        out += [spec["index"]] * len(spec.get("target_prior", ()))
    if len(out) != len(plan["features"]):
        raise ValueError("the preprocessing plan's features do not match its columns")
    # A PCA component belongs to its set as a whole: pseudo-column -(g + 1) (explain.py).
    used, _ = pca_slots(plan.get("mixes", []))
    for j, g in used.items():
        out[j] = -(g + 1)
    return out


def _float(column) -> np.ndarray:
    """Numbers as float64, NULL as NaN: Arrow's own conversion of numbers with nulls gives NaN
    for them (one pass, no copy for a float64 column without nulls; this runs per column per
    batch at prediction time)."""
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        column = pc.cast(column, pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def compile_lookups(plan: dict) -> dict:
    """Each categorical column's levels as an Arrow array and frequencies as numpy, built once
    (keyed by the column's index), and its target encoding's means and prior (keyed by
    ``("target", index)``).

    ``transform`` runs per batch at prediction time; rebuilding a value set of thousands of levels
    from JSON lists for every batch would dominate it.
    """
    out = {}
    for spec in plan["columns"]:
        if spec["kind"] in ("categorical", "high_cardinality"):
            freqs = spec.get("frequencies")
            out[spec["index"]] = (
                pa.array(spec["levels"], pa.string()),
                None if freqs is None else np.asarray(freqs),
            )
        if "target_prior" in spec:
            means = np.asarray(spec["target_means"], dtype=np.float64)
            prior = np.asarray(spec["target_prior"], dtype=np.float64)
            out[("target", spec["index"])] = (means.reshape(-1, len(prior)), prior)
    return out


def encode_levels(codes: np.ndarray, means: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Each row's level's row of ``means`` (levels x outputs); ``prior`` where the level is
    unknown (NaN code): a target encoding (automl.encoding)."""
    out = np.repeat(prior[None, :], len(codes), axis=0)
    known = ~np.isnan(codes)
    out[known] = means[codes[known].astype(np.int64)]
    return out


def _categorical(spec: dict, column, lookup: tuple, with_full_code: bool) -> list[np.ndarray]:
    levels, frequencies = lookup
    codes = _float(pc.index_in(_as_string(column), value_set=levels))
    if spec["kind"] == "categorical":
        return [codes]
    known = ~np.isnan(codes)
    freqs = np.zeros(len(codes))
    freqs[known] = frequencies[codes[known].astype(np.int64)]
    parts = [np.minimum(codes, TOP_LEVELS), freqs]
    return parts + [codes] if with_full_code else parts


def _datetime(spec: dict, column) -> list[np.ndarray]:
    if spec["timestamp"] and column.type.tz is not None:
        column = pc.cast(column, pa.timestamp("us", tz="UTC"))
    funcs = {
        "year": pc.year,
        "month": pc.month,
        "day": pc.day,
        "dayofyear": pc.day_of_year,
        "weekday": pc.day_of_week,
        "hour": pc.hour,
    }
    out = [_float(funcs[p](column)) for p in spec["parts"] if p != "epoch_days"]
    if spec["timestamp"]:
        micros = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
        out.append(_float(micros) / 86_400e6)
    else:
        out.append(_float(pc.cast(pc.cast(column, pa.date32()), pa.int32())))
    return out


def _time(column) -> list[np.ndarray]:
    return [_float(pc.cast(pc.cast(column, pa.time64("us")), pa.int64())) / 1e6]


def numeric_matrix(columns: list, dtype=np.float32) -> np.ndarray:
    """Number and boolean columns as they are, one contiguous matrix, NULL as NaN (AUTO OFF
    models: no preprocessing)."""
    n = len(columns[0]) if columns else 0
    out = np.empty((n, len(columns)), dtype=dtype)
    plain, positions = [], []
    for j, column in enumerate(columns):
        piece = _number_piece(column) if n <= TOGETHER_ROWS else None
        if piece is None:
            out[:, j] = _float(column)
        else:
            plain.append(piece)
            positions.append(j)
    _put_numbers(out, plain, positions)
    return out


def _has_steps(spec: dict) -> bool:
    """Whether the user's PREPROCESSORS put steps on this column (automl.guidance)."""
    return "steps" in spec or "impute" in spec or bool(spec.get("indicator"))


def _number_piece(column) -> pa.Array | None:
    """The column as one Arrow array of integers or floats, which ``_numbers_matrix`` converts
    together with the others; None for any other type, or a column in several pieces."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks != 1:
            return None
        column = column.chunk(0)
    return column if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) else None


_NOT_PLAIN = frozenset(("categorical", "high_cardinality", "datetime", "text", "time"))
TOGETHER_ROWS = 16_384  # DuckDB calls prediction functions with 2,048 rows


def _numbers_matrix(columns: list[pa.Array]) -> np.ndarray:
    """Number columns side by side, NULL as NaN, in one conversion: per column it cost a dozen
    Python calls per batch, which the prediction function pays in every DuckDB vector
    (bench/predict.py: 1 % of its throughput). Arrow picks a float type that holds every
    column's values exactly as float64 would after rounding to the plan's dtype (float32 only
    for integers of up to 16 bits and float32 columns)."""
    batch = pa.RecordBatch.from_arrays(columns, names=[str(i) for i in range(len(columns))])
    return batch.to_tensor(null_to_nan=True, row_major=True).to_numpy()


def view_slots(plan: dict, columns: list[int]) -> list[int] | None:
    """For ``transform``'s ``slots``: where each feature goes in the matrix of the view made of
    ``columns`` (feature indices), -1 for a feature it leaves out. None when the view cannot
    be computed on its own: the user's Normalizer and PCA mix all features first."""
    if plan.get("mixes"):
        return None
    slots = [-1] * len(plan["features"])
    for position, feature in enumerate(columns):
        slots[feature] = position
    return slots


def transform(
    plan: dict, columns: list, lookups: dict | None = None, slots: list[int] | None = None
) -> np.ndarray:
    """The feature matrix for ``columns`` (one Arrow array per feature column, in FROM order).

    Pass ``lookups`` from ``compile_lookups(plan)`` when transforming many batches, and
    ``slots`` from ``view_slots`` to compute one view's matrix directly (a prediction batch
    then skips building the whole matrix and copying the view out of it).
    """
    if slots is not None and plan.get("mixes"):
        raise ValueError("A plan with Normalizer or PCA steps computes every feature (no slots).")
    lookups = compile_lookups(plan) if lookups is None else lookups
    n = len(columns[0]) if columns else 0
    width = len(plan["features"]) if slots is None else len(slots) - slots.count(-1)
    out = np.empty((n, width), dtype=np.dtype(plan.get("dtype", "float64")))
    # Numbers copied as they are are converted together below, for prediction-sized batches
    # (a whole training table would need a second, float64 copy of its numbers at once).
    together = n <= TOGETHER_ROWS
    plain, positions = [], []
    encoded = []  # (spec, level codes) of the target-encoded columns
    j = 0
    for spec in plan["columns"]:
        if spec["kind"] == "dropped":
            continue
        column = columns[spec["index"]]
        # A number column that becomes one feature as it is (no PREPROCESSORS step).
        plain_kind = together and spec["kind"] not in _NOT_PLAIN and not _has_steps(spec)
        piece = _number_piece(column) if plain_kind else None
        if piece is not None:
            target = j if slots is None else slots[j]
            if target >= 0:
                plain.append(piece)
                positions.append(target)
            j += 1
            continue
        parts = _parts(plan, spec, column, lookups)
        if "target_prior" in spec:  # encoded from the level's full code, the last part
            encoded.append((spec, parts[-1]))
        if _has_steps(spec):
            first = apply_steps(spec, parts[0])  # the user's PREPROCESSORS
            parts = [first[0], *parts[1:], *first[1:]]  # an indicator goes last
        for part in parts:
            target = j if slots is None else slots[j]
            if target >= 0:
                out[:, target] = part
            j += 1
    for spec, codes in encoded:  # target encodings (automl.encoding), after every feature
        means, prior = lookups[("target", spec["index"])]
        values = encode_levels(codes, means, prior)
        for k in range(len(prior)):
            target = j if slots is None else slots[j]
            if target >= 0:
                out[:, target] = values[:, k]
            j += 1
    _put_numbers(out, plain, positions)
    if plan.get("mixes"):  # the user's Normalizer and PCA
        apply_mixes(plan["mixes"], out)
    return out


def _put_numbers(out: np.ndarray, pieces: list[pa.Array], positions: list[int]) -> None:
    """Write the number columns ``pieces`` into columns ``positions`` of ``out``, converted
    together (``_numbers_matrix``). Consecutive positions are written as a slice, which numpy
    copies into several times faster than into a list of columns."""
    if not pieces:
        return
    first, last = positions[0], positions[-1]
    consecutive = positions == list(range(first, last + 1))
    out[:, slice(first, last + 1) if consecutive else positions] = _numbers_matrix(pieces)


def _parts(plan: dict, spec: dict, column, lookups: dict) -> list[np.ndarray]:
    """The features computed from one column, before the user's steps."""
    kind = spec["kind"]
    if kind in ("categorical", "high_cardinality"):
        return _categorical(spec, column, lookups[spec["index"]], "views" in plan)
    if kind == "datetime":
        return _datetime(spec, column)
    if kind == "text":
        return _text(spec, column)
    if kind == "time":
        return _time(column)
    return [_float(column)]
