"""AUTO ON (the default): AutoML over a portfolio of learners, an ensemble of the best.

PREPROCESSORS, when given, guides the automatic preprocessing (automl.guidance); MODEL_TYPE
restricts the search to a family; OBJECTIVE picks the validation metric.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlml import arrowtypes, preprocessors
from sqlml import settings as S
from sqlml.automl.budget import Deadline
from sqlml.errors import InvalidSetting, TrainingDataError
from sqlml.kinds.base import (
    PROBABILITIES_SUFFIX,
    Draft,
    FunctionSpec,
    ModelKind,
    probabilities_type,
)
from sqlml.lazy import pa
from sqlml.sql import ast

CLASSIFICATION = ("BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION")

_USES = {
    "NumericPassthrough": "it takes numbers and booleans.",
    "StandardScaler": "it takes numbers and booleans.",
    "MinMax": "it takes numbers and booleans.",
    "Normalizer": "it takes numbers and booleans.",
    "PCA": "it takes numbers and booleans.",
    "DateTimeVectorizer": "it takes DATE and TIMESTAMP columns (CAST a text date first).",
    "OneHotEncoder": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "OrdinalEncoder": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "Imputer": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
    "ImputerWithIndicator": "a DATE or TIMESTAMP column takes DateTimeVectorizer only.",
}


def _fits(transformer: str, arrow_type: pa.DataType) -> bool:
    if arrowtypes.is_date_or_timestamp(arrow_type):
        return transformer == "DateTimeVectorizer"
    if transformer == "DateTimeVectorizer":
        return False
    from sqlml.automl.guidance import NUMERIC_ONLY  # numpy and Arrow compute: load when used

    return transformer not in NUMERIC_ONLY or arrowtypes.is_number_or_boolean(arrow_type)


class AutoKind(ModelKind):
    name = "auto"
    libraries = ("lightgbm", "catboost", "xgboost", "scikit-learn", "numpy", "pyarrow")
    evaluable = True
    lane = "search"

    def claims(self, stmt: ast.CreateModel) -> bool:
        return True

    def reads(self, manifest: dict) -> bool:
        return True

    def check(self, stmt: ast.CreateModel) -> None:
        if stmt.hyperparameters is not None:
            raise InvalidSetting(
                f"CREATE MODEL {stmt.name}: HYPERPARAMETERS is only allowed with AUTO OFF."
            )
        if stmt.objective in S.XGBOOST_OBJECTIVES:
            raise InvalidSetting(
                f"CREATE MODEL {stmt.name}: OBJECTIVE '{stmt.objective}' is an XGBoost objective "
                "for AUTO OFF; with AUTO ON use one of 'MSE', 'Accuracy', 'F1', 'F1Macro', 'AUC'."
            )
        if stmt.objective in S.FORECAST_OBJECTIVES:
            raise InvalidSetting(
                f"CREATE MODEL {stmt.name}: OBJECTIVE '{stmt.objective}' applies to MODEL_TYPE "
                "FORECAST only; add MODEL_TYPE FORECAST or remove the clause."
            )
        if stmt.target is None:
            raise TrainingDataError(
                f"CREATE MODEL {stmt.name}: a TARGET column is required. Name the column to "
                "predict with TARGET col, or add MODEL_TYPE KMEANS to cluster the rows without one."
            )

    def draft(self, draft: Draft) -> dict:
        """The TARGET checked against the data (cheap aggregates: rows, NULLs, distinct values,
        the type against PROBLEM_TYPE and OBJECTIVE), so that these mistakes fail the statement
        instead of a queued job; PREPROCESSORS validated, and each transformer checked against
        the type of the columns it is given (automl.guidance says what each does)."""
        stmt = draft.stmt
        _check_target(draft)
        if stmt.preprocessors is None:
            return {}
        names = [c.name for c in draft.features]
        entries = preprocessors.parse(
            stmt.preprocessors, names, preprocessors.TRANSFORMERS, draft.where
        )
        by_name = {c.name: c for c in draft.columns}
        for columns, transformers in entries or []:
            for name in columns:
                column = by_name[name]
                for transformer in transformers:
                    if not _fits(transformer, column.arrow):
                        raise InvalidSetting(
                            f"{draft.where}: transformer {transformer} does not apply to column "
                            f"'{name}' of type {column.sql_type}: {_USES[transformer]}"
                        )
        return {"preprocessors": stmt.preprocessors, "preprocessor_entries": entries}

    def train(
        self,
        table: pa.Table,
        draft: dict,
        deadline: Deadline,
        *,
        seed: int,
        on_trial: Callable | None,
        scratch: Path,
    ):
        from sqlml.automl.train import train_model

        return train_model(
            table,
            draft["target"],
            problem_type=draft["problem_type"],
            objective=draft["objective"],
            model_type=draft.get("model_type"),
            deadline=deadline,
            seed=seed,
            on_trial=on_trial,
            scratch=scratch,  # the job's folder: removed with the job, whatever happens
            preprocessors=draft.get("preprocessor_entries"),
            max_trials=draft["settings"].get("MAX_TRIALS"),
        )

    def load(self, directory: Path, manifest: dict):
        from sqlml.runtime.predictor import Predictor

        return Predictor.load(directory, manifest)

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        """Classifiers also have ``fn_probabilities``, as in Redshift. While a model trains
        without a PROBLEM_TYPE its problem is not known yet, so the name is reserved (and says
        the model is not READY)."""
        out = super().functions(manifest)
        problem_type = manifest.get("problem_type")
        if problem_type in CLASSIFICATION or (
            problem_type is None and manifest.get("state") != "READY"
        ):
            name = manifest["function"]["name"].lower() + PROBABILITIES_SUFFIX
            out[name] = FunctionSpec("probabilities", probabilities_type())
        return out

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        model = manifest.get("model", {})
        summary = model.get("summary") or {}
        rows = []
        if summary.get("chosen"):
            rows.append(("Chosen Model", summary["chosen"]))
        if summary.get("validation"):
            rows.append(("Validation", summary["validation"]))
        if summary.get("trials"):
            rows.append(("Candidates Tried", str(summary["trials"])))
        if model.get("positive_class") is not None:
            rows.append(("Positive Class", str(model["positive_class"])))
        if model.get("threshold") not in (None, 0.5):
            rows.append(("Decision Threshold", f"{model['threshold']:.4f}"))
        return rows


_CLASSIFICATION_OBJECTIVES = {"Accuracy", "F1", "F1Macro", "AUC"}


def _check_target(draft: Draft) -> None:
    from sqlml.automl.profiling import MIN_ROWS

    stmt, where, target = draft.stmt, draft.where, draft.target
    rows, non_null, distinct = draft.engine.target_summary(draft.query, target)
    if rows == 0:
        raise TrainingDataError(f"{where}: the FROM query returns no rows. Check its filter.")
    if non_null == 0:
        raise TrainingDataError(
            f"{where}: TARGET column '{target}' is NULL in every one of the FROM query's "
            f"{rows} rows."
        )
    if non_null < MIN_ROWS:
        raise TrainingDataError(
            f"{where}: the FROM query has {non_null} rows with a non-NULL TARGET '{target}'; at "
            f"least {MIN_ROWS} are needed."
        )
    if distinct < 2:
        raise TrainingDataError(
            f"{where}: TARGET column '{target}' has the same value in every row; a model needs "
            "at least two classes or values. Check the FROM query's filter."
        )
    arrow = next(c.arrow for c in draft.columns if c.name == target)
    text = not arrowtypes.is_number_or_boolean(arrow)
    objective = S.AUTO_OBJECTIVES.get((stmt.objective or "").upper())
    problem = stmt.problem_type
    if problem == "REGRESSION" and text:
        raise TrainingDataError(
            f"{where}: PROBLEM_TYPE REGRESSION needs a numeric target, but '{target}' is a "
            "string column. Use MULTICLASS_CLASSIFICATION (or BINARY_CLASSIFICATION), or CAST it."
        )
    if problem == "BINARY_CLASSIFICATION" and distinct != 2:
        raise TrainingDataError(
            f"{where}: PROBLEM_TYPE BINARY_CLASSIFICATION needs exactly two distinct target "
            f"values, but '{target}' has {distinct}. Use MULTICLASS_CLASSIFICATION or REGRESSION."
        )
    if objective == "MSE" and (
        text or problem in ("BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION")
    ):
        what = "a string column" if text else f"a {problem} problem"
        raise InvalidSetting(
            f"{where}: OBJECTIVE 'MSE' is for regression, but '{target}' is {what}. Use "
            "'Accuracy', 'F1', 'F1Macro' or 'AUC'."
        )
    if objective in _CLASSIFICATION_OBJECTIVES and problem == "REGRESSION":
        raise InvalidSetting(
            f"{where}: OBJECTIVE '{objective}' scores classes, but PROBLEM_TYPE is REGRESSION. "
            "Use OBJECTIVE 'MSE', or a classification PROBLEM_TYPE."
        )
    if objective in ("F1", "AUC") and distinct != 2 and problem != "REGRESSION":
        raise InvalidSetting(
            f"{where}: OBJECTIVE '{objective}' is for two classes, but TARGET '{target}' has "
            f"{distinct} distinct values. Use 'Accuracy' or 'F1Macro'."
        )
