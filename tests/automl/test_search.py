"""Validation, ensembles, search and the whole train_model on small generated tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.automl.budget import Deadline
from sqlml.automl.ensemble import greedy_ensemble
from sqlml.automl.learners import LEARNERS
from sqlml.automl.train import train_model
from sqlml.automl.validation import make_validation
from sqlml.errors import TrainingTimeout


def test_small_tables_get_stratified_kfold():
    y = np.array([0] * 90 + [1] * 10)
    v = make_validation(y, True, 0)
    assert v.mode == "kfold" and len(v.folds) == 5
    assert sorted(v.eval_idx.tolist()) == list(range(100))
    for _, valid in v.folds:
        assert y[valid].sum() == 2  # every fold keeps the class balance


def test_large_tables_get_a_hold_out():
    y = np.arange(20_000) % 3
    v = make_validation(y, True, 0)
    assert v.mode == "holdout" and len(v.eval_idx) == 4000
    assert np.bincount(y[v.eval_idx]).tolist() == [1334, 1333, 1333]


def test_greedy_ensemble_combines_complementary_models():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    a = y + rng.normal(scale=1.0, size=500)
    b = y + rng.normal(scale=1.0, size=500)
    bad = y + 5 + rng.normal(scale=3.0, size=500)  # biased and noisy: never helps
    weights, score = greedy_ensemble([a, b, bad], y, "MSE", "REGRESSION", None)
    assert set(weights) == {0, 1}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert -score[0] < np.mean((a - y) ** 2) * 0.7


# The searches below end after a few candidates (max_trials); their deadline is far more than
# those need, even on a busy machine.
DEADLINE = 600


def table(n: int = 300, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    y = np.where(x + (color == "red") > 0.5, "yes", "no")
    return pa.table({"x": x, "color": color, "noise": rng.normal(size=n), "y": y})


@pytest.mark.slow
def test_train_model_tunes_the_f1_threshold_and_records_the_leaderboard():
    model = train_model(table(), "y", deadline=Deadline(DEADLINE), max_trials=2)
    assert model.problem_type == "BINARY_CLASSIFICATION"
    assert model.objective == "F1"
    assert 0.0 < model.threshold < 1.0
    assert "validation:f1" in model.metrics
    assert model.classes == ["no", "yes"] and model.positive == 1
    assert model.leaderboard[0]["candidate"] == "lightgbm"
    weights = sum(row["ensemble_weight"] for row in model.leaderboard)
    assert weights == pytest.approx(1.0)
    columns = [table().column(c) for c in ("x", "color", "noise")]
    raw = model.predict_raw(columns)
    assert raw.shape == (300, 2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model_type", "learners"),
    [
        ("LINEAR_LEARNER", {"linear"}),
        ("XGBOOST", {"xgboost"}),
        ("MLP", {"mlp"}),
    ],
)
def test_model_type_restricts_the_search(model_type, learners):
    model = train_model(
        table(), "y", model_type=model_type, deadline=Deadline(DEADLINE), max_trials=2
    )
    assert {row["learner"] for row in model.leaderboard} == learners
    assert {m.learner for m in model.members} == learners


@pytest.mark.slow
def test_max_trials_ends_the_search_however_much_time_is_left():
    model = train_model(table(), "y", deadline=Deadline(DEADLINE), max_trials=3)
    assert len([row for row in model.leaderboard if row["status"] != "skipped"]) == 3
    # The portfolio's order: its best-known candidates are the ones tried.
    assert model.leaderboard[0]["candidate"] == "lightgbm"


def test_no_time_for_any_candidate_is_a_clear_error():
    clock = iter([0.0] + [1000.0] * 1000).__next__
    with pytest.raises(TrainingTimeout, match="No candidate model finished within MAX_RUNTIME"):
        train_model(table(), "y", deadline=Deadline(5, clock=clock))


@pytest.mark.slow
def test_skewed_regression_tries_the_log_target():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    y = np.exp(2 + x + rng.normal(scale=0.2, size=400))
    # The log-target candidate comes second, after lightgbm.
    model = train_model(pa.table({"x": x, "y": y}), "y", deadline=Deadline(DEADLINE), max_trials=2)
    assert any(row["target_transform"] == "log1p" for row in model.leaderboard)


@pytest.mark.slow
def test_candidate_models_wait_on_disk_and_are_cleaned_up(tmp_path):
    seen: list[set[str]] = []

    def on_trial(trial):
        seen.append({p.name for p in tmp_path.rglob("*") if p.is_file()})

    model = train_model(
        table(),
        "y",
        deadline=Deadline(DEADLINE),
        max_trials=2,
        on_trial=on_trial,
        scratch=tmp_path,
    )
    # While the search ran, every finished candidate's fold models were files in the scratch
    # folder; afterwards the folder is gone and the chosen models are in memory.
    assert seen and any(len(files) >= 5 for files in seen)
    assert list(tmp_path.iterdir()) == []
    columns = [table().column(c) for c in ("x", "color", "noise")]
    assert model.predict_raw(columns).shape == (300, 2)


def test_a_failed_search_leaves_no_scratch_files(tmp_path):
    clock = iter([0.0] + [1000.0] * 1000).__next__
    with pytest.raises(TrainingTimeout):
        train_model(table(), "y", deadline=Deadline(5, clock=clock), scratch=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_booster_still_learning_at_its_round_cap_is_followed_by_a_faster_larger_one():
    learner = LEARNERS["lightgbm"]
    params = {"learning_rate": 0.05, "num_leaves": 31}
    assert learner.follow_up(params, [120, 300, 4100]) == []  # early-stopped: nothing to add
    assert learner.follow_up(params, [None]) == []
    ((name, fast),) = learner.follow_up(params, [4990, 5000])
    assert name == "lightgbm_fast"
    assert fast["learning_rate"] == 0.1 and fast["num_leaves"] == 124
    assert learner.follow_up({**params, "extra_trees": True}, [5000]) == []
    assert learner.follow_up({**params, "num_rounds": 200}, [195]) != []


@pytest.mark.slow
def test_the_follow_up_is_tried_next():
    # A surface with more ripples than 5,000 rounds of a 31-leaf booster at rate 0.05 learn.
    rng = np.random.default_rng(0)
    x, z = rng.uniform(size=3000), rng.uniform(size=3000)
    y = np.sin(40 * x) * np.cos(30 * z) + x
    model = train_model(
        pa.table({"x": x, "z": z, "y": y}), "y", deadline=Deadline(DEADLINE), max_trials=2
    )
    assert [row["candidate"] for row in model.leaderboard] == ["lightgbm", "lightgbm_fast"]


def test_large_boosters_and_subclasses_follow_up_sensibly():
    large = {"learning_rate": 0.1, "num_leaves": 128}
    assert LEARNERS["lightgbm"].follow_up(large, [5000]) == []
    rare = {"learning_rate": 0.05, "num_leaves": 31, "min_data_per_group": 5}
    ((name, fast),) = LEARNERS["lightgbm_native"].follow_up(rare, [5000])
    assert name == "lightgbm_native_fast" and fast["min_data_per_group"] == 5
