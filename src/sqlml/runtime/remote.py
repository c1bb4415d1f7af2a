"""A model served elsewhere as a predictor: a vector's rows go out in batches, one value per
row comes back.

Request shapes (the FORMAT setting), the ones common model servers speak:

- ``CSV``: SageMaker's default (``text/csv``), one line per row, NULL as an empty field; the
  answer is one value per line (or one line of comma-separated values, as SageMaker's XGBoost
  writes), or JSON as below.
- ``JSONLINES``: one JSON array per row (``application/jsonlines``); one JSON value per line back.
- ``JSON``: ``{"instances": [[...], ...]}`` -> ``{"predictions": [...]}`` (SageMaker JSON,
  MLflow's ``/invocations``, TF Serving); a bare JSON array back is read too.
- ``KSERVE``: the KServe v2 / Open Inference Protocol: one ``FP64`` tensor ``[rows, columns]``
  when every parameter is a number, else one tensor per parameter; the first output back.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from sqlml import arrowtypes
from sqlml.errors import RemoteEndpointError
from sqlml.runtime.http import Endpoint, Policy

DEFAULT_BATCH_ROWS = 256
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT = 60
CONTENT_TYPES = {
    "CSV": "text/csv",
    "JSONLINES": "application/jsonlines",
    "JSON": "application/json",
    "KSERVE": "application/json",
}


def _json_default(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _csv_field(value) -> object:
    if value is None:
        return ""  # NULL is an empty field, as in Redshift
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _json_value(value, is_json: bool):
    """A SUPER (JSON) argument goes as the JSON it holds, not as its text."""
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class RemotePredictor:
    def __init__(self, manifest: dict):
        model = manifest["model"]
        self.where = f"Remote model {manifest['schema']}.{manifest['name']}"
        self.format = model["request_format"]
        self.batch_rows = model["batch_rows"]
        # (name, Arrow type); None for a SUPER (JSON) parameter, sent as the JSON it holds.
        self.parameters = [
            (f["name"], declared_arrow(manifest["arrow_types"].get(f["name"])))
            for f in manifest["features"]
        ]
        self.returns = declared_arrow(model["returns_arrow"]) or pa.json_()
        self.returns_sql = manifest["target_type"]

        def headers() -> dict[str, str]:  # at each request: the key is never kept
            return api_key_headers(model, self.where)

        policy = Policy(concurrency=model["concurrency"], timeout=float(model["timeout"]))
        self.endpoint = Endpoint(model["endpoint"], self.where, policy, headers)

    # -- the SQL function --------------------------------------------------------------

    def predict(self, columns: list) -> pa.Array:
        n = len(columns[0])
        if n == 0:
            return pa.array([], self.returns)
        columns = [self._declared(c, t) for c, (_, t) in zip(columns, self.parameters, strict=True)]
        rows = list(zip(*(c.to_pylist() for c in columns), strict=True))
        batches = [rows[i : i + self.batch_rows] for i in range(0, n, self.batch_rows)]
        bodies = [self.encode(batch) for batch in batches]
        answers = self.endpoint.post_all(bodies, CONTENT_TYPES[self.format])
        values: list = []
        for batch, answer in zip(batches, answers, strict=True):
            found = self.decode(answer, len(batch))
            if len(found) != len(batch):
                raise RemoteEndpointError(
                    f"{self.where}: endpoint {self.endpoint.url} answered {len(found)} values "
                    f"for a batch of {len(batch)} rows; it must return one value per row."
                )
            values.extend(found)
        return self.to_arrow(values)

    @staticmethod
    def _declared(column, arrow_type: pa.DataType | None) -> pa.Array:
        """The argument as its declared type: DuckDB hands numbers over as DOUBLE."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if arrow_type is None:  # SUPER: its JSON text
            return column if arrowtypes.is_text(column.type) else pc.cast(column, pa.string())
        if column.type == arrow_type:
            return column
        if pa.types.is_integer(arrow_type) and pa.types.is_floating(column.type):
            column = pc.round(column)
        return pc.cast(column, arrow_type, safe=False)

    # -- request shapes ----------------------------------------------------------------

    def encode(self, rows: list[tuple]) -> bytes:
        is_json = [t is None for _, t in self.parameters]
        if self.format == "CSV":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerows([_csv_field(v) for v in row] for row in rows)
            return out.getvalue().encode("utf-8")
        json_rows = [[_json_value(v, j) for v, j in zip(row, is_json, strict=True)] for row in rows]
        if self.format == "JSONLINES":
            lines = (json.dumps(r, default=_json_default) for r in json_rows)
            return ("\n".join(lines) + "\n").encode("utf-8")
        if self.format == "JSON":
            return json.dumps({"instances": json_rows}, default=_json_default).encode("utf-8")
        return json.dumps(self._kserve_inputs(json_rows), default=_json_default).encode("utf-8")

    def _kserve_inputs(self, rows: list[list]) -> dict:
        types = [t for _, t in self.parameters]
        if all(t is not None and arrowtypes.is_number_or_boolean(t) for t in types):
            data = [None if v is None else float(v) for row in rows for v in row]
            tensor = {"name": "input-0", "shape": [len(rows), len(types)], "datatype": "FP64"}
            return {"inputs": [{**tensor, "data": data}]}
        inputs = []
        for j, (name, arrow_type) in enumerate(self.parameters):
            column = [row[j] for row in rows]
            number = arrow_type is not None and arrowtypes.is_number_or_boolean(arrow_type)
            kind = "FP64" if number else "BYTES"
            if kind == "FP64":
                column = [None if v is None else float(v) for v in column]
            inputs.append({"name": name, "shape": [len(rows)], "datatype": kind, "data": column})
        return {"inputs": inputs}

    def decode(self, body: bytes, rows: int) -> list:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self._garbage(body, "it is not UTF-8 text") from e
        stripped = text.strip()
        if self.format == "CSV" and not stripped.startswith(("{", "[")):
            return self._csv_values(text, rows)
        if self.format in ("CSV", "JSONLINES") and not stripped.startswith("{"):
            lines = [line for line in text.splitlines() if line.strip()]
            if len(lines) != 1 or self.format == "JSONLINES":
                return [self._json(line, body) for line in lines]
        document = self._json(stripped, body)
        if self.format == "KSERVE":
            outputs = document.get("outputs") if isinstance(document, dict) else None
            if not outputs or not isinstance(outputs[0], dict) or "data" not in outputs[0]:
                raise self._garbage(body, 'it has no "outputs" with "data" (KServe v2)')
            return self._kserve_values(outputs[0])
        if isinstance(document, dict):
            for key in ("predictions", "outputs", "predicted_label", "scores"):
                if isinstance(document.get(key), list):
                    return document[key]
            raise self._garbage(body, 'it is a JSON object without a "predictions" list')
        if isinstance(document, list):
            return document
        return [document]

    def _csv_values(self, text: str, rows: int) -> list:
        lines = text.splitlines()
        while len(lines) > rows and lines[-1].strip() == "":
            lines.pop()
        if len(lines) == 1 and rows > 1 and not _is_json_type(self.returns):
            # SageMaker's XGBoost answers a batch with one line of comma-separated values.
            return next(csv.reader([lines[0]]))
        return [next(csv.reader([line]), [""])[0] if line else "" for line in lines]

    def _kserve_values(self, output: dict) -> list:
        data, shape = output["data"], output.get("shape") or [len(output["data"])]
        if len(shape) == 2 and shape[1] != 1:
            width = shape[1]
            return [data[i : i + width] for i in range(0, len(data), width)]
        return data

    def _json(self, text: str, body: bytes):
        try:
            return json.loads(text)
        except ValueError as e:
            raise self._garbage(body, f"it is not JSON ({e})") from e

    def _garbage(self, body: bytes, why: str) -> RemoteEndpointError:
        excerpt = body[:120].decode("utf-8", "replace").replace("\n", " ")
        return RemoteEndpointError(
            f"{self.where}: endpoint {self.endpoint.url} answered something that cannot be "
            f"read as {self.format}: {why}. It began: {excerpt!r}"
        )

    # -- the answer as the declared type -------------------------------------------------

    def to_arrow(self, values: list) -> pa.Array:
        target = self.returns
        if _is_json_type(target):
            texts = [
                None
                if v is None
                else v
                if isinstance(v, str) and _is_json_text(v)
                else json.dumps(v, default=_json_default)
                for v in values
            ]
            return pa.array(texts, pa.string()).cast(target)
        scalars = [_unwrap(v) for v in values]
        if pa.types.is_string(target) or pa.types.is_large_string(target):
            texts = [
                None if v is None else v if isinstance(v, str) else json.dumps(v) for v in scalars
            ]
            return pa.array(texts, target)
        texts = [None if v is None or v == "" else str(v).strip() for v in scalars]
        bad = next((v for v in texts if v is not None and v[:1] in "[{"), None)
        try:
            if bad is not None:
                raise ValueError(bad)
            if pa.types.is_boolean(target):
                texts = [None if v is None else v.lower() for v in texts]
            if pa.types.is_integer(target):  # "5.0" is 5 (a server may answer floats)
                return pa.array(texts, pa.string()).cast(pa.float64()).cast(target)
            return pa.array(texts, pa.string()).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
            raise RemoteEndpointError(
                f"{self.where}: endpoint {self.endpoint.url} answered a value that is not "
                f"{self.returns_sql} ({e}); the function RETURNS {self.returns_sql}. Declare "
                "RETURNS SUPER to take the answer as it is."
            ) from e


def declared_arrow(text: str | None) -> pa.DataType | None:
    """A declared type's Arrow type from the manifest; None for SUPER (JSON)."""
    return None if text in (None, "json") else arrowtypes.decode(text)


def _is_json_type(arrow_type: pa.DataType) -> bool:
    return isinstance(arrow_type, pa.JsonType)


def _unwrap(value):
    """A one-element list or a one-key object around a prediction (as some servers answer)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _is_json_text(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def api_key_headers(model: dict, where: str) -> dict[str, str]:
    """The Authorization header from the environment variable (API_KEY_ENV) or the file
    (API_KEY_FILE) the model names, read at each request and never stored."""
    import os

    from sqlml.errors import InvalidSetting

    name, path = model.get("api_key_env"), model.get("api_key_file")
    if name:
        key = os.environ.get(name)
        if not key:
            raise InvalidSetting(
                f"{where}: the environment variable {name} (API_KEY_ENV) holding its API key "
                "is not set in this process. Set it in the environment of the process that "
                "calls the function."
            )
    elif path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            raise InvalidSetting(
                f"{where}: the file {path} (API_KEY_FILE) holding its API key cannot be read "
                f"({reason})."
            ) from e
        if not key:
            raise InvalidSetting(f"{where}: the file {path} (API_KEY_FILE) is empty.")
    else:
        return {}
    return {"Authorization": f"Bearer {key}"}
