"""AUTO OFF hyperparameters: for each model type, every key Redshift accepts in
``HYPERPARAMETERS DEFAULT EXCEPT (...)`` with its type, default and allowed range (reference
§2.6), and the validation that turns the statement's quoted values into typed, effective ones.

Keys are case-insensitive (``NUM_ROUND`` in SQL, ``num_round`` in SHOW MODEL). An error names
the statement, the key, what is allowed and the value given; a misspelt key gets a suggestion.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlml import settings as S
from sqlml.errors import InvalidSetting


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    kind: type  # int, float or str
    default: object  # None: no default (required where it applies)
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    auto: bool = False  # also takes 'auto' (SageMaker's "let the algorithm choose")

    def allowed(self) -> str:
        if self.kind is list:
            return "a JSON list of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.choices:
            return "one of " + ", ".join(f"'{c}'" for c in self.choices)
        what = "an integer" if self.kind is int else "a number"
        if self.auto:
            what = f"'auto' or {what}"
        if self.low is not None and self.high is not None:
            return f"{what} from {_number(self.low)} to {_number(self.high)}"
        if self.low is not None:
            return f"{what} of at least {_number(self.low)}"
        return what

    def parse(self, text: str, where: str) -> object:
        """The value of ``text`` (the statement's quoted string), or InvalidSetting."""

        def wrong() -> InvalidSetting:
            return InvalidSetting(
                f"{where}: hyperparameter {self.name.upper()} must be {self.allowed()}; "
                f"got '{text}'."
            )

        raw = str(text).strip()
        if self.auto and raw.lower() == "auto":
            return "auto"
        if self.kind is list:  # a JSON list of choices, e.g. eval_metrics '["msd", "ssd"]'
            try:
                values = json.loads(raw)
            except json.JSONDecodeError:
                raise wrong() from None
            if not (isinstance(values, list) and values and set(values) <= set(self.choices)):
                raise wrong()
            return values
        if self.kind is str:
            value = raw.lower()
            if self.choices and value not in self.choices:
                raise wrong()
            return value
        try:
            number = float(raw)
        except ValueError:
            raise wrong() from None
        if not math.isfinite(number) or (self.kind is int and not number.is_integer()):
            raise wrong()
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise wrong()
        return int(number) if self.kind is int else number


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


XGBOOST = {
    h.name: h
    for h in (
        Hyperparameter("num_class", int, None, low=2),
        Hyperparameter("num_round", int, 100, low=1),
        Hyperparameter("tree_method", str, "auto", choices=("auto", "exact", "approx", "hist")),
        Hyperparameter("max_depth", int, 6, 0, 10),
        Hyperparameter("min_child_weight", float, 1.0, 0, 120),
        Hyperparameter("subsample", float, 1.0, 0.5, 1),
        Hyperparameter("gamma", float, 0.0, 0, 5),
        Hyperparameter("alpha", float, 0.0, 0, 1000),
        Hyperparameter("eta", float, 0.3, 0.1, 0.5),
        Hyperparameter("colsample_bylevel", float, 1.0, 0.1, 1),
        Hyperparameter("colsample_bynode", float, 1.0, 0.1, 1),
        Hyperparameter("colsample_bytree", float, 1.0, 0.5, 1),
        Hyperparameter("lambda", float, 1.0, 0, 1000),
        Hyperparameter("max_delta_step", int, 0, 0, 10),
    )
}


def resolve_table(
    table: dict[str, Hyperparameter], model_type: str, pairs: tuple, where: str
) -> dict[str, object]:
    """Every hyperparameter of ``table`` with its effective value: the defaults, with ``pairs``
    (the DEFAULT EXCEPT list, ``()`` for DEFAULT) validated and applied."""
    given: dict[str, object] = {}
    for key, text in pairs:
        name = key.lower()
        spec = table.get(name)
        if spec is None:
            raise InvalidSetting(
                f"{where}: unknown hyperparameter {key.upper()} for MODEL_TYPE {model_type}."
                f"{S.did_you_mean(key, [k.upper() for k in table])} Valid ones: "
                f"{', '.join(k.upper() for k in table)}."
            )
        given[name] = spec.parse(text, where)
    out = {name: spec.default for name, spec in table.items() if spec.default is not None}
    out.update(given)
    return out


def resolve(model_type: str, objective: str | None, pairs: tuple, where: str) -> dict[str, object]:
    """XGBoost's effective hyperparameters for ``objective`` (the one model type whose table
    lives here; other kinds keep theirs in their module and call ``resolve_table``)."""
    out = resolve_table(XGBOOST, model_type, pairs, where)
    if model_type == "XGBOOST":
        if objective == "multi:softmax" and "num_class" not in out:
            raise InvalidSetting(
                f"{where}: OBJECTIVE 'multi:softmax' needs the number of classes: add NUM_CLASS "
                "'n' to HYPERPARAMETERS DEFAULT EXCEPT (...); the target's values must be the "
                "integers 0 to n - 1."
            )
        if objective != "multi:softmax" and "num_class" in out:
            raise InvalidSetting(
                f"{where}: NUM_CLASS applies only to OBJECTIVE 'multi:softmax', not "
                f"'{objective}'; remove it."
            )
    return out
