"""Shapley-value explanations: how far each input column moved a prediction from the model's
expected output, for every learner and for ensembles of them.

Each learner gives additive contributions in its own margin space (``Learner.contributions``):
the libraries' exact TreeSHAP for LightGBM, XGBoost and CatBoost; exact values for linear models
(coefficient times the distance from the training mean); integrated gradients from the training
mean for the MLP. Contributions of derived features (a date's parts, a text's word flags, a
category's frequency, one-hot columns) are summed into the input column they come from.

They reach the model's output (the regression value or the class probabilities) through each
non-linear step between margin and output: the sigmoid or softmax link, the log1p target
transform, the temperature. A step maps every contribution with the step's Jacobian averaged
along the straight path from the expected value to the row's value. For a one-dimensional step
(sigmoid, log1p, a binary model's temperature) that average is the secant slope, exact; the
multiclass softmax and temperature use Gauss-Legendre quadrature.
Averages over fold models and ensemble members are linear and pass through unchanged. What
is left over (float32 rounding in XGBoost, quadrature, the MLP's path integral; small) is spread
over the columns in proportion to their contributions, so that for every row and output

    expected + contributions.sum(axis=1) == value

holds to rounding, and ``value`` is the model's prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sqlml.automl.dense import dense_sources
from sqlml.automl.guidance import pca_names
from sqlml.automl.learners import LEARNERS
from sqlml.automl.learners.linear import sigmoid, softmax
from sqlml.automl.metrics import apply_temperature
from sqlml.automl.preprocessing import feature_sources, view

QUADRATURE_POINTS = 16
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(QUADRATURE_POINTS)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2  # on [0, 1]

METHODS = {
    "lightgbm": "TreeSHAP (LightGBM pred_contrib)",
    "lightgbm_rf": "TreeSHAP (LightGBM pred_contrib)",
    "lightgbm_target": "TreeSHAP (LightGBM pred_contrib)",
    "lightgbm_native": "TreeSHAP (LightGBM pred_contrib)",
    "xgboost": "TreeSHAP (XGBoost pred_contribs)",
    "catboost": "TreeSHAP (CatBoost ShapValues)",
    "linear": "exact linear contributions from the training mean",
    "mlp": "integrated gradients from the training mean",
    "forest": "Saabas path attributions (scikit-learn trees)",
    "knn": "sampled Shapley values from the training mean",
}


@dataclass
class Explanation:
    """``contributions`` (rows x input columns x outputs); ``expected`` and ``value`` (rows x
    outputs). Outputs: one for regression, one per class (probabilities) for classification."""

    columns: list[str]
    expected: np.ndarray
    contributions: np.ndarray
    value: np.ndarray
    # What the contributions missed before it was spread over them (rows x outputs), like
    # BigQuery's approximation_error: rounding for trees, more for the MLP's path integral.
    residue: np.ndarray


def _source_matrix(plan: dict, dense_plan: dict | None, learner) -> np.ndarray:
    """A 0/1 matrix (learner's input features x input columns) summing features into columns."""
    sources = feature_sources(plan)
    positions = {spec["index"]: i for i, spec in enumerate(plan["columns"])}
    for g in range(len(pca_names(plan.get("mixes", [])))):
        positions[-(g + 1)] = len(plan["columns"]) + g
    if learner.family == "dense":
        indices, _ = view(plan, "tree")
        tree = [sources[j] for j in (indices if indices is not None else range(len(sources)))]
        per_feature = [tree[j] for j in dense_sources(dense_plan)]
    else:
        indices, _ = view(plan, learner.view)
        per_feature = [
            sources[j] for j in (indices if indices is not None else range(len(sources)))
        ]
    G = np.zeros((len(per_feature), len(positions)))
    G[np.arange(len(per_feature)), [positions[s] for s in per_feature]] = 1.0
    return G


def _through_link(phi: np.ndarray, bias: np.ndarray, problem_type: str, link: bool = True):
    """Margin contributions (n, s, k) and bias (n, k) as contributions to ``predict``'s output,
    with the expected output and the output (already there when ``link`` is False)."""
    z = bias + phi.sum(axis=1)
    if problem_type == "REGRESSION" or not link:
        return phi, bias, z
    if problem_type == "BINARY_CLASSIFICATION":
        p, p0 = sigmoid(z[:, 0]), sigmoid(bias[:, 0])
        slope = _secant(p, p0, z[:, 0], bias[:, 0], p0 * (1 - p0))
        c = phi[:, :, 0] * slope[:, None]
        return (
            np.stack([-c, c], axis=2),
            np.column_stack([1 - p0, p0]),
            np.column_stack([1 - p, p]),
        )
    J = np.zeros((len(z), z.shape[1], z.shape[1]))
    for t, w in zip(_NODES, _WEIGHTS, strict=True):
        q = softmax(bias + t * (z - bias))
        J += w * (_diag(q) - q[:, :, None] * q[:, None, :])
    return np.einsum("nkj,nsj->nsk", J, phi), softmax(bias), softmax(z)


def _through_temperature(c: np.ndarray, expected: np.ndarray, value: np.ndarray, T: float):
    """The same for the temperature applied to the ensemble's probabilities."""
    if T == 1.0:
        return c, expected, value
    h0, h = apply_temperature(expected, T), apply_temperature(value, T)
    if value.shape[1] == 2:  # one-dimensional: p -> sigmoid(logit(p) / T) of class 1, exact
        p0 = np.clip(expected[:, 1], 1e-15, 1 - 1e-15)
        slope = _secant(
            h[:, 1],
            h0[:, 1],
            value[:, 1],
            expected[:, 1],
            h0[:, 1] * h0[:, 0] / (T * p0 * (1 - p0)),
        )
        c1 = c[:, :, 1] * slope[:, None]
        return np.stack([-c1, c1], axis=2), h0, h
    J = np.zeros((len(value), value.shape[1], value.shape[1]))
    for t, w in zip(_NODES, _WEIGHTS, strict=True):
        q = np.clip(expected + t * (value - expected), 1e-15, 1.0)
        h = apply_temperature(q, T)
        J += w * (_diag(h) - h[:, :, None] * h[:, None, :]) / (T * q[:, None, :])
    return np.einsum("nkj,nsj->nsk", J, c), h0, h


def _diag(q: np.ndarray) -> np.ndarray:
    return q[:, :, None] * np.eye(q.shape[1])[None, :, :]


def _secant(y, y0, x, x0, derivative_at_x0):
    """(y - y0) / (x - x0), or the derivative where x and x0 (nearly) coincide."""
    dx = x - x0
    close = np.abs(dx) < 1e-9
    return np.where(close, derivative_at_x0, (y - y0) / np.where(close, 1.0, dx))


def spread(c: np.ndarray, residue: np.ndarray) -> np.ndarray:
    """``residue`` (rows x outputs) added to the columns in proportion to their contributions
    to all outputs together: one share per column keeps a classifier's contributions summing
    to zero over its classes."""
    size = np.abs(c).sum(axis=2)
    total = size.sum(axis=1, keepdims=True)
    share = np.where(total > 0, size / np.where(total > 0, total, 1.0), 1.0 / c.shape[1])
    return c + share[:, :, None] * residue[:, None, :]


def explain(model, matrices: dict[str, np.ndarray]) -> Explanation:
    """Contributions of every input column to the predictions of ``model`` (a FittedModel) for
    the rows of ``matrices`` (``FittedModel.matrices``)."""
    plan, dense_plan = model.plan, model.dense_plan
    baseline = None
    if dense_plan:
        baseline = np.asarray(dense_plan.get("baseline") or np.zeros(matrices["dense"].shape[1]))
    total_c = total_e = total_v = None
    for member in model.members:
        learner = LEARNERS[member.learner]
        inputs = matrices["dense" if learner.family == "dense" else learner.view]
        G = _source_matrix(plan, dense_plan, learner)
        weights = member.model_weights or [1.0 / len(member.models)] * len(member.models)
        c = e = v = 0.0
        for fitted, w in zip(member.models, weights, strict=True):
            phi, bias = learner.contributions(fitted, inputs, model.problem_type, baseline)
            mc, me, mv = _through_link(
                np.einsum("nfk,fs->nsk", phi, G), bias, model.problem_type, learner.link
            )
            c, e, v = c + w * mc, e + w * me, v + w * mv
        if member.target_transform == "log1p":
            slope = _secant(np.expm1(v), np.expm1(e), v, e, np.exp(e))
            c, e, v = c * slope[:, None, :], np.expm1(e), np.expm1(v)
        scaled = (member.weight * c, member.weight * e, member.weight * v)
        if total_c is None:
            total_c, total_e, total_v = scaled
        else:
            total_c, total_e, total_v = (
                total_c + scaled[0],
                total_e + scaled[1],
                total_v + scaled[2],
            )
    if model.classes is not None:
        total_c, total_e, total_v = _through_temperature(
            total_c, total_e, total_v, model.temperature
        )
    # The prediction itself: XGBoost's float32 contributions, linear models on the float32 matrix
    # and the MLP's path integral reproduce it to about 1e-6 only.
    value = model.predict_matrix(matrices)
    value = value[:, None] if value.ndim == 1 else value
    columns = [spec["name"] for spec in plan["columns"]] + pca_names(plan.get("mixes", []))
    residue = value - total_e - total_c.sum(axis=1)
    return Explanation(columns, total_e, spread(total_c, residue), value, residue)


def global_explanation(model, explanation: Explanation) -> dict:
    """Redshift's ``explain_model`` document: per output, the mean absolute contribution of
    every column over the explained rows and the expected value. Regression and binary models
    have one output (``label0``: the value, the positive class's probability); multiclass
    models one per class, in the order of the classes."""
    if model.classes is None:
        outputs = [(0, None)]
    elif model.positive is not None:
        outputs = [(model.positive, model.classes[model.positive])]
    else:
        outputs = list(enumerate(model.classes))
    return document(explanation, outputs, sorted({METHODS[m.learner] for m in model.members}))


def document(explanation: Explanation, outputs: list[tuple[int, object]], methods: list) -> dict:
    """The document for the ``outputs`` (output index, label or None) of ``explanation``."""
    labels = {}
    for i, (k, label) in enumerate(outputs):
        mean_abs = np.abs(explanation.contributions[:, :, k]).mean(axis=0)
        entry = {
            "global_shap_values": {
                name: float(v) for name, v in zip(explanation.columns, mean_abs, strict=True)
            },
            "expected_value": float(explanation.expected[:, k].mean()),
        }
        if label is not None:
            entry["label"] = label if isinstance(label, str | int | float | bool) else str(label)
        labels[f"label{i}"] = entry
    return {
        "version": "1.0",
        "explanations": {"kernel_shap": labels},
        "rows": int(len(explanation.value)),
        "methods": methods,
    }
