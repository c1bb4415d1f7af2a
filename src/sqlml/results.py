"""What one statement gives back through the front door (``Connection.run``).

A result is either rows (an Arrow schema and a record-batch reader, read once) or a count of
changed rows, and carries its PostgreSQL command tag (``SELECT 3``, ``INSERT 0 2``, ``CREATE
MODEL``) for a wire-protocol server. Errors met while the rows are read come out of the reader
already translated to :class:`~sqlml.errors.SqlmlError` (the engine wraps its reader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlml.lazy import pa

# Commands whose tag ends with the number of rows, as PostgreSQL writes them.
_COUNTED = {"INSERT": "INSERT 0 {n}"} | {
    command: command + " {n}"
    for command in ("SELECT", "UPDATE", "DELETE", "COPY", "MERGE", "FETCH", "MOVE", "UNLOAD")
}


@dataclass(frozen=True)
class PlainRows:
    """A result's rows as Python tuples, with its column names and which columns hold numbers
    (the shell right-aligns them)."""

    names: list[str]
    numeric: list[bool]
    rows: list[tuple]


class StatementResult:
    """One statement's outcome. ``command`` is the tag's words (``SELECT``, ``CREATE TABLE``,
    ``CREATE MODEL``); a statement with rows has ``open_reader`` (called once, when the rows or
    their schema are first asked for); ``rowcount`` is the rows a DML statement changed (None
    otherwise); ``native`` is the engine's own result object, for embedded callers that want it
    (a DuckDB relation)."""

    def __init__(
        self,
        command: str,
        *,
        open_reader: Callable[[], pa.RecordBatchReader] | None = None,
        rowcount: int | None = None,
        native: object = None,
        translate: Callable[[Exception], Exception] | None = None,
        open_rows: Callable[[], PlainRows | None] | None = None,
    ):
        self.command = command
        self.rowcount = rowcount
        self.native = native
        self._open_reader = open_reader
        self._open_rows = open_rows
        self._translate = translate
        self._source: pa.RecordBatchReader | None = None
        self._batches = None
        self._reader: pa.RecordBatchReader | None = None
        self.rows_read = 0
        # The engine's type name of each result column, when it knows them: a server tells
        # JSON and UUID columns from text by them (Arrow carries both as strings).
        self.sql_types: list[str] | None = None
        # Messages for the user beside the result (PostgreSQL's NOTICE): the CLI prints them,
        # a wire-protocol server sends them as NoticeResponse.
        self.notices: list[str] = []

    def translate_errors(self, translate: Callable[[Exception], Exception]) -> None:
        """Pass every error met while opening or reading the rows through ``translate`` (after
        the translations given before)."""
        before = self._translate
        self._translate = translate if before is None else (lambda e: translate(before(e)))

    def _translated(self, error: Exception) -> Exception:
        return error if self._translate is None else self._translate(error)

    @classmethod
    def of_table(cls, command: str, table: pa.Table) -> StatementResult:
        return cls(command, open_reader=table.to_reader, native=table)

    @property
    def has_rows(self) -> bool:
        return self._open_reader is not None

    @property
    def schema(self) -> pa.Schema | None:
        """The rows' schema (None for a statement without rows); asking opens the reader."""
        return self.reader().schema if self.has_rows else None

    def reader(self) -> pa.RecordBatchReader:
        """The rows, as a reader that can be consumed once; it counts what passes through."""
        if not self.has_rows:
            raise ValueError(f"{self.command} returns no rows.")
        if self._reader is None:
            try:
                self._source = self._open_reader()
            except Exception as e:
                raise self._translated(e) from e
            self._batches = self._count(self._source)
            self._reader = pa.RecordBatchReader.from_batches(self._source.schema, self._batches)
        return self._reader

    def _count(self, source: pa.RecordBatchReader):
        while True:
            try:
                batch = source.read_next_batch()
            except StopIteration:
                return
            except Exception as e:
                raise self._translated(e) from e
            self.rows_read += batch.num_rows
            yield batch

    def plain_rows(self) -> PlainRows | None:
        """Every row as Python values, read without Arrow, when the engine can give them so
        exactly as ``arrow().to_pylist()`` would (plain scalar columns); None otherwise, and
        then ``arrow()`` reads them. The shell prints plain SQL's results this way, so that a
        ``SELECT 1`` does not import pyarrow and numpy (a third of its start-up)."""
        if self._open_rows is None or self._reader is not None:
            return None
        try:
            rows = self._open_rows()
        except Exception as e:
            raise self._translated(e) from e
        if rows is not None:
            self._open_reader = None  # read: nothing is left for arrow()
            self.rows_read += len(rows.rows)
        return rows

    def arrow(self) -> pa.Table | None:
        """Every row not read yet, as a table (None for a statement without rows)."""
        return self.reader().read_all() if self.has_rows else None

    def close(self) -> None:
        """Release the rows not read (an engine may hold its connection until then)."""
        if self._batches is not None:
            self._batches.close()
        if self._source is not None:
            self._source.close()

    @property
    def tag(self) -> str:
        """The PostgreSQL command tag; for rows, the number read so far."""
        template = _COUNTED.get(self.command)
        if template is None:
            return self.command
        n = self.rowcount if self.rowcount is not None else self.rows_read
        return template.format(n=n)

    def __repr__(self) -> str:
        return f"<StatementResult {self.tag}>"
