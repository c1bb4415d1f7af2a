"""Candidate models wait on disk, not in memory, until the ensemble is chosen.

A search keeps the fitted models of its best candidates (the ensemble's pool); bagged boosters
with thousands of rounds are tens of MB each, so holding a dozen of them would make the pool,
not the data, the largest thing in memory. Each fitted model is written in its learner's native
format to a scratch folder as soon as its out-of-fold predictions are taken, and read back only
if it is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlml.automl.learners import LEARNERS


@dataclass(frozen=True)
class SpilledModel:
    learner: str
    spec: dict  # the learner's save() spec, relative to ``directory``
    directory: Path
    rounds: int | None  # what learner.rounds() said before the model was written

    def load(self):
        return LEARNERS[self.learner].load(self.spec, self.directory)

    def remove(self) -> None:
        (self.directory / self.spec["file"]).unlink(missing_ok=True)


class Spill:
    def __init__(self, directory: Path):
        self.directory = directory

    def put(self, learner: str, model, stem: str) -> SpilledModel:
        chosen = LEARNERS[learner]
        spec = chosen.save(model, self.directory, stem)
        return SpilledModel(learner, spec, self.directory, chosen.rounds(model))
