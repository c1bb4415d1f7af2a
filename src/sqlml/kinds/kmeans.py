"""AUTO OFF MODEL_TYPE KMEANS (reference §2.7): K-means clustering of number and boolean
columns (automl.kmeans). No TARGET: every FROM column is a feature, and the prediction function
returns the id of each row's nearest center. As in Redshift, no probabilities and no
explanations (a cluster id has no feature contributions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlml import preprocessors
from sqlml.automl.budget import Deadline
from sqlml.errors import InvalidSetting
from sqlml.hyperparameters import Hyperparameter, resolve_table
from sqlml.kinds.base import Draft, FunctionSpec, ModelKind, check_format, check_numbers
from sqlml.kinds.xgboost import check_auto_off
from sqlml.lazy import pa
from sqlml.sql import ast

MODEL_TYPE = "KMEANS"
TRANSFORMERS = ("StandardScaler", "MinMax", "NumericPassthrough")

# SageMaker K-Means (reference §2.7). K-means here runs scikit-learn's Lloyd iterations on the
# whole table: init_method, local_lloyd_max_iter, local_lloyd_tol and local_lloyd_num_trials
# steer it; epochs, mini_batch_size, half_life_time_size and extra_center_factor belong to
# SageMaker's streaming algorithm and are validated and recorded only.
HYPERPARAMETERS = {
    h.name: h
    for h in (
        Hyperparameter("k", int, None, low=1),
        Hyperparameter("feature_dim", int, None, low=1),
        Hyperparameter("epochs", int, 1, low=1),
        Hyperparameter("eval_metrics", list, ["msd"], choices=("msd", "ssd")),
        Hyperparameter("extra_center_factor", int, "auto", low=1, auto=True),
        Hyperparameter("half_life_time_size", int, 0, low=0),
        Hyperparameter("init_method", str, "random", choices=("random", "kmeans++")),
        Hyperparameter("local_lloyd_init_method", str, "kmeans++", choices=("random", "kmeans++")),
        Hyperparameter("local_lloyd_max_iter", int, 300, low=1),
        Hyperparameter("local_lloyd_num_trials", int, "auto", low=1, auto=True),
        Hyperparameter("local_lloyd_tol", float, 0.0001, 0, 1),
        Hyperparameter("mini_batch_size", int, 5000, low=1),
    )
}


class KMeansKind(ModelKind):
    name = "kmeans"
    libraries = ("scikit-learn", "numpy", "pyarrow")

    def claims(self, stmt: ast.CreateModel) -> bool:
        return stmt.model_type == MODEL_TYPE

    def reads(self, manifest: dict) -> bool:
        return manifest.get("model_type") == MODEL_TYPE

    def check(self, stmt: ast.CreateModel) -> None:
        where = f"CREATE MODEL {stmt.name}"
        if stmt.auto is not False:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE KMEANS is trained with AUTO OFF (and HYPERPARAMETERS "
                "DEFAULT EXCEPT (K 'n')); add AUTO OFF."
            )
        check_auto_off(stmt, where)
        if stmt.target is not None:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE KMEANS clusters rows without a TARGET; remove TARGET "
                f"{stmt.target} (every FROM column is a feature)."
            )
        if stmt.objective is not None:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE KMEANS takes no OBJECTIVE; remove OBJECTIVE '{stmt.objective}'."
            )
        if stmt.hyperparameters is None:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE KMEANS needs HYPERPARAMETERS DEFAULT EXCEPT (K 'n')."
            )
        if stmt.preprocessors is None:
            raise InvalidSetting(
                f"{where}: MODEL_TYPE KMEANS needs PREPROCESSORS: 'none', or a JSON array such as "
                """'[{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]}]'."""
            )

    def draft(self, draft: Draft) -> dict:
        check_numbers(draft)
        stmt, names = draft.stmt, [c.name for c in draft.columns]
        values = resolve_table(HYPERPARAMETERS, MODEL_TYPE, stmt.hyperparameters, draft.where)
        if "k" not in values:
            raise InvalidSetting(
                f"{draft.where}: MODEL_TYPE KMEANS needs the number of clusters: HYPERPARAMETERS "
                "DEFAULT EXCEPT (K 'n')."
            )
        if values.setdefault("feature_dim", len(names)) != len(names):
            raise InvalidSetting(
                f"{draft.where}: FEATURE_DIM '{values['feature_dim']}' does not match the FROM "
                f"query's {len(names)} columns; leave FEATURE_DIM out (it is set for you)."
            )
        entries = preprocessors.parse(stmt.preprocessors, names, TRANSFORMERS, draft.where)
        return {
            "hyperparameters": values,
            "preprocessors": stmt.preprocessors,
            "preprocessor_entries": entries,
            "problem_type": None,
        }

    def default_target_type(self) -> pa.DataType:
        return pa.int32()  # the cluster id

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
        from sqlml.automl.kmeans import train_kmeans

        return train_kmeans(
            table,
            draft["hyperparameters"],
            draft["preprocessor_entries"],
            deadline,
            seed=seed,
            where=f"CREATE MODEL {draft['schema']}.{draft['name']}",
        )

    def load(self, directory: Path, manifest: dict):
        from sqlml.automl.kmeans import FORMAT, KMeansModel

        return KMeansModel.load(check_format(manifest, FORMAT), directory)

    def functions(self, manifest: dict) -> dict[str, FunctionSpec]:
        return {manifest["function"]["name"].lower(): FunctionSpec("predict", pa.int32())}

    def show_rows(self, manifest: dict) -> list[tuple[str, str]]:
        model = manifest.get("model", {})
        rows = []
        if model.get("sizes"):
            rows.append(("Cluster Sizes", " ".join(str(n) for n in model["sizes"])))
        if model.get("stopped_early"):
            rows.append(("Stopped Early", "MAX_RUNTIME ended the Lloyd iterations"))
        return rows

    def unavailable_explanation(self, manifest: dict) -> str | None:
        return (
            "not available for KMEANS models (as in Redshift): a cluster id has no "
            "feature contributions"
        )
