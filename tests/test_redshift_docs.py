"""The Redshift ML documentation's tutorials and examples, replayed as written (issue 21).

One Redshift-dialect database replays every page of tests/redshift_docs in order, COPY reading
generated stand-ins of the tutorials' public S3 objects from a real S3-compatible server on
loopback. Each statement ends ok, unsupported or failed; the counts by part are printed (run
with ``-s``), and the tests hold the acceptance of issue 21: every table-preparation statement
runs, every AUTO ON / AUTO OFF / KMEANS model reaches READY, every probability example returns
the documented shape, and a failure is only one the page itself causes.
"""

from __future__ import annotations

import pytest

import sqlml
from tests.redshift_docs.replay import counts, replay, steps
from tests.redshift_docs.serving import objects_in_s3

pytestmark = pytest.mark.slow

# Statements that fail because the page names objects it never creates (a user, group, schema
# or model of another page), or reads what such a statement would have made. Each is named
# with the object it lacks.
PAGE_CONTEXT = {
    ("09_create_model_use_cases", 4): "abalone_xgboost_multi_predict_age, made by the next one",
    ("09_create_model_use_cases", 9): "customers, a table no page creates",
    ("10_show_model", 3): "customer_churn, a model no page creates",
    ("11_drop_model", 1): "demo_ml.customer_churn, a model no page creates",
    ("12_explain_model", 6): "test_schema.test_model_name, a model no page creates",
    ("13_admin_setup_privileges", 1): "retention_analyst_grp, a group no page creates",
    ("13_admin_setup_privileges", 4): "demo_ml.customer_churn_auto_model, never created",
    ("14_grant_usage_notes_ml", 1): "customer_churn, a model no page creates",
    ("14_grant_usage_notes_ml", 2): "customer_churn, a model no page creates",
    ("14_grant_usage_notes_ml", 3): "ml_schema, a schema no page creates",
    ("15_revoke_usage_notes_ml", 1): "customer_churn, a model no page creates",
    ("15_revoke_usage_notes_ml", 2): "customer_churn, a model no page creates",
    ("15_revoke_usage_notes_ml", 3): "ml_schema, a schema no page creates",
    ("20_remote_inference", 5): "remote_random_cut_forest, a SageMaker model (unsupported)",
    ("20_remote_inference", 6): "remote_fn_rcf, a SageMaker model's function (unsupported)",
    ("20_remote_inference", 7): "remote_fn_rcf, a SageMaker model's function (unsupported)",
    ("20_remote_inference", 8): "remote_fn_rcf, a SageMaker model's function (unsupported)",
}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    with objects_in_s3(tmp):
        conn = sqlml.connect(
            tmp / "docs.duckdb",
            dialect="redshift",
            synchronous=True,
            # The pages leave MAX_RUNTIME at Redshift's 5400 s; a test cannot wait that long.
            default_settings={"MAX_RUNTIME": 30, "MAX_TRIALS": 4},
        )
        done = replay(conn, steps())
        print("\n" + counts(done))
        for step in done:
            if step.outcome != "ok":
                print(f"{step.outcome:12} {step.where}: {step.message.splitlines()[0][:200]}")
        yield conn, done
        conn.close()


def test_the_corpus_is_complete():
    every = steps()
    assert len(every) >= 120
    assert {s.part for s in every} == {
        "table_prep",
        "create_model",
        "show_drop",
        "prediction",
        "probability",
        "privileges",
    }


def test_every_table_preparation_statement_runs(replayed):
    _, done = replayed
    failing = [
        f"{s.where}: {s.message}"
        for s in done
        if s.part == "table_prep"
        and s.outcome != "ok"
        and not s.expect
        and (s.file, s.number) not in PAGE_CONTEXT
    ]
    assert failing == []


def test_every_trainable_model_reaches_ready(replayed):
    conn, done = replayed
    created = [s for s in done if s.part == "create_model" and not s.expect]
    failing = [
        f"{s.where}: {s.message}"
        for s in created
        if s.outcome != "ok" and (s.file, s.number) not in PAGE_CONTEXT
    ]
    assert failing == []
    states = dict(conn.execute("SELECT model_name, model_state FROM stv_ml_model_info").fetchall())
    assert len(states) >= 8
    assert set(states.values()) == {"Model is Ready"}, states


def test_probability_examples_return_the_documented_shape(replayed):
    _, done = replayed
    probability = [s for s in done if s.part == "probability"]
    assert len(probability) == 6
    for step in probability:
        if (step.file, step.number) in PAGE_CONTEXT:
            continue
        assert step.outcome == "ok", f"{step.where}: {step.message}"
    whole, top, _, filtered, unnested, _ = probability
    value = whole.rows[0][next(iter(whole.rows[0]))]
    assert sorted(value) == ["labels", "probabilities"]
    assert sorted(value["labels"]) == ["False.", "True."]
    assert value["probabilities"] == sorted(value["probabilities"], reverse=True)
    assert abs(sum(value["probabilities"]) - 1) < 1e-6
    # prediction.labels[0], prediction.probabilities[0]: the likeliest label and its probability.
    assert list(top.rows[0]) == ["labels", "probabilities"]
    assert top.rows[0]["labels"] in ("False.", "True.") and top.rows[0]["probabilities"] >= 0.5
    assert all(r["probabilities"] > 0.7 for r in filtered.rows)
    # FROM t p, p.prediction.labels AS label AT index: each label with its 0-based position.
    assert list(unnested.rows[0]) == ["label", "index", "probabilities"]
    assert {r["label"] for r in unnested.rows} == {"True."}
    assert {r["index"] for r in unnested.rows} <= {0, 1}


def test_failures_are_only_those_the_pages_cause(replayed):
    _, done = replayed
    unexpected = [
        f"{s.where}: {s.message}"
        for s in done
        if s.outcome == "failed" and (s.file, s.number) not in PAGE_CONTEXT
    ]
    assert unexpected == []
    # and each of those fails for the reason given (it names the missing object), not another
    for step in done:
        if (step.file, step.number) in PAGE_CONTEXT and step.outcome == "failed":
            missing = PAGE_CONTEXT[(step.file, step.number)].split(",")[0].split(".")[-1]
            assert missing in step.message.lower(), (step.where, step.message)
    assert sum(s.outcome == "ok" for s in done) >= 100


def test_unsupported_statements_name_what_is_not_supported(replayed):
    _, done = replayed
    for step in done:
        if step.outcome == "unsupported":
            assert "not supported" in step.message, step.where
        if step.expect == "unsupported":
            assert step.outcome in ("unsupported", "failed"), step.where


def test_the_correlation_procedure_fills_its_table(replayed):
    _, done = replayed
    by_number = {s.number: s for s in done if s.file == "04_regression_bike_sharing"}
    create, call, select = by_number[11], by_number[12], by_number[13]
    assert "PROCEDURE sp_correlation" in create.text and create.outcome == "ok", create.message
    assert call.outcome == "ok", call.message
    assert call.rows == [{"output_temp_table_name": "tmp_corr_table"}]
    assert select.outcome == "ok", select.message
    # one row: each numeric column of trip_data, correlated with trip_count
    assert list(select.rows[0]) == [
        "trip_count", "trip_hour", "trip_day", "trip_month", "trip_year", "trip_quarter",
        "trip_month_week", "trip_week_day", "temp_c", "precip_amount_mm", "is_holiday",
        "serial_number",
    ]  # fmt: skip
    assert len(select.rows) == 1
    assert float(select.rows[0]["trip_count"]) == 1.0
