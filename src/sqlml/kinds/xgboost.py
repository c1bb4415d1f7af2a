"""AUTO OFF MODEL_TYPE XGBOOST (Redshift's expert mode, reference §2.6): one XGBoost booster
with the user's objective and hyperparameters on the columns as they are (automl.expert)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlml import hyperparameters
from sqlml import settings as S
from sqlml.automl.budget import Deadline
from sqlml.errors import InvalidSetting, TrainingDataError
from sqlml.kinds.base import Draft, ModelKind, check_format, check_numbers
from sqlml.lazy import np, pa
from sqlml.sql import ast


def check_auto_off(stmt: ast.CreateModel, where: str) -> None:
    """The rules every AUTO OFF statement follows, whatever its MODEL_TYPE."""
    if stmt.problem_type is not None:
        raise InvalidSetting(
            f"{where}: PROBLEM_TYPE is not allowed with AUTO OFF; the XGBoost OBJECTIVE decides "
            "the kind of model. Remove PROBLEM_TYPE."
        )
    if "MAX_TRIALS" in stmt.settings_dict:
        raise InvalidSetting(
            f"{where}: SETTINGS MAX_TRIALS limits the AUTO ON search; AUTO OFF trains one model. "
            "Remove MAX_TRIALS."
        )


def boolean_target(manifest: dict) -> bool:
    return manifest.get("arrow_types", {}).get(manifest["target"]) == "bool"


class XGBoostPredictor:
    """What the prediction function returns follows the objective (automl.expert); the
    explanation is XGBoost's TreeSHAP in the margin space."""

    def __init__(self, model):
        self.model = model

    def predict(self, columns: list) -> pa.Array:
        return self.model.predict(columns)

    def explain(self, columns: list) -> pa.Array:
        import pyarrow.compute as pc  # 40 ms to import: only where used, not at start-up

        from sqlml.runtime.predictor import explanation_array

        n = len(columns[0]) if columns else 0
        if n == 0:
            return explanation_array(None, pa.nulls(0, pa.string()), np.zeros(0, np.int64))
        found = self.model.explain(columns)
        labels = pc.cast(self.model.predict(columns), pa.string())
        if self.model.objective.startswith("reg:"):
            labels = pa.nulls(n, pa.string())
        return explanation_array(found, labels, np.zeros(n, dtype=np.int64))


class XGBoostKind(ModelKind):
    name = "xgboost"
    libraries = ("xgboost", "numpy", "pyarrow")

    def claims(self, stmt: ast.CreateModel) -> bool:
        return stmt.auto is False

    def reads(self, manifest: dict) -> bool:
        return manifest.get("auto") is False and manifest.get("model_type") == "XGBOOST"

    def check(self, stmt: ast.CreateModel) -> None:
        """Redshift's rules for AUTO OFF (reference §2.2, §2.6), each broken one named."""
        where = f"CREATE MODEL {stmt.name}"
        if stmt.model_type is None:
            raise InvalidSetting(
                f"{where}: AUTO OFF needs MODEL_TYPE XGBOOST (or KMEANS): with AUTO OFF you say "
                "what to train."
            )
        if stmt.model_type in ("MLP", "LINEAR_LEARNER"):
            raise InvalidSetting(
                f"{where}: MODEL_TYPE {stmt.model_type} is trained with AUTO ON only (as in "
                "Redshift); remove AUTO OFF and HYPERPARAMETERS, or use MODEL_TYPE XGBOOST."
            )
        check_auto_off(stmt, where)
        if stmt.objective is None or stmt.objective not in S.XGBOOST_OBJECTIVES:
            given = "no OBJECTIVE" if stmt.objective is None else f"OBJECTIVE '{stmt.objective}'"
            raise InvalidSetting(
                f"{where}: AUTO OFF MODEL_TYPE XGBOOST needs an XGBoost OBJECTIVE, one of "
                f"{', '.join(repr(o) for o in S.XGBOOST_OBJECTIVES)}; got {given}."
            )
        if stmt.hyperparameters is None:
            raise InvalidSetting(
                f"{where}: AUTO OFF needs HYPERPARAMETERS DEFAULT, or HYPERPARAMETERS DEFAULT "
                "EXCEPT (KEY 'value', ...)."
            )
        if stmt.preprocessors is None or stmt.preprocessors.strip().lower() != "none":
            given = (
                "PREPROCESSORS was not given"
                if stmt.preprocessors is None
                else f"got PREPROCESSORS '{stmt.preprocessors}'"
            )
            raise InvalidSetting(
                f"{where}: AUTO OFF MODEL_TYPE XGBOOST trains on the columns as they are and "
                f"needs PREPROCESSORS 'none'; {given}."
            )
        if stmt.target is None:
            raise TrainingDataError(f"{where}: a TARGET column is required for MODEL_TYPE XGBOOST.")

    def draft(self, draft: Draft) -> dict:
        """The hyperparameters' effective values, checked, and the target checked against the
        objective, before anything is trained."""
        from sqlml.automl import expert

        check_numbers(draft)
        stmt = draft.stmt
        values = hyperparameters.resolve(
            "XGBOOST", stmt.objective, stmt.hyperparameters, draft.where
        )
        low, high, integral = draft.engine.numeric_summary(draft.query, draft.target)
        expert.check_target(
            stmt.objective, values.get("num_class"), low, high, integral, draft.target, draft.where
        )
        return {
            "hyperparameters": values,
            "preprocessors": "none",
            "problem_type": expert.problem_type(stmt.objective),
        }

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
        from sqlml.automl.expert import train_xgboost

        return train_xgboost(
            table,
            draft["target"],
            boolean_target(draft),
            draft["objective"],
            draft["hyperparameters"],
            deadline,
            seed=seed,
            where=f"CREATE MODEL {draft['schema']}.{draft['name']}",
        )

    def load(self, directory: Path, manifest: dict) -> XGBoostPredictor:
        from sqlml.automl.expert import FORMAT, XGBoostModel

        section = check_format(manifest, FORMAT)
        return XGBoostPredictor(XGBoostModel.load(section, directory, boolean_target(manifest)))
