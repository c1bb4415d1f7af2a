"""The PREPROCESSORS clause (reference §2.3): a JSON array of
``{"ColumnSet": [column, ...], "Transformers": [name, ...]}``, or ``'none'``.

``parse`` validates it against the model's feature columns and the transformers its model type
accepts, and returns it as data: one ``(columns, transformers)`` pair per entry, columns spelt as
in the FROM query, ``["*"]`` expanded to every column. Every mistake is named: invalid JSON (with
its line and column), a wrong shape, an unknown column or transformer (with a suggestion), a
transformer the model type does not take, a column in two sets.
"""

from __future__ import annotations

import json

from sqlml import settings as S
from sqlml.errors import InvalidSetting

TRANSFORMERS = (
    "OneHotEncoder",
    "OrdinalEncoder",
    "NumericPassthrough",
    "Imputer",
    "ImputerWithIndicator",
    "Normalizer",
    "DateTimeVectorizer",
    "PCA",
    "StandardScaler",
    "MinMax",
)


def parse(
    text: str, columns: list[str], allowed: tuple[str, ...], where: str
) -> list[tuple[list[str], list[str]]] | None:
    """The validated entries, or None for ``'none'``."""
    if text.strip().lower() == "none":
        return None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidSetting(
            f"{where}: PREPROCESSORS is not valid JSON: {e.msg} at line {e.lineno}, column "
            f"{e.colno} (character {e.pos + 1}). Write a JSON array of "
            '{"ColumnSet": [...], "Transformers": [...]} objects, or \'none\'.'
        ) from None
    if not isinstance(entries, list) or not entries:
        raise InvalidSetting(
            f"{where}: PREPROCESSORS must be a non-empty JSON array of "
            '{"ColumnSet": [...], "Transformers": [...]} objects.'
        )
    by_lower = {c.lower(): c for c in columns}
    owner: dict[str, int] = {}
    out = []
    for i, entry in enumerate(entries, 1):
        what = f"PREPROCESSORS entry {i}"
        if not isinstance(entry, dict) or set(entry) != {"ColumnSet", "Transformers"}:
            keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise InvalidSetting(
                f"{where}: {what} must be an object with exactly the keys ColumnSet and "
                f"Transformers; got {keys}."
            )
        names, transformers = entry["ColumnSet"], entry["Transformers"]
        for key, value in (("ColumnSet", names), ("Transformers", transformers)):
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise InvalidSetting(
                    f"{where}: {what}: {key} must be a non-empty list of strings; got "
                    f"{json.dumps(value)}."
                )
        chosen = (
            list(columns) if names == ["*"] else [_column(n, by_lower, what, where) for n in names]
        )
        for name in chosen:
            if name in owner:
                raise InvalidSetting(
                    f"{where}: column '{name}' is in the ColumnSet of PREPROCESSORS entries "
                    f"{owner[name]} and {i}; each column may be in one set only."
                )
            owner[name] = i
        out.append((chosen, [_transformer(t, allowed, what, where) for t in transformers]))
    return out


def _column(name: str, by_lower: dict[str, str], what: str, where: str) -> str:
    found = by_lower.get(name.lower())
    if found is None:
        raise InvalidSetting(
            f"{where}: {what} names column '{name}', which is not a feature column."
            f"{S.did_you_mean(name, by_lower.values())} Feature columns: "
            f'{", ".join(by_lower.values())}; "*" means all of them.'
        )
    return found


def _transformer(name: str, allowed: tuple[str, ...], what: str, where: str) -> str:
    known = {t.lower(): t for t in TRANSFORMERS}
    found = known.get(name.lower())
    if found is None:
        raise InvalidSetting(
            f"{where}: {what}: unknown transformer '{name}'.{S.did_you_mean(name, TRANSFORMERS)} "
            f"Transformers: {', '.join(TRANSFORMERS)}."
        )
    if found not in allowed:
        raise InvalidSetting(
            f"{where}: {what}: transformer {found} does not apply to this model; it takes "
            f"{', '.join(allowed)}."
        )
    return found
