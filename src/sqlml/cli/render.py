"""Results as aligned text tables, the way a terminal user reads them."""

from __future__ import annotations

MAX_WIDTH = 80


def _cell(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= MAX_WIDTH else text[: MAX_WIDTH - 1] + "…"


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """``columns`` and ``rows`` as a table with a header rule and a row count."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [
            max(w, len(line))
            for w, v in zip(widths, row, strict=True)
            for line in [max(v.split("\n"), key=len)]
        ]
    header = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join(line.rstrip() for line in [header, rule, *body, count])
