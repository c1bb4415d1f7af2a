"""AUTO OFF MODEL_TYPE KMEANS with PREPROCESSORS: reference §2.3 and §2.7."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans

import sqlml
from sqlml.errors import DatabaseError, PredictionCallError
from sqlml.jobs.training import SEED
from tests.conftest import DATA, load

COLUMNS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SCALED = """'[{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]}]'"""


def kmeans_sql(preprocessors: str = SCALED, hyper: str = "K '3'", extra: str = "") -> str:
    return (
        f"CREATE MODEL km FROM (SELECT {', '.join(COLUMNS)} FROM penguins "
        f"WHERE bill_length_mm IS NOT NULL) FUNCTION f_km {extra} AUTO OFF MODEL_TYPE KMEANS "
        f"PREPROCESSORS {preprocessors} HYPERPARAMETERS DEFAULT EXCEPT ({hyper})"
    )


@pytest.fixture
def peng(conn):
    load(conn, "penguins")
    return conn


def penguin_matrix() -> np.ndarray:
    table = pq.read_table(DATA / "penguins.parquet").to_pandas()
    table = table[table["bill_length_mm"].notna()]
    return table[COLUMNS].to_numpy(dtype=np.float64)


@pytest.mark.slow
def test_cluster_ids_in_sql_equal_scikit_learns_assignments(peng):
    peng.sql(kmeans_sql())
    ids = [
        r[0]
        for r in peng.execute(
            f"SELECT f_km({', '.join(COLUMNS)}) FROM penguins WHERE bill_length_mm IS NOT NULL"
        ).fetchall()
    ]
    X = penguin_matrix()
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    reference = KMeans(n_clusters=3, init="random", n_init="auto", random_state=SEED).fit(Z)
    assert ids == reference.labels_.tolist()
    shown = dict(peng.execute("SHOW MODEL km").fetchall())
    assert float(shown["train:msd"]) == pytest.approx(reference.inertia_ / len(Z), rel=1e-6)
    assert shown["Model Type"] == "kmeans" and shown["k"] == "3" and shown["feature_dim"] == "4"
    assert shown["Cluster Sizes"] == " ".join(str(n) for n in np.bincount(ids))
    assert shown["Function Return Type"] == "INTEGER"
    (typ,) = peng.execute("SELECT typeof(f_km(40.0, 18.0, 190, 3700))").fetchone()
    assert typ == "INTEGER"


@pytest.mark.slow
def test_minmax_passthrough_and_nulls(peng):
    peng.sql(
        kmeans_sql(
            """'[{"ColumnSet": ["bill_length_mm", "BILL_DEPTH_MM"], "Transformers": ["MinMax"]},
                {"ColumnSet": ["flipper_length_mm"], "Transformers": ["NumericPassthrough"]}]'""",
            "K '2', EVAL_METRICS '[\"msd\", \"ssd\"]', INIT_METHOD 'kmeans++'",
        )
    )
    model = json.loads((peng.store.path("main", "km") / "model.json").read_text())["model"]
    X = penguin_matrix()
    steps = model["steps"]
    assert steps[0] == [
        {"kind": "MinMax", "shift": X[:, 0].min(), "scale": X[:, 0].max() - X[:, 0].min()}
    ]
    assert steps[2] == [{"kind": "NumericPassthrough", "shift": 0.0, "scale": 1.0}]
    assert steps[3] == [{"kind": "NumericPassthrough", "shift": 0.0, "scale": 1.0}]  # no entry
    shown = dict(peng.execute("SHOW MODEL km").fetchall())
    assert float(shown["train:ssd"]) == pytest.approx(float(shown["train:msd"]) * len(X))
    # A NULL is the column's training mean: the row lands where the mean would.
    (a, b) = peng.execute(
        f"SELECT f_km(NULL, 18.0, 200, 4000), f_km({X[:, 0].mean()}, 18.0, 200, 4000)"
    ).fetchone()
    assert a == b


@pytest.mark.slow
def test_preprocessors_none_and_no_other_functions(peng):
    peng.sql(kmeans_sql("'none'", "K '4'"))
    (cluster,) = peng.execute("SELECT f_km(40.0, 18.0, 190, 3700)").fetchone()
    assert cluster in range(4)
    for missing in ("f_km_explain", "f_km_probabilities"):
        with pytest.raises((DatabaseError, PredictionCallError), match=f"{missing} does not exist"):
            peng.execute(f"SELECT {missing}(40.0, 18.0, 190, 3700)")
    doc = json.loads(peng.execute("SELECT explain_model('km')").fetchone()[0])
    assert "not available for KMEANS" in doc["explanations"]
    with pytest.raises(sqlml.FeatureNotSupported, match="AUTO OFF"):
        peng.sql("EVALUATE MODEL km FROM penguins")


BAD = [
    ('\'[{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]\'', "", "not valid JSON:"),
    ("'{}'", "", "must be a non-empty JSON array"),
    ('\'[{"ColumnSet": ["*"]}]\'', "", "exactly the keys ColumnSet and Transformers"),
    (
        '\'[{"ColumnSet": ["bill_lenght_mm"], "Transformers": ["MinMax"]}]\'',
        "",
        "names column 'bill_lenght_mm', which is not a feature column. Did you mean bill_length_mm",
    ),
    (
        '\'[{"ColumnSet": ["*"], "Transformers": ["StandardScalar"]}]\'',
        "",
        "unknown transformer 'StandardScalar'. Did you mean StandardScaler",
    ),
    (
        '\'[{"ColumnSet": ["*"], "Transformers": ["OneHotEncoder"]}]\'',
        "",
        "transformer OneHotEncoder does not apply to this model; it takes StandardScaler, "
        "MinMax, NumericPassthrough",
    ),
    (
        '\'[{"ColumnSet": ["body_mass_g"], "Transformers": ["MinMax"]}, '
        '{"ColumnSet": ["*"], "Transformers": ["StandardScaler"]}]\'',
        "",
        "column 'body_mass_g' is in the ColumnSet of PREPROCESSORS entries 1 and 2",
    ),
    (SCALED, "K '0'", "hyperparameter K must be an integer of at least 1; got '0'"),
    (SCALED, "K '500'", "K '500' clusters need at least 500 rows"),
    (SCALED, "KAY '3'", "unknown hyperparameter KAY for MODEL_TYPE KMEANS"),
    (SCALED, "K '3', FEATURE_DIM '7'", "FEATURE_DIM '7' does not match"),
    (SCALED, "K '3', EVAL_METRICS '[\"mse\"]'", 'EVAL_METRICS must be a JSON list of "msd"'),
    (SCALED, "EPOCHS '2'", "needs the number of clusters"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("preprocessors", "hyper", "message"), BAD)
def test_mistakes_are_named_and_leave_nothing(peng, preprocessors, hyper, message):
    with pytest.raises(sqlml.SqlmlError, match=message.replace("(", r"\(").replace("[", r"\[")):
        peng.sql(kmeans_sql(preprocessors, hyper or "K '3'"))
    assert peng.execute("SHOW MODEL ALL").fetchall() == []


def test_json_errors_give_the_position(peng):
    with pytest.raises(sqlml.InvalidSetting, match=r"at line 2, column 1 \(character"):
        peng.sql(kmeans_sql("'[\n}'"))


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "CREATE MODEL km FROM penguins TARGET species FUNCTION f_km AUTO OFF "
            f"MODEL_TYPE KMEANS PREPROCESSORS {SCALED} HYPERPARAMETERS DEFAULT EXCEPT (K '3')",
            "KMEANS clusters rows without a TARGET; remove TARGET species",
        ),
        (
            "CREATE MODEL km FROM (SELECT bill_length_mm, body_mass_g FROM penguins) "
            "FUNCTION f_km AUTO OFF MODEL_TYPE KMEANS OBJECTIVE 'reg:squarederror' "
            "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (K '3')",
            "KMEANS takes no OBJECTIVE",
        ),
        (
            "CREATE MODEL km FROM (SELECT island, bill_length_mm FROM penguins) FUNCTION f_km "
            "AUTO OFF MODEL_TYPE KMEANS PREPROCESSORS 'none' "
            "HYPERPARAMETERS DEFAULT EXCEPT (K '3')",
            "column 'island' is VARCHAR",
        ),
        (
            "CREATE MODEL km FROM (SELECT bill_length_mm FROM penguins) FUNCTION f_km "
            "AUTO OFF MODEL_TYPE KMEANS HYPERPARAMETERS DEFAULT EXCEPT (K '3')",
            "KMEANS needs PREPROCESSORS",
        ),
        (
            "CREATE MODEL km FROM (SELECT bill_length_mm FROM penguins) FUNCTION f_km "
            "AUTO OFF MODEL_TYPE KMEANS PREPROCESSORS 'none'",
            r"KMEANS needs HYPERPARAMETERS DEFAULT EXCEPT \(K 'n'\)",
        ),
    ],
)
def test_kmeans_rules(peng, statement, message):
    with pytest.raises(sqlml.SqlmlError, match=message):
        peng.sql(statement)


@pytest.mark.slow
def test_max_runtime_is_kept_inside_the_fit(conn):
    """250,000 rows, K 100, 50 trials of up to 100,000 iterations with no tolerance would run for
    many minutes; MAX_RUNTIME 3 stops the iterations, and the best centers so far are the model."""
    conn.sql(
        "CREATE TABLE big AS SELECT random() AS a, random() AS b, random() AS c, random() AS d "
        "FROM range(250000)"
    )
    conn.sql(
        "CREATE MODEL big_km FROM big FUNCTION f_big AUTO OFF MODEL_TYPE KMEANS "
        "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (K '100', "
        "LOCAL_LLOYD_MAX_ITER '100000', LOCAL_LLOYD_TOL '0', LOCAL_LLOYD_NUM_TRIALS '50') "
        "SETTINGS (MAX_RUNTIME 3)"
    )
    manifest = conn.wait_model("big_km")
    assert manifest["model"]["stopped_early"] is True
    # The deadline is checked every few Lloyd iterations (well under a second each here): the
    # fit ends near the budget, far from the minutes it would take unbounded.
    assert manifest["training"]["seconds"] < 60
    shown = dict(conn.execute("SHOW MODEL big_km").fetchall())
    assert shown["Stopped Early"] == "MAX_RUNTIME ended the Lloyd iterations"
    ids = conn.execute("SELECT DISTINCT f_big(a, b, c, d) FROM big").fetchall()
    assert {i for (i,) in ids} <= set(range(100))
