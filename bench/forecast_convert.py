"""Convert the M4 competition's Hourly and Weekly sets into the Parquet files bench/forecast.py
reads. Run once; nothing is downloaded at bench time.

The CSVs come from the M4 organisers' repository (github.com/Mcompetitions/M4-methods, folder
``Dataset/``: ``Train/Hourly-train.csv``, ``Test/Hourly-test.csv``, and the Weekly pair): one
row per series, its id then its values, padded with empty cells. With a clone of it:

    git -C M4-methods show HEAD:Dataset/Train/Hourly-train.csv > /work/m4/Hourly-train.csv
    ... (Hourly-test, Weekly-train, Weekly-test likewise)
    python bench/forecast_convert.py /work/m4

writes ``hourly.parquet`` and ``weekly.parquet`` there: columns ``id`` (VARCHAR), ``step``
(the value's position, 0 first), ``y`` (DOUBLE) and ``test`` (BOOLEAN: one of the HORIZON values
held out). M4 gives no usable timestamps here; bench/forecast.py makes a regular grid.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SETS = {"hourly": "Hourly", "weekly": "Weekly"}


def read(path: Path) -> dict[str, list[float]]:
    with path.open(newline="") as f:
        rows = csv.reader(f)
        next(rows)  # V1, V2, ...
        return {row[0]: [float(v) for v in row[1:] if v != ""] for row in rows}


def convert(folder: Path, name: str) -> Path:
    train = read(folder / f"{SETS[name]}-train.csv")
    test = read(folder / f"{SETS[name]}-test.csv")
    ids, steps, values, held = [], [], [], []
    for series, history in train.items():
        future = test[series]
        for k, v in enumerate(history + future):
            ids.append(series)
            steps.append(k)
            values.append(v)
            held.append(k >= len(history))
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "step": pa.array(steps, pa.int32()),
            "y": pa.array(values, pa.float64()),
            "test": pa.array(held, pa.bool_()),
        }
    )
    out = folder / f"{name}.parquet"
    pq.write_table(table, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the M4 CSVs are (and the Parquet goes)")
    args = parser.parse_args()
    for name in SETS:
        out = convert(args.folder, name)
        table = pq.read_table(out)
        series = len(set(table.column("id").to_pylist()))
        print(f"{out}: {series} series, {table.num_rows} values")


if __name__ == "__main__":
    main()
