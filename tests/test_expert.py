"""AUTO OFF MODEL_TYPE XGBOOST: Redshift's expert mode, every objective, the hyperparameters and
the rules of reference §2.6."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb

import sqlml
from sqlml import hyperparameters
from sqlml.errors import PredictionCallError
from tests.conftest import load

FEATURES = "bill_length_mm, bill_depth_mm, flipper_length_mm"

# objective -> (target expression, extra hyperparameters)
OBJECTIVES = {
    "reg:squarederror": ("body_mass_g / 1000.0", ""),
    "reg:squaredlogerror": ("body_mass_g / 1000.0", ""),
    "reg:logistic": ("(body_mass_g - 2500) / 4000.0", ""),
    # Pseudo-Huber hessians shrink with the residual: a unit-scale target lets trees split.
    "reg:pseudohubererror": ("body_mass_g / 4000.0", ""),
    "reg:tweedie": ("body_mass_g / 1000.0", ""),
    "binary:logistic": ("sex = 'MALE'", ""),
    "binary:hinge": ("(sex = 'MALE')::INTEGER", ""),
    "multi:softmax": (
        "CASE species WHEN 'Adelie' THEN 0 WHEN 'Chinstrap' THEN 1 ELSE 2 END",
        ", NUM_CLASS '3'",
    ),
}


def expert_sql(name: str, objective: str, target: str, extra: str = "", tail: str = "") -> str:
    return (
        f"CREATE MODEL {name} FROM (SELECT {FEATURES}, {target} AS y FROM penguins "
        "WHERE sex IS NOT NULL AND bill_length_mm IS NOT NULL) TARGET y "
        f"FUNCTION f_{name} AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE '{objective}' "
        f"PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '20'{extra}) "
        f"SETTINGS (MAX_RUNTIME 20){tail}"
    )


@pytest.fixture
def peng(conn):
    load(conn, "penguins")
    return conn


@pytest.mark.slow
@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_every_objective_trains_and_predicts_as_the_booster_does(peng, objective):
    target, extra = OBJECTIVES[objective]
    peng.sql(expert_sql("m", objective, target, extra))
    rows = peng.execute(
        f"SELECT {FEATURES}, y, f_m({FEATURES}) FROM (SELECT {FEATURES}, {target} AS y "
        "FROM penguins WHERE sex IS NOT NULL AND bill_length_mm IS NOT NULL)"
    ).fetchall()
    X = np.array([r[:3] for r in rows], dtype=np.float32)
    y = np.array([float(r[3]) for r in rows])
    got = np.array([float(r[4]) for r in rows])
    booster = xgb.Booster()
    booster.load_model(str(peng.store.path("main", "m") / "booster.xgb.ubj"))
    out = booster.predict(xgb.DMatrix(X))
    if objective == "binary:logistic":
        assert np.array_equal(got, (out > 0.5).astype(float))
        assert isinstance(rows[0][4], bool)  # the target's type
    elif objective.startswith(("binary:", "multi:")):
        assert np.array_equal(got, np.rint(out))
    else:
        assert np.allclose(got, out, rtol=1e-6)
    if objective.startswith(("binary:", "multi:")):
        assert (got == y).mean() > 0.75
    else:
        assert np.corrcoef(got, y)[0, 1] > 0.6
    shown = dict(peng.execute("SHOW MODEL m").fetchall())
    assert shown["Model Type"] == "xgboost" and shown["objective"] == objective
    assert any(k.startswith("train:") for k in shown)
    assert shown["num_round"] == "20" and shown["eta"] == "0.3"  # defaults are shown too
    assert shown["Preprocessors"] == "none"


@pytest.mark.slow
def test_show_model_lists_every_hyperparameter(peng):
    peng.sql(expert_sql("m", "binary:logistic", "sex = 'MALE'", ", ETA '0.2', max_depth '4'"))
    shown = peng.execute("SHOW MODEL m").fetchall()
    keys = [k for k, _ in shown]
    start = keys.index("HYPERPARAMETERS:")
    section = dict(shown[start + 1 :])
    assert section == {
        "alpha": "0",
        "colsample_bylevel": "1",
        "colsample_bynode": "1",
        "colsample_bytree": "1",
        "eta": "0.2",
        "gamma": "0",
        "lambda": "1",
        "max_delta_step": "0",
        "max_depth": "4",
        "min_child_weight": "1",
        "num_round": "20",
        "objective": "binary:logistic",
        "subsample": "1",
        "tree_method": "auto",
    }
    metric = dict(shown)["train:error"]
    assert 0.0 <= float(metric) < 0.3


@pytest.mark.slow
def test_clause_order_and_hyperparameters_default(peng):
    peng.sql(
        f"CREATE MODEL m FROM (SELECT {FEATURES}, body_mass_g FROM penguins) "
        "TARGET body_mass_g FUNCTION f_m AUTO OFF MODEL_TYPE XGBOOST "
        "OBJECTIVE 'reg:squarederror' HYPERPARAMETERS DEFAULT PREPROCESSORS 'none' "
        "SETTINGS (MAX_RUNTIME 20)"
    )
    (value,) = peng.execute("SELECT f_m(45.0, 15.0, 220)").fetchone()
    assert 4000 < value < 6500
    shown = dict(peng.execute("SHOW MODEL m").fetchall())
    assert shown["num_round"] == "100"


@pytest.mark.slow
def test_no_probability_function_and_margin_explanations(peng):
    peng.sql(expert_sql("m", "binary:logistic", "sex = 'MALE'"))
    with pytest.raises(
        PredictionCallError,
        match="f_m_probabilities does not exist: model main.m is an AUTO OFF XGBoost",
    ):
        peng.execute(f"SELECT f_m_probabilities({FEATURES}) FROM penguins")
    rows = peng.execute(
        f"SELECT f_m({FEATURES}), f_m_explain({FEATURES}) FROM penguins "
        "WHERE bill_length_mm IS NOT NULL"
    ).fetchall()
    booster = xgb.Booster()
    booster.load_model(str(peng.store.path("main", "m") / "booster.xgb.ubj"))
    for label, e in rows:
        total = e["expected_value"] + sum(c["contribution"] for c in e["contributions"])
        assert total == pytest.approx(e["value"], abs=1e-9)
        assert e["label"] == str(label).lower()
        assert (e["value"] > 0) == label  # the log-odds margin decides the label
    doc = json.loads(peng.execute("SELECT explain_model('m')").fetchone()[0])
    values = doc["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    assert sorted(values) == sorted(c.strip() for c in FEATURES.split(","))
    with pytest.raises(sqlml.FeatureNotSupported, match="AUTO OFF"):
        peng.sql("EVALUATE MODEL m FROM penguins")


BAD_HYPERPARAMETERS = [
    (", ETA '0.9'", r"hyperparameter ETA must be a number from 0.1 to 0.5; got '0.9'"),
    (", MAX_DEPTH 'deep'", r"MAX_DEPTH must be an integer from 0 to 10; got 'deep'"),
    (", MAX_DEPTH '2.5'", r"MAX_DEPTH must be an integer from 0 to 10; got '2.5'"),
    (", SUBSAMPLE '0.1'", r"SUBSAMPLE must be a number from 0.5 to 1; got '0.1'"),
    (", NUM_ROUNDS '5'", r"unknown hyperparameter NUM_ROUNDS .*Did you mean NUM_ROUND\?"),
    (", TREE_METHOD 'gpu_hist'", r"TREE_METHOD must be one of 'auto', 'exact'"),
    (", NUM_CLASS '2'", r"NUM_CLASS applies only to OBJECTIVE 'multi:softmax'"),
    (", MIN_CHILD_WEIGHT '-1'", r"MIN_CHILD_WEIGHT must be a number from 0 to 120; got '-1'"),
]


def test_hyperparameter_values_are_typed_and_checked_without_a_database():
    values = hyperparameters.resolve(
        "XGBOOST", "multi:softmax", (("NUM_CLASS", "4"), ("eta", " 0.25 ")), "CREATE MODEL x"
    )
    assert values["num_class"] == 4 and values["eta"] == 0.25 and values["num_round"] == 100
    assert values["tree_method"] == "auto"
    with pytest.raises(sqlml.InvalidSetting, match="NUM_ROUND must be an integer of at least 1"):
        hyperparameters.resolve("XGBOOST", "reg:tweedie", (("num_round", "0"),), "CREATE MODEL x")
    with pytest.raises(sqlml.InvalidSetting, match="ALPHA must be a number from 0 to 1000"):
        hyperparameters.resolve("XGBOOST", "reg:tweedie", (("alpha", "inf"),), "CREATE MODEL x")


@pytest.mark.parametrize(("extra", "message"), BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_are_named(peng, extra, message):
    with pytest.raises(sqlml.InvalidSetting, match=message):
        peng.sql(expert_sql("m", "binary:logistic", "sex = 'MALE'", extra))
    assert peng.execute("SHOW MODEL ALL").fetchall() == []  # nothing was left behind


def test_multiclass_needs_num_class_and_fitting_labels(peng):
    target, _ = OBJECTIVES["multi:softmax"]
    with pytest.raises(sqlml.InvalidSetting, match="needs the number of classes: add NUM_CLASS"):
        peng.sql(expert_sql("m", "multi:softmax", target))
    with pytest.raises(sqlml.TrainingDataError, match=r"class numbers 0 to 1 \(NUM_CLASS '2'\)"):
        peng.sql(expert_sql("m", "multi:softmax", target, ", NUM_CLASS '2'"))


@pytest.mark.parametrize(
    ("objective", "target", "message"),
    [
        ("binary:logistic", "body_mass_g", "to hold 0 and 1"),
        ("reg:logistic", "body_mass_g", "values from 0 to 1"),
        ("reg:tweedie", "bill_depth_mm - 20", "values of 0 or more"),
        ("reg:squaredlogerror", "-body_mass_g", "values above -1"),
    ],
)
def test_targets_must_suit_the_objective(peng, objective, target, message):
    with pytest.raises(sqlml.TrainingDataError, match=message):
        peng.sql(expert_sql("m", objective, target))


AUTO_OFF_RULES = [
    (
        "AUTO OFF MODEL_TYPE XGBOOST PROBLEM_TYPE REGRESSION OBJECTIVE 'reg:squarederror' "
        "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
        "PROBLEM_TYPE is not allowed with AUTO OFF",
    ),
    (
        "AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none'",
        "AUTO OFF needs HYPERPARAMETERS DEFAULT",
    ),
    (
        "AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' HYPERPARAMETERS DEFAULT",
        "needs PREPROCESSORS 'none'; PREPROCESSORS was not given",
    ),
    (
        "AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' "
        """PREPROCESSORS '[{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]}]' """
        "HYPERPARAMETERS DEFAULT",
        "needs PREPROCESSORS 'none'; got",
    ),
    (
        "AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'MSE' PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
        "needs an XGBoost OBJECTIVE, one of 'reg:squarederror'",
    ),
    (
        "AUTO OFF MODEL_TYPE XGBOOST PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
        "needs an XGBoost OBJECTIVE.*got no OBJECTIVE",
    ),
    (
        "AUTO OFF OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
        "AUTO OFF needs MODEL_TYPE XGBOOST",
    ),
    (
        "AUTO OFF MODEL_TYPE MLP PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
        "MODEL_TYPE MLP is trained with AUTO ON only",
    ),
    ("MODEL_TYPE XGBOOST HYPERPARAMETERS DEFAULT", "HYPERPARAMETERS is only allowed with AUTO OFF"),
    ("MODEL_TYPE KMEANS", "KMEANS is trained with AUTO OFF"),
]


@pytest.mark.parametrize(("clauses", "message"), AUTO_OFF_RULES)
def test_auto_off_rules(peng, clauses, message):
    with pytest.raises(sqlml.SqlmlError, match=message):
        peng.sql(
            f"CREATE MODEL m FROM (SELECT {FEATURES}, body_mass_g FROM penguins) "
            f"TARGET body_mass_g FUNCTION f_m {clauses} SETTINGS (MAX_RUNTIME 20)"
        )
    assert peng.execute("SHOW MODEL ALL").fetchall() == []


def test_columns_must_be_numbers_or_booleans(peng):
    with pytest.raises(sqlml.TrainingDataError, match="column 'island' is VARCHAR; AUTO OFF"):
        peng.sql(
            "CREATE MODEL m FROM (SELECT island, bill_length_mm, body_mass_g FROM penguins) "
            "TARGET body_mass_g FUNCTION f_m AUTO OFF MODEL_TYPE XGBOOST "
            "OBJECTIVE 'reg:squarederror' PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT"
        )
    with pytest.raises(sqlml.TrainingDataError, match="TARGET column 'species' is VARCHAR"):
        peng.sql(
            "CREATE MODEL m FROM (SELECT bill_length_mm, species FROM penguins) "
            "TARGET species FUNCTION f_m AUTO OFF MODEL_TYPE XGBOOST "
            "OBJECTIVE 'multi:softmax' PREPROCESSORS 'none' "
            "HYPERPARAMETERS DEFAULT EXCEPT (NUM_CLASS '3')"
        )
