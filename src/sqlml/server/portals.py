"""Prepared statements and portals: what the extended query protocol names, and the rows of a
running statement on their way to DataRow messages.

A portal's rows are read from the engine's Arrow reader in slices of ``SLICE_ROWS``, each encoded
in the client's format (text or binary, per column) in the session's worker thread: a whole
column at a time by Arrow's kernels and NumPy (``types.text_values``, ``binary_values``,
``data_rows``), or value by value for a small slice. DuckDB reads
one result per connection at a time, so before another statement runs, a suspended portal's
unread rows are read into memory (``park``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sqlml.results import StatementResult
from sqlml.server import catalog, cursors
from sqlml.server import protocol as P
from sqlml.server import types as T

# Rows encoded at a time: the worker encodes this many, then the event loop sends them (so
# other clients' messages interleave with a large result's) while the worker encodes the next.
# Encoding whole columns costs a fixed ~1 ms a slice: at 16,384 rows a quarter less than at
# 4,096 (1 M rows x 10 columns in text: 0.72 against 0.99 us a row). Wide rows make shorter
# slices: at most SLICE_BYTES of Arrow data each, so that a slice and the next stay small.
SLICE_ROWS = 16384
SLICE_BYTES = 16 * 1024 * 1024
# From this many values a slice is encoded a whole column at a time (Arrow's kernels and NumPy:
# some 0.1 us a value, but 100 us and more a slice); fewer are encoded value by value (about
# 1 us a value), which answers a small result (SELECT 1) sooner.
WHOLE_COLUMNS = 256


def format_of(formats: list[int], column: int) -> int:
    """A column's format code: one code for all columns, or one per column (0: text)."""
    return formats[column] if len(formats) > 1 else formats[0]


def row_description(names: list[str], types: list[T.PgType], formats: list[int]) -> bytes:
    fields = [
        (name, t.oid, t.size, -1, format_of(formats, i))
        for i, (name, t) in enumerate(zip(names, types, strict=True))
    ]
    return P.row_description(fields)


def row_tag(result: StatementResult, sent: int) -> str:
    """The tag of a statement that returned rows: the rows sent, for a command whose tag counts
    them (``SELECT 3``); other commands' tags as they are (``CREATE MODEL``)."""
    words = result.tag.split()
    if words and words[-1].isdigit():
        return " ".join([*words[:-1], str(sent)])
    return result.tag


@dataclass
class Prepared:
    """A parsed statement: its text, its parameters' type OIDs and, once described, its shape."""

    text: str
    param_oids: list[int]
    tokens: tuple = ()
    start: int = 0  # the offset of ``text`` where the tokens' positions count from
    columns: list | None = None  # the engine's result columns, when known without running it
    described: bool = False
    answer: catalog.Answer | None = None  # the server answers it itself (SET, SHOW...)


class DataRows:
    """Encoded DataRow messages back to back, sent a number of rows at a time."""

    def __init__(self, data: bytes, ends: np.ndarray):
        self.data = data
        self.ends = ends  # where each row's message ends in data
        self.first = 0  # the first row not sent

    def __len__(self) -> int:
        return len(self.ends) - self.first

    def take(self, count: int) -> bytes:
        """The messages of the next ``count`` rows."""
        if self.first == 0 and count == len(self.ends):
            self.first = count
            return self.data
        start = int(self.ends[self.first - 1]) if self.first else 0
        self.first += count
        return self.data[start : int(self.ends[self.first - 1])]


@dataclass
class Portal:
    """A bound statement, and once it runs, its open result."""

    statement: Prepared
    params: list | None
    formats: list[int]
    result: StatementResult | None = None
    run: object = None  # the generator of Connection.run, closed when the portal is
    started: bool = False
    reader: pa.RecordBatchReader | None = None
    parked: deque = field(default_factory=deque)  # batches read ahead (see _park)
    pending: DataRows | None = None  # encoded rows not sent yet
    fields: list[T.PgType] | None = None
    sent: int = 0
    done: bool = False
    wire_types: list[T.PgType] | None = None  # the result's types, when the server chose them
    fetch: cursors.Fetch | None = None  # a FETCH: its rows are the cursor's
    names: list[str] | None = None

    # -- in the worker thread ----------------------------------------------------------------

    def open_rows(self) -> None:
        """Open the result's rows and choose each column's PostgreSQL type."""
        result = self.result
        self.reader = result.reader()
        schema = self.reader.schema
        sql_types = result.sql_types or [None] * len(schema)
        self.fields = self.wire_types or [
            T.pg_type(f.type, s) for f, s in zip(schema, sql_types, strict=True)
        ]
        self.names = list(schema.names)

    @property
    def exhausted(self) -> bool:
        return self.reader is None and not self.parked

    def encode_next(self) -> DataRows | None:
        """The next slice of rows as DataRow messages; None when there are no more."""
        batch = self.next_batch()
        if batch is None:
            return None
        binary = [format_of(self.formats, i) == 1 for i in range(len(self.fields))]
        if batch.num_rows * max(len(self.fields), 1) < WHOLE_COLUMNS:
            columns = []
            for i, t in enumerate(self.fields):
                encode = T.binary_column if binary[i] else T.text_column
                columns.append([P.cell(v) for v in encode(batch.column(i), t)])
            rows = [P.data_row(cells) for cells in zip(*columns, strict=True)] or [
                P.data_row(()) for _ in range(batch.num_rows)
            ]
            return DataRows(b"".join(rows), np.cumsum([len(r) for r in rows]))
        columns = [
            (T.binary_values if binary[i] else T.text_values)(batch.column(i), t)
            for i, t in enumerate(self.fields)
        ]
        return DataRows(*T.data_rows(columns, batch.num_rows))

    def next_batch(self) -> pa.RecordBatch | None:
        """The next slice of at most SLICE_ROWS rows (and about SLICE_BYTES); None at the end."""
        while True:
            if self.parked:
                batch = self.parked.popleft()
            elif self.reader is not None:
                try:
                    batch = self.reader.read_next_batch()
                except StopIteration:
                    self.reader = None
                    return None
            else:
                return None
            if batch.num_rows == 0:
                continue
            rows = min(SLICE_ROWS, max(1, SLICE_BYTES * batch.num_rows // max(batch.nbytes, 1)))
            if batch.num_rows > rows:
                self.parked.appendleft(batch.slice(rows))
                batch = batch.slice(0, rows)
            return batch

    def park(self) -> None:
        """Read the rest of the rows into memory, freeing the engine's connection."""
        if self.reader is None:
            return
        while True:
            try:
                self.parked.append(self.reader.read_next_batch())
            except StopIteration:
                break
        self.reader = None

    def close(self) -> None:
        self.reader = None
        self.parked.clear()
        if self.run is not None:
            self.run.close()  # closes the result (and the engine's reader)
            self.run = None
        elif self.result is not None:
            self.result.close()
