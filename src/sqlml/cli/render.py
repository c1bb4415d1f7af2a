"""Results as text, in the output modes the DuckDB and psql shells have taught people.

``table`` (the default) aligns columns under a header, right-aligns numbers and ends with a row
count; on a terminal it fits the terminal's width and says when it cut a value, and the
interactive shell shows at most ``maxrows`` rows (the first and last halves). ``line`` prints
one ``column = value`` per line (psql's ``\\x``), ``csv``, ``json`` (an array of objects) and
``markdown`` print every row and every value whole.

Numbers print as the engine prints them: integers in full, floats in their shortest exact form
(``1234567.0``, ``0.1``), scientific notation only beyond 1e16 or below 1e-4.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import math

from sqlml.lazy import pa

MODES = ("table", "line", "csv", "json", "markdown")
NULL = "NULL"
ELLIPSIS = "…"
# A column is never narrowed below this many characters to fit the terminal.
MIN_WIDTH = 12


def text_of(value) -> str:
    """One value as the shell shows it."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(text_of(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"'{k}': {text_of(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _json_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else text_of(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return text_of(value)


def _numeric(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or (pa.types.is_decimal(arrow_type))
    )


def _rows(table: pa.Table) -> list[tuple]:
    columns = [c.to_pylist() for c in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


class Renderer:
    """How results are printed: the mode, the row limit (0: none) and the width to fit (None:
    any width, as for a file or a pipe)."""

    def __init__(self, mode: str = "table", maxrows: int = 0, width: int | None = None):
        self.mode = mode
        self.maxrows = maxrows
        self.width = width

    def render(self, table: pa.Table) -> str:
        """An Arrow table as text (only the rows shown are converted to Python values)."""
        n = table.num_rows
        if self._limited(n):
            head, tail = self._halves()
            rows = _rows(table.slice(0, head)) + _rows(table.slice(n - tail, tail))
        else:
            rows = _rows(table)
        numeric = [_numeric(f.type) for f in table.schema]
        return self.render_rows(table.column_names, numeric, rows, n)

    def render_rows(
        self, names: list[str], numeric: list[bool], rows: list[tuple], total: int | None = None
    ) -> str:
        """Rows as text; ``numeric`` says which columns are right-aligned. ``total`` is the
        result's row count when ``rows`` holds only the first and last halves shown."""
        total = len(rows) if total is None else total
        if self.mode == "table":
            return self._table(names, numeric, rows, total)
        if self.mode == "line":
            return self._line(names, rows)
        if self.mode == "csv":
            return self._csv(names, rows)
        if self.mode == "json":
            return self._json(names, rows)
        return self._markdown(names, rows, numeric)

    @property
    def limits_rows(self) -> bool:
        """Whether only some rows of a long result are shown (the interactive table)."""
        return self.mode == "table" and self.maxrows > 0

    def _limited(self, n: int) -> bool:
        return self.limits_rows and self.maxrows < n

    def _halves(self) -> tuple[int, int]:
        head = (self.maxrows + 1) // 2
        return head, self.maxrows - head

    # -- the modes ---------------------------------------------------------------------------

    def _table(self, names: list[str], right: list[bool], rows: list[tuple], n: int) -> str:
        limited = self._limited(n)
        head, tail = self._halves()
        if limited and len(rows) == n:  # all rows given: keep the halves shown
            rows = rows[:head] + rows[n - tail :]
        cells = [[text_of(v).replace("\n", "\\n") for v in row] for row in rows]
        widths = [len(name) for name in names]
        for row in cells:
            widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
        widths, cut = self._fit(widths, names)

        def line(values: list[str], numeric: list[bool]) -> str:
            parts = []
            for value, width, r in zip(values, widths, numeric, strict=True):
                if len(value) > width:
                    value = value[: width - 1] + ELLIPSIS
                parts.append(value.rjust(width) if r else value.ljust(width))
            return " | ".join(parts).rstrip()

        body = [line(row, right) for row in cells]
        if limited:
            gap = [ELLIPSIS.center(w) if w > 1 else ELLIPSIS for w in widths]
            body.insert(head, line(gap, [False] * len(widths)))
        lines = [
            line(list(names), [False] * len(names)),
            "-+-".join("-" * w for w in widths),
            *body,
        ]
        count = f"({n:,} row{'s' if n != 1 else ''}"
        count += f", {len(rows)} shown; .maxrows 0 shows all)" if limited else ")"
        lines.append(count)
        if cut:  # only narrowing to the terminal makes a value longer than its column
            lines.append(
                "(some values are cut to fit the terminal's width; .mode line shows them whole)"
            )
        return "\n".join(lines)

    def _fit(self, widths: list[int], names: list[str]) -> tuple[list[int], bool]:
        """Narrow the widest columns until the table fits ``self.width``."""
        if self.width is None:
            return widths, False
        widths = list(widths)
        separators = 3 * (len(widths) - 1)
        cut = False
        while sum(widths) + separators > self.width:
            widest = max(range(len(widths)), key=lambda i: widths[i])
            floor = max(MIN_WIDTH, min(len(names[widest]), MIN_WIDTH))
            if widths[widest] <= floor:
                break  # too many columns to fit: the terminal wraps, nothing more is cut
            excess = sum(widths) + separators - self.width
            widths[widest] = max(floor, widths[widest] - excess)
            cut = True
        return widths, cut

    @staticmethod
    def _line(names: list[str], rows: list[tuple]) -> str:
        width = max((len(n) for n in names), default=0)
        blocks = []
        for row in rows:
            blocks.append(
                "\n".join(
                    f"{n.rjust(width)} = {text_of(v)}" for n, v in zip(names, row, strict=True)
                )
            )
        return "\n\n".join(blocks)

    @staticmethod
    def _csv(names: list[str], rows: list[tuple]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if v is None else text_of(v) for v in row])
        return out.getvalue().rstrip("\n")

    @staticmethod
    def _json(names: list[str], rows: list[tuple]) -> str:
        objects = [
            json.dumps(
                {n: _json_value(v) for n, v in zip(names, row, strict=True)}, ensure_ascii=False
            )
            for row in rows
        ]
        if not objects:
            return "[]"
        return "[" + ",\n".join(objects) + "]"

    @staticmethod
    def _markdown(names: list[str], rows: list[tuple], numeric: list[bool]) -> str:
        def cell(value) -> str:
            return text_of(value).replace("|", "\\|").replace("\n", "<br>")

        rule = ["---:" if r else "---" for r in numeric]
        lines = ["| " + " | ".join(cell(n) for n in names) + " |", "|" + "|".join(rule) + "|"]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        return "\n".join(lines)


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """``columns`` and ``rows`` as an aligned table (every value whole); a column of numbers
    (and NULLs) is right-aligned."""

    def is_number(value) -> bool:
        return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)

    numeric = [
        any(row[i] is not None for row in rows)
        and all(row[i] is None or is_number(row[i]) for row in rows)
        for i in range(len(columns))
    ]
    return Renderer().render_rows(list(columns), numeric, list(rows))
