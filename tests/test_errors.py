"""Every user mistake of the foundation gets a clear error that names what is wrong."""

from __future__ import annotations

import pytest

import sqlml
from sqlml import errors
from sqlml.jobs import status as J
from tests.conftest import PENGUIN_FEATURES, load

BASE = (
    f"CREATE MODEL {{name}} FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
    "TARGET species FUNCTION {fn}"
)
# Large enough that a first candidate finishes on a slow or busy machine.
CREATE = BASE + " SETTINGS (MAX_RUNTIME 12)"
# For the models that are trained: one candidate ends the search, long before MAX_RUNTIME.
TRAIN = BASE + " SETTINGS (MAX_RUNTIME 120, MAX_TRIALS 1)"


@pytest.fixture
def data(conn):
    load(conn, "penguins")
    return conn


@pytest.fixture(scope="module")
def model_m(tmp_path_factory):
    """The penguins table and a model ``m`` / ``f``, trained once for the module's tests that
    only call its function."""
    connection = sqlml.connect(tmp_path_factory.mktemp("errors") / "test.duckdb", synchronous=True)
    load(connection, "penguins")
    connection.sql(TRAIN.format(name="m", fn="f"))
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("cls", "sqlstate"),
    [
        (errors.SqlmlError, "XX000"),
        (errors.SqlSyntaxError, "42601"),
        (errors.FeatureNotSupported, "0A000"),
        (errors.InvalidSetting, "22023"),
        (errors.ModelNotFound, "42704"),
        (errors.ModelAlreadyExists, "42710"),
        (errors.FunctionAlreadyExists, "42723"),
        (errors.SchemaNotFound, "3F000"),
        (errors.ColumnNotFound, "42703"),
        (errors.TrainingQueryError, "42000"),
        (errors.TrainingDataError, "22000"),
        (errors.PredictionCallError, "42883"),
        (errors.ModelNotReady, "55000"),
        (errors.CorruptModelPackage, "XX001"),
        (errors.InsufficientPrivilege, "42501"),
        (errors.UserNotFound, "42704"),
        (errors.UserAlreadyExists, "42710"),
        (errors.AuthenticationFailed, "28P01"),
        (errors.ObjectInUse, "55006"),
    ],
)
def test_every_error_has_its_sqlstate(cls, sqlstate):
    assert cls.sqlstate == sqlstate
    assert issubclass(cls, sqlml.SqlmlError)


def test_unknown_model(data):
    with pytest.raises(sqlml.ModelNotFound, match=r"Model main\.nope does not exist"):
        data.sql("SHOW MODEL nope")
    with pytest.raises(sqlml.ModelNotFound, match="nope"):
        data.sql("DROP MODEL nope")
    assert data.sql("DROP MODEL IF EXISTS nope") is None


@pytest.mark.slow
def test_unknown_model_suggests_a_close_name(data):
    data.sql(TRAIN.format(name="species_model", fn="f1"))
    with pytest.raises(sqlml.ModelNotFound, match="Did you mean species_model"):
        data.sql("SHOW MODEL specie_model")


@pytest.mark.slow
def test_duplicate_model_name(data):
    data.sql(TRAIN.format(name="m", fn="f1"))
    with pytest.raises(sqlml.ModelAlreadyExists, match=r"main\.m already exists"):
        data.sql(CREATE.format(name="M", fn="f2"))
    # The first model is untouched and still predicts.
    assert data.execute(f"SELECT count(f1({PENGUIN_FEATURES})) FROM penguins").fetchone() == (344,)


@pytest.mark.slow
def test_function_taken_by_another_model(data):
    data.sql(TRAIN.format(name="m1", fn="f"))
    with pytest.raises(sqlml.FunctionAlreadyExists, match=r"prediction function of model main\.m1"):
        data.sql(CREATE.format(name="m2", fn="F"))
    assert data.execute("SHOW MODEL ALL").fetchall() == [("main", "m1", "READY", "f")]


@pytest.mark.parametrize("fn", ["sum", "abs", "lower", "Upper"])
def test_function_taken_by_a_database_function(data, fn):
    with pytest.raises(sqlml.FunctionAlreadyExists, match="already a function in the database"):
        data.sql(CREATE.format(name="m", fn=fn))


def test_function_taken_by_a_macro(data):
    data.sql("CREATE MACRO my_macro(a) AS a + 1")
    with pytest.raises(sqlml.FunctionAlreadyExists):
        data.sql(CREATE.format(name="m", fn="my_macro"))


def test_target_not_in_query(data):
    with pytest.raises(sqlml.ColumnNotFound) as info:
        data.sql(
            f"CREATE MODEL m FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins) "
            "TARGET specie FUNCTION f"
        )
    message = str(info.value)
    assert "TARGET column 'specie'" in message
    assert "Did you mean column species?" in message
    assert "island" in message  # lists the available columns


def test_fewer_than_two_columns(data):
    with pytest.raises(sqlml.TrainingDataError, match="at least two"):
        data.sql("CREATE MODEL m FROM (SELECT species FROM penguins) TARGET species FUNCTION f")


def test_duplicate_column_names(data):
    with pytest.raises(sqlml.TrainingDataError, match="two columns named"):
        data.sql(
            "CREATE MODEL m FROM (SELECT species, island, island FROM penguins) "
            "TARGET species FUNCTION f"
        )


def test_unknown_table_keeps_the_database_message(data):
    with pytest.raises(
        sqlml.TrainingQueryError, match="Table with name no_such_table does not exist"
    ):
        data.sql("CREATE MODEL m FROM (SELECT * FROM no_such_table) TARGET x FUNCTION f")
    with pytest.raises(sqlml.TrainingQueryError, match="no_such_table"):
        data.sql("CREATE MODEL m FROM no_such_table TARGET x FUNCTION f")


def test_unknown_column_keeps_the_database_message(data):
    with pytest.raises(sqlml.TrainingQueryError, match="wingspan"):
        data.sql(
            "CREATE MODEL m FROM (SELECT species, wingspan FROM penguins) TARGET species FUNCTION f"
        )


def test_target_entirely_null(data):
    with pytest.raises(sqlml.TrainingDataError, match="is NULL in every one of the FROM query's"):
        data.sql(
            "CREATE MODEL m FROM (SELECT NULL::VARCHAR AS label, island FROM penguins) "
            "TARGET label FUNCTION f"
        )


def test_single_class(data):
    with pytest.raises(sqlml.TrainingDataError, match="same value in every row"):
        data.sql(
            f"CREATE MODEL m FROM (SELECT species, {PENGUIN_FEATURES} FROM penguins "
            "WHERE species = 'Adelie') TARGET species FUNCTION f"
        )


@pytest.mark.slow
def test_no_usable_feature(data):
    with pytest.raises(sqlml.TrainingDataError, match="'c' is constant"):
        data.sql(
            "CREATE MODEL m FROM (SELECT species, 1 AS c FROM penguins) TARGET species FUNCTION f"
        )


@pytest.mark.slow
def test_date_target_refused(data):
    with pytest.raises(sqlml.TrainingDataError, match="TARGET column 'd' has type date"):
        data.sql(
            "CREATE MODEL m FROM (SELECT island, DATE '2020-01-01' + (row_number() OVER ())::INT "
            "AS d FROM penguins) TARGET d FUNCTION f"
        )


@pytest.mark.slow
def test_unusable_feature_type_named(data):
    with pytest.raises(sqlml.TrainingDataError, match="Column 'l' has type list"):
        data.sql(
            "CREATE MODEL m FROM (SELECT species, [1, 2] AS l, island FROM penguins) "
            "TARGET species FUNCTION f"
        )


@pytest.mark.slow
def test_prediction_function_wrong_arity(model_m):
    with pytest.raises(sqlml.PredictionCallError) as info:
        model_m.execute("SELECT f(island, sex) FROM penguins")
    message = str(info.value)
    assert "takes 6 arguments" in message
    assert "island VARCHAR, bill_length_mm DOUBLE" in message
    assert "model main.m" in message


@pytest.mark.slow
def test_prediction_function_uncastable_value(model_m):
    with pytest.raises(sqlml.PredictionCallError, match="cannot be converted") as info:
        model_m.execute("SELECT f('Biscoe', 'not a number', 1, 2, 3, 'MALE')")
    assert "not a number" in str(info.value)


def test_malformed_settings(data):
    with pytest.raises(sqlml.InvalidSetting) as info:
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (MAX_RUNTIME 0)")
    assert "'MAX_RUNTIME' setting must be an integer in [1, 604800]. Got 0 instead" in str(
        info.value
    )
    with pytest.raises(sqlml.InvalidSetting, match="'MAX_CELLS' setting must be an integer"):
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (MAX_CELLS 'many')")
    with pytest.raises(sqlml.InvalidSetting, match="S3_GARBAGE_COLLECT' setting must be ON or OFF"):
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (S3_GARBAGE_COLLECT maybe)")
    with pytest.raises(
        sqlml.InvalidSetting, match=r"'MAX_TRIALS' setting must be an integer in \[1, 10000\]"
    ):
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (MAX_TRIALS 0)")


def test_max_trials_is_for_auto_on_searches(data):
    with pytest.raises(sqlml.InvalidSetting, match="MAX_TRIALS limits the AUTO ON search"):
        data.sql(
            "CREATE MODEL m FROM (SELECT island, bill_length_mm FROM penguins) TARGET island "
            "FUNCTION f AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'multi:softmax' "
            "SETTINGS (MAX_TRIALS 2)"
        )
    assert data.execute("SHOW MODEL ALL").fetchall() == []


def test_unknown_setting_suggests(data):
    with pytest.raises(
        sqlml.InvalidSetting, match="Unknown setting 'MAX_RUN_TIME'. Did you mean MAX_RUNTIME"
    ):
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (max_run_time 60)")


def test_missing_schema(data):
    with pytest.raises(sqlml.SchemaNotFound, match="CREATE SCHEMA nowhere"):
        data.sql(CREATE.format(name="nowhere.m", fn="f"))


@pytest.mark.parametrize(
    ("clause", "named"),
    [
        ("MODEL_TYPE FORECAST", "has no prediction function"),
        (
            "AUTO OFF MODEL_TYPE FORECAST PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT",
            "MODEL_TYPE FORECAST is trained with AUTO ON",
        ),
    ],
)
def test_forecast_clauses_checked(data, clause, named):
    with pytest.raises(sqlml.InvalidSetting, match=named):
        data.sql(CREATE.format(name="m", fn="f") + " " + clause)
    assert data.execute("SHOW MODEL ALL").fetchall() == []


def test_bring_your_own_model_not_built_yet(data):
    with pytest.raises(sqlml.FeatureNotSupported, match="bring-your-own-model"):
        data.sql("CREATE MODEL m FROM 'training-job-1' FUNCTION f(INT, VARCHAR) RETURNS INT")


def test_hyperparameters_need_auto_off(data):
    with pytest.raises(sqlml.InvalidSetting, match="HYPERPARAMETERS is only allowed with AUTO OFF"):
        data.sql(CREATE.format(name="m", fn="f") + " HYPERPARAMETERS DEFAULT")


@pytest.mark.slow
def test_objective_must_fit_the_problem(data):
    with pytest.raises(sqlml.InvalidSetting, match="OBJECTIVE 'MSE' is for regression"):
        data.sql(CREATE.format(name="m", fn="f") + " OBJECTIVE 'MSE'")
    with pytest.raises(sqlml.InvalidSetting, match="XGBoost objective for AUTO OFF"):
        data.sql(CREATE.format(name="m", fn="f") + " OBJECTIVE 'binary:logistic'")


def test_problem_type_must_fit_the_target(data):
    with pytest.raises(sqlml.TrainingDataError, match="exactly two distinct target values"):
        data.sql(CREATE.format(name="m", fn="f") + " PROBLEM_TYPE BINARY_CLASSIFICATION")
    with pytest.raises(sqlml.TrainingDataError, match="needs a numeric target"):
        data.sql(CREATE.format(name="m", fn="f") + " PROBLEM_TYPE REGRESSION")


def test_syntax_error_has_position(data):
    with pytest.raises(sqlml.SqlSyntaxError) as info:
        data.sql("SELECT 1;\nCREATE MODEL m FROM penguins\n  TARGT species FUNCTION f")
    assert (info.value.line, info.value.col, info.value.token) == (3, 3, "TARGT")


@pytest.mark.slow
def test_failed_create_leaves_nothing_behind(data, db_path):
    with pytest.raises(sqlml.TrainingDataError):
        data.sql(
            "CREATE MODEL m FROM (SELECT NULL::VARCHAR AS label, island FROM penguins) "
            "TARGET label FUNCTION f"
        )
    store = db_path.parent / "test.duckdb.models"
    assert [p.name for p in store.iterdir() if not p.name.startswith(".")] == []
    assert [p.name for p in (store / ".jobs").iterdir() if p.name != ".slots"] == []
    data.sql(TRAIN.format(name="m", fn="f"))  # the name is still free


def test_query_failing_while_exported_names_the_query_and_leaves_the_connection_usable(conn):
    # The error comes in row 150,001, after the first batches of the snapshot were written.
    query = (
        "SELECT CASE WHEN range > 150000 THEN error('bad row ' || range) ELSE range END AS x, "
        "(range % 7)::DOUBLE AS y FROM range(200000)"
    )
    with pytest.raises(sqlml.TrainingQueryError, match="The FROM query failed: .*bad row 150001"):
        conn.sql(f"CREATE MODEL m FROM ({query}) TARGET y FUNCTION f SETTINGS (MAX_CELLS 10000000)")
    assert conn.sql("SELECT 42").fetchall() == [(42,)]
    assert conn.models() == []
    with pytest.raises(sqlml.ModelNotFound):
        conn.sql("SHOW MODEL m")


@pytest.mark.slow
def test_a_list_of_enum_is_refused_like_any_list(conn):
    conn.sql("CREATE TYPE colour AS ENUM ('red', 'blue')")
    conn.sql(
        "CREATE TABLE t AS SELECT ['red', 'blue']::colour[] AS tags, range::DOUBLE AS x, "
        "(range % 3)::DOUBLE AS y FROM range(100)"
    )
    with pytest.raises(sqlml.TrainingDataError, match="'tags'"):
        conn.sql("CREATE MODEL m FROM t TARGET y FUNCTION f SETTINGS (MAX_RUNTIME 5)")


# -- mistakes the data reveals, caught by the statement itself ------------------------------

_FROM = f"SELECT species, {PENGUIN_FEATURES} FROM penguins"


@pytest.mark.parametrize(
    ("query", "clauses", "cls", "message"),
    [
        (f"{_FROM} WHERE false", "", sqlml.TrainingDataError, "the FROM query returns no rows"),
        (f"{_FROM} LIMIT 6", "", sqlml.TrainingDataError, "has 6 rows with a non-NULL TARGET"),
        (
            f"SELECT NULL::VARCHAR AS species, {PENGUIN_FEATURES} FROM penguins",
            "",
            sqlml.TrainingDataError,
            "TARGET column 'species' is NULL in every one of the FROM query's 344 rows",
        ),
        (
            f"{_FROM} WHERE species = 'Gentoo'",
            "",
            sqlml.TrainingDataError,
            "same value in every row",
        ),
        (_FROM, " PROBLEM_TYPE REGRESSION", sqlml.TrainingDataError, "needs a numeric target"),
        (_FROM, " OBJECTIVE 'MSE'", sqlml.InvalidSetting, "'MSE' is for regression"),
        (_FROM, " OBJECTIVE 'AUC'", sqlml.InvalidSetting, "'AUC' is for two classes"),
        (
            "SELECT body_mass_g AS species, island FROM penguins",
            " PROBLEM_TYPE REGRESSION OBJECTIVE 'AUC'",
            sqlml.InvalidSetting,
            "'AUC' scores classes, but PROBLEM_TYPE is REGRESSION",
        ),
    ],
)
def test_the_statement_fails_before_anything_is_queued(data, query, clauses, cls, message):
    with pytest.raises(cls, match=message) as info:
        data.sql(f"CREATE MODEL m FROM ({query}) TARGET species FUNCTION f{clauses}")
    assert str(info.value).startswith("CREATE MODEL m: ")
    assert data.execute("SHOW MODEL ALL").fetchall() == []
    assert J.job_folders(data.store) == []


def test_a_wrongly_typed_argument_is_named(model_m):
    with pytest.raises(sqlml.PredictionCallError) as info:
        model_m.sql("SELECT f(true, 40.0, 18.0, 190, 4000, 'MALE')")
    message = str(info.value)
    assert "argument 1 (island) must be VARCHAR, but a value of type BOOLEAN was passed" in message
    assert "LITERAL" not in message
    with pytest.raises(sqlml.PredictionCallError, match=r"called with 1 \(INTEGER\)"):
        model_m.sql("SELECT f(1)")


def test_a_probability_function_the_model_does_not_have(data):
    data.sql(
        "CREATE MODEL x FROM (SELECT (species = 'Adelie')::INT AS a, bill_depth_mm FROM penguins) "
        "TARGET a FUNCTION px AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'binary:logistic' "
        "PREPROCESSORS 'none' HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '5')"
    )
    data.wait_model("x")
    with pytest.raises(
        sqlml.PredictionCallError, match="model main.x is an AUTO OFF XGBoost model"
    ):
        data.sql("SELECT px_probabilities(18.0)")


def test_hints_name_only_what_works(data):
    with pytest.raises(sqlml.TrainingDataError) as info:
        data.sql("CREATE MODEL m FROM penguins FUNCTION f")
    assert "add MODEL_TYPE KMEANS to cluster the rows" in str(info.value)
    with pytest.raises(sqlml.InvalidSetting) as info:
        data.sql(BASE.format(name="m", fn="f") + " SETTINGS (MAX_RUNTIMES 5)")
    message = str(info.value)
    valid, _, unsupported = message.partition("Valid settings: ")[2].partition(" (")
    assert "MAX_RUNTIME" in valid and "HORIZON" in valid and "KMS_KEY_ID" not in valid
    assert "KMS_KEY_ID" in unsupported and "not supported yet)." in unsupported
