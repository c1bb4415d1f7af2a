"""Statements shared by the parser tests: every clause form, and the reference's real examples.

Each case is ``(id, sql, expected)``; ``expected`` is the full statement object, so a test that
compares against it checks every field at once (``text`` is not compared).
"""

from __future__ import annotations

from dataclasses import replace

from sqlml.sql import ast

N = ast.Name


def base(**fields) -> ast.CreateModel:
    """``CREATE MODEL m FROM t FUNCTION f`` with ``fields`` changed."""
    stmt = ast.CreateModel(name=N("m"), source=ast.FromTable(N("t")), function=N("f"))
    return replace(stmt, **fields)


BASE = "CREATE MODEL m FROM t FUNCTION f"


def clause(sql: str, **fields) -> tuple[str, ast.CreateModel]:
    return f"{BASE} {sql}", base(**fields)


# -- FROM ------------------------------------------------------------------------------------

FROM_CASES = [
    ("table", "CREATE MODEL m FROM t FUNCTION f", base()),
    ("schema.table", "CREATE MODEL m FROM s.t FUNCTION f", base(source=ast.FromTable(N("t", "s")))),
    (
        "folded table",
        "CREATE MODEL m FROM Sales.Training_Data FUNCTION f",
        base(source=ast.FromTable(N("training_data", "sales"))),
    ),
    (
        "quoted table",
        'CREATE MODEL m FROM "Sales"."Training Data" FUNCTION f',
        base(source=ast.FromTable(N("Training Data", "Sales"))),
    ),
    (
        "query",
        "CREATE MODEL m FROM (SELECT a, b FROM t WHERE c > 1) FUNCTION f",
        base(source=ast.FromQuery("SELECT a, b FROM t WHERE c > 1")),
    ),
    (
        "nested query",
        "CREATE MODEL m FROM (SELECT a, (b + 1) * 2 AS c FROM (SELECT * FROM t) AS s "
        "WHERE d IN ('x', ')')) FUNCTION f",
        base(
            source=ast.FromQuery(
                "SELECT a, (b + 1) * 2 AS c FROM (SELECT * FROM t) AS s WHERE d IN ('x', ')')"
            )
        ),
    ),
    (
        "multi-line query keeps its inner text",
        "CREATE MODEL m FROM (\n    select a,\n           b\n    from t\n) FUNCTION f",
        base(source=ast.FromQuery("select a,\n           b\n    from t")),
    ),
    (
        "query with trailing line comment",
        "CREATE MODEL m FROM (select a, b from t -- training rows\n) FUNCTION f",
        base(source=ast.FromQuery("select a, b from t")),
    ),
    (
        "query with inner comment",
        "CREATE MODEL m FROM (/* lead */ select a, -- first\n b from t) FUNCTION f",
        base(source=ast.FromQuery("select a, -- first\n b from t")),
    ),
    (
        "double parentheses",
        "CREATE MODEL m FROM ((select a, b from t)) FUNCTION f",
        base(source=ast.FromQuery("(select a, b from t)")),
    ),
    (
        "string expression is a query, not a job",
        "CREATE MODEL m FROM ('a' || 'b') FUNCTION f",
        base(source=ast.FromQuery("'a' || 'b'")),
    ),
    (
        "job",
        "CREATE MODEL m FROM 'training-job-customer-churn-v4' FUNCTION f",
        base(source=ast.FromJob("training-job-customer-churn-v4")),
    ),
    (
        "job in parentheses",
        "CREATE MODEL m FROM ( 'training-job' ) FUNCTION f",
        base(source=ast.FromJob("training-job")),
    ),
    (
        "s3 artifact",
        "CREATE MODEL m FROM 's3://bucket/prefix/model.tar.gz' FUNCTION f",
        base(source=ast.FromJob("s3://bucket/prefix/model.tar.gz")),
    ),
    (
        "job with quote",
        "CREATE MODEL m FROM 'it''s-a-job' FUNCTION f",
        base(source=ast.FromJob("it's-a-job")),
    ),
]

# -- TARGET ----------------------------------------------------------------------------------

TARGET_CASES = [
    ("ident", *clause("TARGET churn", target="churn")),
    ("ident folded", *clause("TARGET Churn", target="churn")),
    ("quoted ident kept", *clause('TARGET "Churn"', target="Churn")),
    ("quoted ident with space", *clause('TARGET "is churn"', target="is churn")),
    ("string", *clause("TARGET 'Churn'", target="Churn")),
]

# -- FUNCTION / RETURNS ----------------------------------------------------------------------

FUNCTION_CASES = [
    ("name", "CREATE MODEL m FROM t FUNCTION predict", base(function=N("predict"))),
    (
        "schema.name",
        "CREATE MODEL m FROM t FUNCTION ml_schema.customer_churn_prediction",
        base(function=N("customer_churn_prediction", "ml_schema")),
    ),
    ("folded", "CREATE MODEL m FROM t FUNCTION ML.Predict", base(function=N("predict", "ml"))),
    ("quoted", 'CREATE MODEL m FROM t FUNCTION "ML"."Predict"', base(function=N("Predict", "ML"))),
    (
        "one type",
        "CREATE MODEL m FROM t FUNCTION f(int)",
        base(function_arg_types=("INT",)),
    ),
    (
        "BYOM types",
        "CREATE MODEL m FROM t FUNCTION customer_churn_predict (varchar, int, float, float)",
        base(
            function=N("customer_churn_predict"),
            function_arg_types=("VARCHAR", "INT", "FLOAT", "FLOAT"),
        ),
    ),
    (
        "parameterised types",
        "CREATE MODEL m FROM t FUNCTION f(DECIMAL(10,6), varchar(20), numeric(5, 2))",
        base(function_arg_types=("DECIMAL(10,6)", "VARCHAR(20)", "NUMERIC(5, 2)")),
    ),
    (
        "multi-word types and whitespace",
        "CREATE MODEL m FROM t FUNCTION f(  double   precision ,\n character varying(10) )",
        base(function_arg_types=("DOUBLE PRECISION", "CHARACTER VARYING(10)")),
    ),
    (
        "comments in the type list",
        "CREATE MODEL m FROM t FUNCTION f(int /* age */, -- income, in dollars\n float)",
        base(function_arg_types=("INT", "FLOAT")),
    ),
    (
        "schema.name with types",
        "CREATE MODEL m FROM t FUNCTION ml.f(super)",
        base(function=N("f", "ml"), function_arg_types=("SUPER",)),
    ),
]

RETURNS_CASES = [
    ("int", *clause("RETURNS int", returns="INT")),
    ("decimal(10,6)", *clause("RETURNS decimal(10,6)", returns="DECIMAL(10,6)")),
    ("double precision", *clause("RETURNS double   precision", returns="DOUBLE PRECISION")),
    ("super", *clause("RETURNS SUPER", returns="SUPER")),
    ("varchar(6)", *clause("RETURNS varchar(6)", returns="VARCHAR(6)")),
    (
        "followed by a clause",
        *clause("RETURNS float8 IAM_ROLE default", returns="FLOAT8", iam_role="default"),
    ),
    ("comment after type", *clause("RETURNS int -- the label\n", returns="INT")),
]

# -- SAGEMAKER / IAM_ROLE / AUTO -------------------------------------------------------------

SAGEMAKER_CASES = [
    (
        "endpoint",
        *clause("SAGEMAKER 'randomcurforest-xxxxxxxxx'", sagemaker="randomcurforest-xxxxxxxxx"),
    ),
    (
        "endpoint:model",
        *clause("SAGEMAKER 'endpoint':'model_name'", sagemaker="endpoint:model_name"),
    ),
    ("spaced colon", *clause("SAGEMAKER 'ep' : 'm1'", sagemaker="ep:m1")),
]

IAM_ROLE_CASES = [
    ("default", *clause("IAM_ROLE default", iam_role="default")),
    ("DEFAULT", *clause("IAM_ROLE DEFAULT", iam_role="default")),
    (
        "arn",
        *clause(
            "IAM_ROLE 'arn:aws:iam::123456789012:role/Redshift-ML'",
            iam_role="arn:aws:iam::123456789012:role/Redshift-ML",
        ),
    ),
]

AUTO_CASES = [
    ("ON", *clause("AUTO ON", auto=True)),
    ("OFF", *clause("AUTO OFF", auto=False)),
    ("on", *clause("auto on", auto=True)),
    ("Off", *clause("Auto Off", auto=False)),
]

# -- MODEL_TYPE / PROBLEM_TYPE / OBJECTIVE ---------------------------------------------------

MODEL_TYPE_CASES = [
    (word, *clause(f"MODEL_TYPE {word}", model_type=word))
    for word in ("XGBOOST", "MLP", "LINEAR_LEARNER", "KMEANS", "FORECAST")
] + [
    ("lower", *clause("MODEL_TYPE xgboost", model_type="XGBOOST")),
    ("mixed", *clause("model_type Linear_Learner", model_type="LINEAR_LEARNER")),
]

PROBLEM_TYPE_CASES = [
    (word, *clause(f"PROBLEM_TYPE {word}", problem_type=word))
    for word in ("REGRESSION", "BINARY_CLASSIFICATION", "MULTICLASS_CLASSIFICATION")
] + [
    ("lower", *clause("PROBLEM_TYPE regression", problem_type="REGRESSION")),
    (
        "parens",
        *clause("PROBLEM_TYPE (BINARY_CLASSIFICATION)", problem_type="BINARY_CLASSIFICATION"),
    ),
    (
        "parens lower spaced",
        *clause(
            "problem_type ( multiclass_classification )", problem_type="MULTICLASS_CLASSIFICATION"
        ),
    ),
]

_OBJECTIVES = [
    ("'MSE'", "MSE"),
    ("'mse'", "MSE"),
    ("'Accuracy'", "Accuracy"),
    ("'ACCURACY'", "Accuracy"),
    ("'F1'", "F1"),
    ("'f1'", "F1"),
    ("'F1_Macro'", "F1Macro"),
    ("'F1Macro'", "F1Macro"),
    ("'f1_macro'", "F1Macro"),
    ("'F1MACRO'", "F1Macro"),
    ("'AUC'", "AUC"),
    ("'auc'", "AUC"),
    ("'reg:squarederror'", "reg:squarederror"),
    ("'reg:squaredlogerror'", "reg:squaredlogerror"),
    ("'reg:logistic'", "reg:logistic"),
    ("'reg:pseudohubererror'", "reg:pseudohubererror"),
    ("'reg:tweedie'", "reg:tweedie"),
    ("'binary:logistic'", "binary:logistic"),
    ("'BINARY:LOGISTIC'", "binary:logistic"),
    ("'binary:hinge'", "binary:hinge"),
    ("'multi:softmax'", "multi:softmax"),
    ("'RMSE'", "RMSE"),
    ("'wape'", "WAPE"),
    ("'MAPE'", "MAPE"),
    ("'MASE'", "MASE"),
    ("'averageweightedquantileloss'", "AverageWeightedQuantileLoss"),
    ("('F1')", "F1"),
    ("( 'f1_macro' )", "F1Macro"),
    ("$$auc$$", "AUC"),
]
OBJECTIVE_CASES = [
    (f"{sql}->{value}", *clause(f"OBJECTIVE {sql}", objective=value)) for sql, value in _OBJECTIVES
]

# -- PREPROCESSORS ---------------------------------------------------------------------------

# Exactly as printed in the reference (§2.3), placeholder-free.
DOC_PREPROCESSORS = """[
  {"ColumnSet": ["t1","t2"], "Transformers": ["OneHotEncoder","Imputer"]},
  {"ColumnSet": ["t3"],      "Transformers": ["OneHotEncoder"]},
  {"ColumnSet": ["temp"],    "Transformers": ["Imputer","NumericPassthrough"]}
]"""
KMEANS_PREPROCESSORS = """[
{
  "ColumnSet": [ "*" ],
  "Transformers": [ "NumericPassthrough" ]
}
]"""

PREPROCESSORS_CASES = [
    ("none", *clause("PREPROCESSORS 'none'", preprocessors="none")),
    ("doc json", *clause(f"PREPROCESSORS '{DOC_PREPROCESSORS}'", preprocessors=DOC_PREPROCESSORS)),
    (
        "dollar quoted",
        *clause(
            'PREPROCESSORS $$[{"ColumnSet": ["a"], "Transformers": ["OneHotEncoder"]}]$$',
            preprocessors='[{"ColumnSet": ["a"], "Transformers": ["OneHotEncoder"]}]',
        ),
    ),
    (
        "tagged dollar quote holding $$, a quote and a semicolon",
        *clause("PREPROCESSORS $pp$[{'x': '$$;'}]$pp$", preprocessors="[{'x': '$$;'}]"),
    ),
    (
        "escaped quote",
        *clause(
            """PREPROCESSORS '[{"ColumnSet": ["it''s"]}]'""",
            preprocessors="""[{"ColumnSet": ["it's"]}]""",
        ),
    ),
]

# -- HYPERPARAMETERS -------------------------------------------------------------------------

HYPERPARAMETERS_CASES = [
    ("DEFAULT", *clause("HYPERPARAMETERS DEFAULT", hyperparameters=())),
    ("default lower", *clause("hyperparameters default", hyperparameters=())),
    (
        "EXCEPT one",
        *clause(
            "HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '100')",
            hyperparameters=(("num_round", "100"),),
        ),
    ),
    (
        "EXCEPT several, order kept",
        *clause(
            "HYPERPARAMETERS DEFAULT EXCEPT ( NUM_ROUND '10', ETA '0.2', NUM_CLASS '10' )",
            hyperparameters=(("num_round", "10"), ("eta", "0.2"), ("num_class", "10")),
        ),
    ),
    (
        "no space before (",
        *clause("HYPERPARAMETERS DEFAULT EXCEPT(K '5')", hyperparameters=(("k", "5"),)),
    ),
    (
        "quoted key kept",
        *clause(
            "HYPERPARAMETERS DEFAULT EXCEPT (\"MAX_DEPTH\" '6')",
            hyperparameters=(("MAX_DEPTH", "6"),),
        ),
    ),
    (
        "unquoted numbers",
        *clause(
            "HYPERPARAMETERS DEFAULT EXCEPT (num_round 100, eta 0.2)",
            hyperparameters=(("num_round", "100"), ("eta", "0.2")),
        ),
    ),
    (
        "multi-line",
        *clause(
            "HYPERPARAMETERS DEFAULT EXCEPT (\n  max_depth '6',\n  subsample '0.8'\n)",
            hyperparameters=(("max_depth", "6"), ("subsample", "0.8")),
        ),
    ),
]

# -- SETTINGS --------------------------------------------------------------------------------

SETTINGS_CASES = [
    (
        "S3_BUCKET",
        *clause(
            "SETTINGS (S3_BUCKET 'amzn-s3-demo-bucket')",
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    ("s3_bucket lower", *clause("settings (s3_bucket 'b')", settings=(("S3_BUCKET", "b"),))),
    ("TAGS", *clause("SETTINGS (TAGS 'team=ml,env')", settings=(("TAGS", "team=ml,env"),))),
    (
        "S3_GARBAGE_COLLECT ON",
        *clause("SETTINGS (S3_GARBAGE_COLLECT ON)", settings=(("S3_GARBAGE_COLLECT", "ON"),)),
    ),
    (
        "s3_garbage_collect off",
        *clause("SETTINGS (s3_garbage_collect off)", settings=(("S3_GARBAGE_COLLECT", "OFF"),)),
    ),
    (
        "S3_GARBAGE_COLLECT 'off'",
        *clause("SETTINGS (S3_GARBAGE_COLLECT 'off')", settings=(("S3_GARBAGE_COLLECT", "OFF"),)),
    ),
    ("MAX_CELLS", *clause("SETTINGS (MAX_CELLS 1000000)", settings=(("MAX_CELLS", 1_000_000),))),
    ("MAX_CELLS low", *clause("SETTINGS (MAX_CELLS 1)", settings=(("MAX_CELLS", 1),))),
    ("MAX_CELLS high", *clause(f"SETTINGS (MAX_CELLS {2**62})", settings=(("MAX_CELLS", 2**62),))),
    ("MAX_RUNTIME", *clause("SETTINGS (MAX_RUNTIME 5400)", settings=(("MAX_RUNTIME", 5400),))),
    ("max_runtime low", *clause("SETTINGS (max_runtime 1)", settings=(("MAX_RUNTIME", 1),))),
    (
        "Max_Runtime high",
        *clause("SETTINGS (Max_Runtime 604800)", settings=(("MAX_RUNTIME", 604800),)),
    ),
    (
        "every supported key, order kept",
        *clause(
            "SETTINGS (\n  max_runtime 1500,\n  S3_BUCKET 'b',\n  tags 'k1=v1,k2',\n"
            "  MAX_CELLS 5000,\n  s3_garbage_collect OFF\n)",
            settings=(
                ("MAX_RUNTIME", 1500),
                ("S3_BUCKET", "b"),
                ("TAGS", "k1=v1,k2"),
                ("MAX_CELLS", 5000),
                ("S3_GARBAGE_COLLECT", "OFF"),
            ),
        ),
    ),
    ("no space before (", *clause("SETTINGS(S3_BUCKET 'b')", settings=(("S3_BUCKET", "b"),))),
]

CLAUSE_CASES = (
    FROM_CASES
    + TARGET_CASES
    + FUNCTION_CASES
    + RETURNS_CASES
    + SAGEMAKER_CASES
    + IAM_ROLE_CASES
    + AUTO_CASES
    + MODEL_TYPE_CASES
    + PROBLEM_TYPE_CASES
    + OBJECTIVE_CASES
    + PREPROCESSORS_CASES
    + HYPERPARAMETERS_CASES
    + SETTINGS_CASES
)

# -- SHOW MODEL / DROP MODEL -----------------------------------------------------------------

SHOW_DROP_CASES = [
    ("show name", "SHOW MODEL customer_churn", ast.ShowModel(N("customer_churn"))),
    (
        "show folded",
        "show model Demo_ML.Customer_Churn",
        ast.ShowModel(N("customer_churn", "demo_ml")),
    ),
    ("show quoted", 'SHOW MODEL "Demo"."Churn Model"', ast.ShowModel(N("Churn Model", "Demo"))),
    ("show ALL", "SHOW MODEL ALL", ast.ShowModelAll()),
    ("show all lower with ;", "show model all;", ast.ShowModelAll()),
    ("show a model named all", 'SHOW MODEL "all"', ast.ShowModel(N("all"))),
    ("show schema all", "SHOW MODEL s.all", ast.ShowModel(N("all", "s"))),
    ("drop", "DROP MODEL customer_churn", ast.DropModel(N("customer_churn"))),
    (
        "drop schema",
        "DROP MODEL demo_ml.customer_churn",
        ast.DropModel(N("customer_churn", "demo_ml")),
    ),
    ("drop if exists", "DROP MODEL IF EXISTS m", ast.DropModel(N("m"), if_exists=True)),
    (
        "drop if exists lower, schema",
        "drop model if exists Demo_ML.M;",
        ast.DropModel(N("m", "demo_ml"), if_exists=True),
    ),
    ("drop quoted", 'DROP MODEL "My Model"', ast.DropModel(N("My Model"))),
    ("drop a model named if", "DROP MODEL if", ast.DropModel(N("if"))),
    (
        "evaluate from a table",
        "EVALUATE MODEL s.m FROM holdout",
        ast.EvaluateModel(N("m", "s"), ast.FromTable(N("holdout"))),
    ),
    (
        "evaluate from a query, lower case",
        "evaluate model M from (SELECT * FROM t WHERE d >= '2024-01-01');",
        ast.EvaluateModel(N("m"), ast.FromQuery("SELECT * FROM t WHERE d >= '2024-01-01'")),
    ),
]

# -- The reference's real examples -----------------------------------------------------------

CHURN_QUERY = """SELECT state,
             account_length,
             area_code,
             total_charge/account_length AS average_daily_spend,
             cust_serv_calls/account_length AS average_daily_cases,
             churn
      FROM customer_activity
      WHERE  record_date < '2020-01-01'"""

ABALONE_QUERY = """SELECT length_val,
              diameter,
              height,
              whole_weight,
              shucked_weight,
              viscera_weight,
              shell_weight,
              rings
   FROM abalone_xgb WHERE record_number < 2500"""

ECOMMERCE_QUERY = """SELECT
  customerid,
  country,
  stockcode,
  description,
  invoicedate,
  sales_amt,
  nbr_months_active
FROM ecommerce_sales_training"""

EXAMPLES = [
    (
        "customer churn (AUTO ON)",
        f"""CREATE MODEL customer_churn_auto_model
FROM
    (
      {CHURN_QUERY}
     )
TARGET churn FUNCTION ml_fn_customer_churn_auto
IAM_ROLE default
SETTINGS (
  S3_BUCKET 'amzn-s3-demo-bucket'
);""",
        ast.CreateModel(
            name=N("customer_churn_auto_model"),
            source=ast.FromQuery(CHURN_QUERY),
            target="churn",
            function=N("ml_fn_customer_churn_auto"),
            iam_role="default",
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "customer churn with user guidance",
        f"""CREATE MODEL customer_churn
FROM customer_data
TARGET 'Churn'
FUNCTION customer_churn_predict
IAM_ROLE default
PROBLEM_TYPE BINARY_CLASSIFICATION
OBJECTIVE 'F1'
PREPROCESSORS '{DOC_PREPROCESSORS}'
SETTINGS (
  S3_BUCKET 'amzn-s3-demo-bucket'
)""",
        ast.CreateModel(
            name=N("customer_churn"),
            source=ast.FromTable(N("customer_data")),
            target="Churn",
            function=N("customer_churn_predict"),
            iam_role="default",
            problem_type="BINARY_CLASSIFICATION",
            objective="F1",
            preprocessors=DOC_PREPROCESSORS,
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "abalone xgboost multi:softmax (AUTO OFF)",
        f"""CREATE MODEL abalone_xgboost_multi_predict_age
FROM ( {ABALONE_QUERY} )
TARGET rings FUNCTION ml_fn_abalone_xgboost_multi_predict_age
IAM_ROLE 'arn:aws:iam::XXXXXXXXXXXX:role/Redshift-ML'
AUTO OFF
MODEL_TYPE XGBOOST
OBJECTIVE 'multi:softmax'
PREPROCESSORS 'none'
HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '100', NUM_CLASS '30')
SETTINGS (S3_BUCKET 'amzn-s3-demo-bucket');""",
        ast.CreateModel(
            name=N("abalone_xgboost_multi_predict_age"),
            source=ast.FromQuery(ABALONE_QUERY),
            target="rings",
            function=N("ml_fn_abalone_xgboost_multi_predict_age"),
            iam_role="arn:aws:iam::XXXXXXXXXXXX:role/Redshift-ML",
            auto=False,
            model_type="XGBOOST",
            objective="multi:softmax",
            preprocessors="none",
            hyperparameters=(("num_round", "100"), ("num_class", "30")),
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "xgboost binary (tutorial, lower-case settings, HYPERPARAMETERS before PREPROCESSORS)",
        """CREATE MODEL model_banknoteauthentication_xgboost_binary
FROM banknoteauthentication_train
TARGET class
FUNCTION func_model_banknoteauthentication_xgboost_binary
IAM_ROLE default
AUTO OFF
MODEL_TYPE xgboost
OBJECTIVE 'binary:logistic'
HYPERPARAMETERS DEFAULT EXCEPT(NUM_ROUND '100')
PREPROCESSORS 'none'
SETTINGS(S3_BUCKET 'amzn-s3-demo-bucket',
s3_garbage_collect off,
max_runtime 1500);""",
        ast.CreateModel(
            name=N("model_banknoteauthentication_xgboost_binary"),
            source=ast.FromTable(N("banknoteauthentication_train")),
            target="class",
            function=N("func_model_banknoteauthentication_xgboost_binary"),
            iam_role="default",
            auto=False,
            model_type="XGBOOST",
            objective="binary:logistic",
            preprocessors="none",
            hyperparameters=(("num_round", "100"),),
            settings=(
                ("S3_BUCKET", "amzn-s3-demo-bucket"),
                ("S3_GARBAGE_COLLECT", "OFF"),
                ("MAX_RUNTIME", 1500),
            ),
        ),
    ),
    (
        "K-means with preprocessors",
        f"""CREATE MODEL customers_clusters
FROM customers
FUNCTION customers_cluster
IAM_ROLE default
AUTO OFF
MODEL_TYPE KMEANS
PREPROCESSORS '{KMEANS_PREPROCESSORS}'
HYPERPARAMETERS DEFAULT EXCEPT ( K '5' )
SETTINGS (S3_BUCKET 'amzn-s3-demo-bucket');""",
        ast.CreateModel(
            name=N("customers_clusters"),
            source=ast.FromTable(N("customers")),
            function=N("customers_cluster"),
            iam_role="default",
            auto=False,
            model_type="KMEANS",
            preprocessors=KMEANS_PREPROCESSORS,
            hyperparameters=(("k", "5"),),
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "K-means tutorial (PREPROCESSORS 'none')",
        """CREATE MODEL news_data_clusters
FROM (select aggregatedsentiment, numberofarticles, avgtone, eventcode,
      numarts, actor1geo_lat, actor1geo_long
      from gdelt_data)
FUNCTION news_monitoring_cluster
IAM_ROLE default
AUTO OFF
MODEL_TYPE KMEANS
PREPROCESSORS 'none'
HYPERPARAMETERS DEFAULT EXCEPT (K '7')
SETTINGS (S3_BUCKET 'amzn-s3-demo-bucket');""",
        ast.CreateModel(
            name=N("news_data_clusters"),
            source=ast.FromQuery(
                "select aggregatedsentiment, numberofarticles, avgtone, eventcode,\n"
                "      numarts, actor1geo_lat, actor1geo_long\n"
                "      from gdelt_data"
            ),
            function=N("news_monitoring_cluster"),
            iam_role="default",
            auto=False,
            model_type="KMEANS",
            preprocessors="none",
            hyperparameters=(("k", "7"),),
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "multi-class classification",
        f"""CREATE MODEL ecommerce_customer_activity
FROM
  (
{ECOMMERCE_QUERY})
TARGET nbr_months_active FUNCTION predict_customer_activity
IAM_ROLE default
PROBLEM_TYPE MULTICLASS_CLASSIFICATION
SETTINGS (
  S3_BUCKET 'amzn-s3-demo-bucket',
  S3_GARBAGE_COLLECT OFF
);""",
        ast.CreateModel(
            name=N("ecommerce_customer_activity"),
            source=ast.FromQuery(ECOMMERCE_QUERY),
            target="nbr_months_active",
            function=N("predict_customer_activity"),
            iam_role="default",
            problem_type="MULTICLASS_CLASSIFICATION",
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"), ("S3_GARBAGE_COLLECT", "OFF")),
        ),
    ),
    (
        "regression with linear learner",
        """CREATE MODEL regression_model
FROM abalone_training
TARGET age
FUNCTION predict_age
IAM_ROLE default
MODEL_TYPE LINEAR_LEARNER
PROBLEM_TYPE REGRESSION
OBJECTIVE 'MSE'
SETTINGS (s3_bucket 'amzn-s3-demo-bucket',
s3_garbage_collect off,
max_runtime 15000);""",
        ast.CreateModel(
            name=N("regression_model"),
            source=ast.FromTable(N("abalone_training")),
            target="age",
            function=N("predict_age"),
            iam_role="default",
            model_type="LINEAR_LEARNER",
            problem_type="REGRESSION",
            objective="MSE",
            settings=(
                ("S3_BUCKET", "amzn-s3-demo-bucket"),
                ("S3_GARBAGE_COLLECT", "OFF"),
                ("MAX_RUNTIME", 15000),
            ),
        ),
    ),
    (
        "BYOM local",
        """CREATE MODEL customer_churn
FROM 'training-job-customer-churn-v4'
FUNCTION customer_churn_predict (varchar, int, float, float)
RETURNS int
IAM_ROLE default
SETTINGS (S3_BUCKET 'amzn-s3-demo-bucket');""",
        ast.CreateModel(
            name=N("customer_churn"),
            source=ast.FromJob("training-job-customer-churn-v4"),
            function=N("customer_churn_predict"),
            function_arg_types=("VARCHAR", "INT", "FLOAT", "FLOAT"),
            returns="INT",
            iam_role="default",
            settings=(("S3_BUCKET", "amzn-s3-demo-bucket"),),
        ),
    ),
    (
        "BYOM remote",
        """CREATE MODEL remote_random_cut_forest
FUNCTION remote_fn_rcf (int)
RETURNS decimal(10,6)
SAGEMAKER 'randomcurforest-xxxxxxxxx'
IAM_ROLE default;""",
        ast.CreateModel(
            name=N("remote_random_cut_forest"),
            source=None,
            function=N("remote_fn_rcf"),
            function_arg_types=("INT",),
            returns="DECIMAL(10,6)",
            sagemaker="randomcurforest-xxxxxxxxx",
            iam_role="default",
        ),
    ),
    (
        "multi-model endpoint",
        "CREATE MODEL m FUNCTION f(int, int) RETURNS SUPER "
        "SAGEMAKER 'endpoint':'model_name' IAM_ROLE default",
        ast.CreateModel(
            name=N("m"),
            source=None,
            function=N("f"),
            function_arg_types=("INT", "INT"),
            returns="SUPER",
            sagemaker="endpoint:model_name",
            iam_role="default",
        ),
    ),
    (
        "schema-qualified model and function",
        "CREATE MODEL ml.m FROM public.t TARGET c FUNCTION ml.f IAM_ROLE default "
        "SETTINGS (S3_BUCKET 'b');",
        ast.CreateModel(
            name=N("m", "ml"),
            source=ast.FromTable(N("t", "public")),
            target="c",
            function=N("f", "ml"),
            iam_role="default",
            settings=(("S3_BUCKET", "b"),),
        ),
    ),
    (
        "FORECAST needs no FUNCTION",
        "CREATE MODEL forecast_sales FROM sales TARGET quantity IAM_ROLE default AUTO ON "
        "MODEL_TYPE FORECAST OBJECTIVE 'AverageWeightedQuantileLoss' SETTINGS (S3_BUCKET 'b')",
        ast.CreateModel(
            name=N("forecast_sales"),
            source=ast.FromTable(N("sales")),
            function=None,
            target="quantity",
            iam_role="default",
            auto=True,
            model_type="FORECAST",
            objective="AverageWeightedQuantileLoss",
            settings=(("S3_BUCKET", "b"),),
        ),
    ),
]

ALL_VALID = CLAUSE_CASES + SHOW_DROP_CASES + EXAMPLES
