"""A model's metrics on labelled rows (EVALUATE MODEL, like BigQuery's ML.EVALUATE).

Classification: accuracy, precision, recall, F1 (of the positive class on binary models, the
macro average over classes on multiclass ones, as BigQuery reports them), log loss, ROC AUC
(one-vs-rest macro average on multiclass; NULL when the rows hold a single class) and the
confusion matrix (rows: true class, columns: predicted class, in the model's class order).
Regression: mean absolute error, mean squared error, its root, and R2. Labels are decided as the
prediction function decides them (the tuned threshold of an F1 model included).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import TrainingDataError
from sqlml.runtime.predictor import Predictor

CONFUSION_TYPE = pa.struct(
    [("labels", pa.list_(pa.string())), ("counts", pa.list_(pa.list_(pa.int64())))]
)


def evaluate(predictor: Predictor, columns: list, target: pa.ChunkedArray, what: str) -> pa.Table:
    """Metrics of ``predictor`` on ``columns`` (features in the model's order) against
    ``target``; rows whose target is NULL are left out. ``what`` names the model in errors."""
    from sklearn import metrics as skm  # imported when used: it is slow to import

    valid = pc.is_valid(target)
    skipped = len(target) - pc.sum(valid).as_py() if len(target) else 0
    if skipped:
        columns = [pc.filter(c, valid) for c in columns]
        target = pc.filter(target, valid)
    if len(target) == 0:
        raise TrainingDataError(f"EVALUATE MODEL {what}: no row has a non-NULL target to compare.")
    raw = predictor.predict_raw(columns)
    model = predictor.model
    head = {"rows": [len(target)], "rows_without_target": [skipped]}
    if model.classes is None:
        y = pc.cast(target, pa.float64()).to_numpy(zero_copy_only=False)
        mse = float(skm.mean_squared_error(y, raw))
        return pa.table(
            {
                **head,
                "mean_absolute_error": [float(skm.mean_absolute_error(y, raw))],
                "mean_squared_error": [mse],
                "root_mean_squared_error": [float(np.sqrt(mse))],
                "r2_score": [float(skm.r2_score(y, raw)) if len(y) > 1 else None],
            }
        )
    return pa.table({**head, **_classification(model, raw, target)})


def _class_codes(classes: list, target: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Each row's class index; a value the model never saw gets an index past the model's
    classes (k, k + 1, ... in sorted order), and is listed."""
    known = pa.array(classes)
    try:
        values = pc.cast(target, known.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pc.cast(pc.cast(target, pa.string()), known.type)
    codes = pc.index_in(values, value_set=known)
    unseen: list[str] = []
    if codes.null_count:
        missing = pc.is_null(codes)
        strings = pc.cast(target, pa.string())
        unseen = sorted(set(pc.filter(strings, missing).to_pylist()))
        extra = pc.index_in(strings, value_set=pa.array(unseen, pa.string()))
        codes = pc.if_else(missing, pc.add(extra, len(classes)), codes)
    return codes.to_numpy(zero_copy_only=False).astype(np.int64), unseen


def _classification(model, raw: np.ndarray, target: pa.ChunkedArray) -> dict:
    from sklearn import metrics as skm  # imported when used: it is slow to import

    k = len(model.classes)
    # Rows of a class the model never saw count as errors (no prediction can be right), with a
    # probability of 0 for their class; the classes are listed in the result.
    y, unseen = _class_codes(model.classes, target)
    seen = y < k
    predicted = model.labels(raw)  # from the probabilities the prediction function sees
    raw = np.asarray(raw, dtype=np.float64)
    raw = raw / raw.sum(axis=1, keepdims=True)  # float32 learners sum to 1 only within 1e-7
    if model.positive is not None:
        average, pos_label = "binary", model.positive
    else:
        average, pos_label = "macro", 1
    scores = {
        "precision": skm.precision_score,
        "recall": skm.recall_score,
        "f1_score": skm.f1_score,
    }
    out = {"accuracy": [float(skm.accuracy_score(y, predicted))]}
    # The positive class's scores: a class never seen is not the positive class.
    scored = y if model.positive is None else np.where(seen, y, 1 - model.positive)
    for name, fn in scores.items():
        value = fn(
            scored,
            predicted,
            labels=list(range(k)),
            average=average,
            pos_label=pos_label,
            zero_division=0.0,
        )
        out[name] = [float(value)]
    p_true = np.where(seen, raw[np.arange(len(y)), np.minimum(y, k - 1)], 0.0)
    out["log_loss"] = [float(-np.mean(np.log(np.clip(p_true, 1e-15, 1.0))))]
    auc = None
    if len(np.unique(y)) > 1:
        if model.positive is not None:
            auc = skm.roc_auc_score(y == model.positive, raw[:, model.positive])
        elif not unseen and len(np.unique(y)) == k:
            auc = skm.roc_auc_score(y, raw, multi_class="ovr", average="macro", labels=range(k))
    out["roc_auc"] = [None if auc is None else float(auc)]
    matrix = skm.confusion_matrix(y, predicted, labels=list(range(k + len(unseen))))
    labels = pc.cast(pa.array(model.classes), pa.string()).to_pylist() + unseen
    out["confusion_matrix"] = pa.array(
        [{"labels": labels, "counts": matrix.tolist()}], type=CONFUSION_TYPE
    )
    out["unseen_classes"] = pa.array([unseen], pa.list_(pa.string()))
    return out
