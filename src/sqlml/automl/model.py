"""The fitted model: preprocessing plans plus a weighted ensemble of members, each member one
candidate's model(s) (several when cross-validation bagged its fold models).

Saved as files in a package folder: ``preprocessing.json`` (the tree-family plan), ``dense.json``
(the dense encoding, when a member uses it), ``leaderboard.json`` and one native model file per
fold model; the returned dict is the manifest's ``model`` section. Loading reads those files with
each library's own loader; nothing is unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sqlml.automl.dense import dense_transform
from sqlml.automl.learners import LEARNERS
from sqlml.automl.metrics import apply_temperature, decide_labels
from sqlml.automl.preprocessing import compile_lookups, transform, view, view_slots

PLAN_FILE = "preprocessing.json"
DENSE_FILE = "dense.json"
LEADERBOARD_FILE = "leaderboard.json"
EXPLANATION_FILE = "explanation.json"
MODEL_FORMAT = "ensemble/1"


@dataclass
class Member:
    name: str
    learner: str
    weight: float
    target_transform: str | None
    models: list = field(repr=False)
    trial: int = 0
    # How the member's models are averaged (fold models and a refit on every row); None: equally.
    model_weights: list[float] | None = None


@dataclass
class FittedModel:
    plan: dict
    dense_plan: dict | None
    problem_type: str
    objective: str
    classes: list | None
    positive: int | None
    threshold: float
    members: list[Member]
    metrics: dict = field(default_factory=dict)
    leaderboard: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    temperature: float = 1.0  # calibration of the ensemble's class probabilities
    # explain_model's document (automl.explain.global_explanation), computed after training
    explanation: dict | None = None
    _lookups: dict = field(init=False, repr=False)
    _views: tuple = field(init=False, repr=False, default=((), {}))

    def __post_init__(self) -> None:
        self._lookups = compile_lookups(self.plan)  # once per model, not once per batch

    def views(self) -> dict[str, tuple]:
        """Each view the members read: its feature indices (None: all) and ``transform``'s
        slots for it. Computed once per set of members, not once per batch."""
        learners = tuple(member.learner for member in self.members)
        if self._views[0] != learners:
            names = {"tree"} if self.dense_plan else set()
            for learner in learners:
                family, name = LEARNERS[learner].family, LEARNERS[learner].view
                names.add("tree" if family == "dense" else name)
            found = {}
            for name in sorted(names):
                indices, _ = view(self.plan, name)
                found[name] = (indices, None if indices is None else view_slots(self.plan, indices))
            self._views = (learners, found)
        return self._views[1]

    # -- prediction ------------------------------------------------------------------------

    def matrices(self, columns: list) -> dict[str, np.ndarray]:
        """The feature matrix in every view a member needs (and the dense encoding)."""
        views = self.views()
        if len(views) == 1 and not self.dense_plan:
            # One view, computed directly (the prediction function's usual case) unless the
            # plan's Normalizer or PCA needs every feature first (view_slots gave None).
            ((name, (indices, slots)),) = views.items()
            if indices is None or slots is not None:
                return {name: transform(self.plan, columns, self._lookups, slots)}
        return self.views_of(transform(self.plan, columns, self._lookups))

    def views_of(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """``matrices`` from the whole feature matrix ``X`` (``transform``'s output)."""
        out = {}
        for name, (indices, _) in self.views().items():
            # np.take keeps rows contiguous (X[:, indices] is column-major), which the
            # boosters read faster: bench/predict.py went from 8.13 s to 7.99 s.
            out[name] = X if indices is None else np.take(X, indices, axis=1)
        if self.dense_plan:
            out["dense"] = dense_transform(self.dense_plan, out["tree"])
        return out

    def predict_matrix(self, matrices: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities (n x k) or values (n) from the preprocessed matrices."""
        total = None
        for member in self.members:
            learner = LEARNERS[member.learner]
            inputs = matrices["dense" if learner.family == "dense" else learner.view]
            preds = [learner.predict(m, inputs, self.problem_type) for m in member.models]
            if len(preds) == 1:
                pred = preds[0]  # a copy-free shortcut for np.average of one prediction
            else:
                pred = np.average(preds, axis=0, weights=member.model_weights)
            if member.target_transform == "log1p":
                pred = np.expm1(pred)
            if member.weight != 1.0:
                pred = member.weight * pred
            total = pred if total is None else total + pred
        if self.classes is not None:
            total = apply_temperature(total, self.temperature)
        return total

    def predict_raw(self, columns: list) -> np.ndarray:
        n = len(columns[0]) if columns else 0
        if n == 0:
            k = len(self.classes) if self.classes else 0
            return np.empty((0, k)) if k else np.empty(0)
        return self.predict_matrix(self.matrices(columns))

    def labels(self, raw: np.ndarray) -> np.ndarray:
        """Class indices for classification output."""
        return decide_labels(raw, self.positive, self.threshold)

    # -- persistence -----------------------------------------------------------------------

    def save(self, directory: Path) -> dict:
        (directory / PLAN_FILE).write_text(json.dumps(self.plan))
        if self.dense_plan:
            (directory / DENSE_FILE).write_text(json.dumps(self.dense_plan))
        (directory / LEADERBOARD_FILE).write_text(json.dumps(self.leaderboard, default=_json))
        if self.explanation is not None:
            (directory / EXPLANATION_FILE).write_text(json.dumps(self.explanation))
        members = []
        for i, member in enumerate(self.members):
            learner = LEARNERS[member.learner]
            specs = [
                learner.save(m, directory, f"member{i}_fold{j}")
                for j, m in enumerate(member.models)
            ]
            members.append(
                {
                    "name": member.name,
                    "learner": member.learner,
                    "trial": member.trial,
                    "weight": member.weight,
                    "target_transform": member.target_transform,
                    "models": specs,
                    "model_weights": member.model_weights,
                }
            )
        return {
            "format": MODEL_FORMAT,
            "preprocessing": PLAN_FILE,
            "dense": DENSE_FILE if self.dense_plan else None,
            "leaderboard": LEADERBOARD_FILE,
            "explanation": EXPLANATION_FILE if self.explanation is not None else None,
            "features": self.plan["features"],
            "classes": self.classes,
            "positive_class": None if self.positive is None else self.classes[self.positive],
            "threshold": self.threshold,
            "temperature": self.temperature,
            "members": members,
            "summary": self.summary,
        }

    @classmethod
    def load(cls, section: dict, directory: Path, problem_type: str, objective: str) -> FittedModel:
        plan = json.loads((directory / section["preprocessing"]).read_text())
        dense = json.loads((directory / section["dense"]).read_text()) if section["dense"] else None
        members = []
        for spec in section["members"]:
            learner = LEARNERS[spec["learner"]]
            models = [learner.load(m, directory) for m in spec["models"]]
            members.append(
                Member(
                    spec["name"],
                    spec["learner"],
                    spec["weight"],
                    spec["target_transform"],
                    models,
                    spec.get("trial", 0),
                    spec.get("model_weights"),
                )
            )
        classes = section["classes"]
        positive = None
        if classes is not None and len(classes) == 2:
            positive = classes.index(section["positive_class"])
        return cls(
            plan,
            dense,
            problem_type,
            objective,
            classes,
            positive,
            section.get("threshold", 0.5),
            members,
            summary=section.get("summary", {}),
            temperature=section.get("temperature", 1.0),
        )


def _json(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
