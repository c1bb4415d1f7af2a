"""AUTO ON (the default): AutoML over a portfolio of learners, an ensemble of the best.

PREPROCESSORS, when given, guides the automatic preprocessing (automl.guidance); MODEL_TYPE
restricts the search to a family; OBJECTIVE picks the validation metric.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from sqlml import arrowtypes, preprocessors
from sqlml import settings as S
from sqlml.automl.budget import Deadline
from sqlml.automl.guidance import NUMERIC_ONLY
from sqlml.errors import FeatureNotSupported, InvalidSetting, TrainingDataError
from sqlml.kinds.base import PROBABILITIES, PROBABILITIES_SUFFIX, Draft, FunctionSpec, ModelKind
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
    return transformer not in NUMERIC_ONLY or arrowtypes.is_number_or_boolean(arrow_type)


class AutoKind(ModelKind):
    name = "auto"
    libraries = ("lightgbm", "catboost", "xgboost", "scikit-learn", "numpy", "pyarrow")
    evaluable = True

    def claims(self, stmt: ast.CreateModel) -> bool:
        return True

    def reads(self, manifest: dict) -> bool:
        return True

    def check(self, stmt: ast.CreateModel) -> None:
        if stmt.model_type == "FORECAST":
            raise FeatureNotSupported(
                f"CREATE MODEL {stmt.name}: MODEL_TYPE {stmt.model_type} is not supported yet; "
                "use MODEL_TYPE XGBOOST, MLP or LINEAR_LEARNER, or leave it out."
            )
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
            raise FeatureNotSupported(
                f"CREATE MODEL {stmt.name}: OBJECTIVE '{stmt.objective}' (FORECAST models) is not "
                "supported yet; remove the clause."
            )
        if stmt.target is None:
            raise TrainingDataError(
                f"CREATE MODEL {stmt.name}: a TARGET column is required (only KMEANS models "
                "are trained without one)."
            )

    def draft(self, draft: Draft) -> dict:
        """PREPROCESSORS under AUTO ON: validated, and each transformer checked against the
        type of the columns it is given (automl.guidance says what each does)."""
        stmt = draft.stmt
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
            out[name] = FunctionSpec("probabilities", PROBABILITIES)
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
