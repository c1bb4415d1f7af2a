"""Write the wider suite's Parquet files (bench/wider.md) from bare git snapshots.

Each source file is read with ``git --git-dir=<snapshot> show <commit>:<path>`` and converted to
Parquet (zstd) with pyarrow: column names to snake_case, R factors to strings, blank strings to
NULL, integral numbers to BIGINT (regression targets stay DOUBLE), R Date / POSIXct to DATE, rows
in the source's order; the columns named in DROP are dropped.

    python bench/wider_convert.py [--mirror /work/.mirror] [--out ../shared/wider] [table ...]

Needs ``rdata`` (pure-Python .rda reader), pandas and pyarrow. The snapshots are the ones that the
search tool's ``fetch`` brings to ``<mirror>/<owner>+<name>/repo``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import rdata
from rdata.parser import RObjectType

PMLB_COMMIT = "0820182add20998ed3f88b30efd273107286c695"  # parent of e447f565 (LFS after it)
MODELDATA_COMMIT = "5c22676a2deab18170885be4dd6e55068a669bb3"

# name: (repository, commit, path, target, regression?, dropped columns, renames after snake_case)
SOURCES = {
    "fuel_economy": (
        "hadley/fueleconomy",
        "d590bcf6ccca63b6219525bf1964c2fc38daa460",
        "data/vehicles.rda",
        "hwy",
        True,
        ["id", "cty"],
        {},
    ),
    "used_cars_india": (
        "vkatti/UsedCarsIndia",
        "1ae2a40066b6f2fc883507e4308c6fe8d25d3f68",
        "data/usedcars.rda",
        "listing_price",
        True,
        [],
        {},
    ),
    "isu_salaries_2018": (
        "stephaniereinders/CyChecks",
        "f7f5dfeed5e320e1ebe5512b960e18d822154c8a",
        "data/sals18.rda",
        "total_salary_paid",
        True,
        ["id", "base_salary"],
        {},
    ),
    "wine_quality_red": (
        "EpistasisLab/pmlb",
        PMLB_COMMIT,
        "datasets/wine_quality_red/wine_quality_red.tsv.gz",
        "quality",
        False,
        [],
        {"target": "quality", "p_h": "ph"},
    ),
    "vehicle_silhouettes": (
        "EpistasisLab/pmlb",
        PMLB_COMMIT,
        "datasets/vehicle/vehicle.tsv.gz",
        "vehicle_class",
        False,
        [],
        {"target": "vehicle_class"},
    ),
    "yeast": (
        "EpistasisLab/pmlb",
        PMLB_COMMIT,
        "datasets/yeast/yeast.tsv.gz",
        "localization_site",
        False,
        [],
        {"target": "localization_site"},
    ),
    "phoneme": (
        "EpistasisLab/pmlb",
        PMLB_COMMIT,
        "datasets/phoneme/phoneme.tsv.gz",
        "phoneme_class",
        False,
        [],
        {"target": "phoneme_class"},
    ),
    "image_segmentation": (
        "EpistasisLab/pmlb",
        PMLB_COMMIT,
        "datasets/segmentation/segmentation.tsv.gz",
        "region_class",
        False,
        [],
        {"target": "region_class"},
    ),
    "lending_club_loans": (
        "OpenIntroStat/openintro",
        "be3dc62dd51954975085c7520fd5967226a195b1",
        "data/loans_full_schema.rda",
        "interest_rate",
        True,
        [
            "grade",
            "sub_grade",
            "installment",
            "balance",
            "paid_total",
            "paid_principal",
            "paid_interest",
            "paid_late_fees",
            "loan_status",
        ],
        {},
    ),
    "credit_scoring": (
        "tidymodels/modeldata",
        MODELDATA_COMMIT,
        "data/credit_data.RData",
        "status",
        False,
        [],
        {},
    ),
    "hpc_jobs": (
        "tidymodels/modeldata",
        MODELDATA_COMMIT,
        "data/hpc_data.RData",
        "class",
        False,
        [],
        {},
    ),
    "telco_churn": (
        "tidymodels/modeldata",
        MODELDATA_COMMIT,
        "data/mlc_churn.RData",
        "churn",
        False,
        [],
        {},
    ),
}
# the order to write them in: the three someone waits on first
ORDER = [
    "fuel_economy",
    "wine_quality_red",
    "lending_club_loans",
    "used_cars_india",
    "isu_salaries_2018",
    "vehicle_silhouettes",
    "yeast",
    "phoneme",
    "image_segmentation",
    "credit_scoring",
    "hpc_jobs",
    "telco_churn",
]


def snake(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_")
    return s.lower()


def git_show(mirror: Path, repo: str, commit: str, path: str) -> bytes:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


# -- R data -------------------------------------------------------------------------------------


def _sym(o) -> str:
    while o.info.type == RObjectType.REF:
        o = o.referenced_object
    return o.value.value.decode() if o.info.type == RObjectType.SYM else o.value.decode()


def _attrs(o) -> dict:
    out, a = {}, o.attributes
    while a is not None and a.info.type == RObjectType.LIST:
        out[_sym(a.tag)] = a.value[0]
        a = a.value[1] if len(a.value) > 1 else None
    return out


def _strings(o) -> list[str]:
    return [None if s.value is None else s.value.decode() for s in o.value]


def r_column_classes(path: str) -> dict[str, tuple[list[str], dict]]:
    """R class and tzone of each column of the (single) data frame in an .rda file."""
    obj = rdata.parser.parse_file(path).object
    frame = obj.value[0]
    names = _strings(_attrs(frame)["names"])
    out = {}
    for n, col in zip(names, frame.value, strict=True):
        a = _attrs(col)
        cls = _strings(a["class"]) if "class" in a else []
        tz = _strings(a["tzone"])[0] if "tzone" in a else None
        out[n] = (cls, tz)
    return out


def read_rda(blob: bytes) -> pd.DataFrame:
    with tempfile.NamedTemporaryFile(suffix=".rda") as f:
        f.write(blob)
        f.flush()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "missing constructor for tbl_df": a data.frame
            data = rdata.read_rda(f.name)
            classes = r_column_classes(f.name)
    assert len(data) == 1, list(data)
    df = next(iter(data.values())).reset_index(drop=True)
    for col, (cls, tz) in classes.items():
        if "Date" in cls:  # days since 1970-01-01
            days = df[col].to_numpy(dtype="float64")
            df[col] = pd.array(
                [
                    None if np.isnan(x) else dt.date(1970, 1, 1) + dt.timedelta(days=int(x))
                    for x in days
                ],
                dtype=object,
            )
            df.attrs.setdefault("dates", []).append(col)
        elif "POSIXct" in cls:  # seconds since the epoch, shown in tzone (UTC if none)
            secs = pd.to_datetime(df[col], unit="s", utc=True)
            if tz:
                secs = secs.dt.tz_convert(tz)
            df[col] = pd.array([None if pd.isna(x) else x.date() for x in secs], dtype=object)
            df.attrs.setdefault("dates", []).append(col)
    return df


def read_tsv_gz(blob: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(gzip.decompress(blob)), sep="\t")


# -- to Arrow -----------------------------------------------------------------------------------


def to_arrow(df: pd.DataFrame, regression_target: str | None, dates: list[str]) -> pa.Table:
    arrays, names = [], []
    for col in df.columns:
        s = df[col]
        if col in dates:
            arr = pa.array(list(s), type=pa.date32())
        elif (
            isinstance(s.dtype, pd.CategoricalDtype)
            or s.dtype == object
            or (pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))
        ):
            vals = s.astype(object)
            vals = [
                None
                if (
                    v is None
                    or v is pd.NA
                    or (isinstance(v, float) and np.isnan(v))
                    or (isinstance(v, str) and v.strip() == "")
                )
                else str(v)
                for v in vals
            ]
            arr = pa.array(vals, type=pa.string())
        elif pd.api.types.is_bool_dtype(s.dtype):
            arr = pa.array(
                [None if v is pd.NA or v is None else bool(v) for v in s.astype(object)],
                type=pa.bool_(),
            )
        elif pd.api.types.is_numeric_dtype(s.dtype):
            x = s.astype("float64").to_numpy()  # R integers fit exactly
            mask = np.isnan(x)
            integral = bool(np.all(x[~mask] == np.round(x[~mask])))
            if col == regression_target or not integral:
                arr = pa.array(x, type=pa.float64(), mask=mask)
            else:
                arr = pa.array(np.where(mask, 0, x).astype("int64"), type=pa.int64(), mask=mask)
        else:
            raise TypeError(f"{col}: {s.dtype}")
        arrays.append(arr)
        names.append(col)
    return pa.Table.from_arrays(arrays, names=names)


def convert(name: str, mirror: Path, out: Path) -> pa.Table:
    repo, commit, path, target, regression, drop, renames = SOURCES[name]
    blob = git_show(mirror, repo, commit, path)
    df = read_rda(blob) if path.endswith((".rda", ".RData")) else read_tsv_gz(blob)
    dates = [snake(c) for c in df.attrs.get("dates", [])]
    df = df.rename(columns=snake).rename(columns=renames)
    missing = [c for c in drop if c not in df.columns]
    assert not missing, (name, missing)
    df = df.drop(columns=drop)
    assert target in df.columns, (name, target, list(df.columns))
    assert df.columns.is_unique, name
    table = to_arrow(df, target if regression else None, dates)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.parquet.tmp"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, out / f"{name}.parquet")  # readers never see a half-written file
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "wider"
    )
    ap.add_argument("tables", nargs="*", default=ORDER)
    args = ap.parse_args()
    for name in args.tables:
        t = convert(name, args.mirror, args.out)
        print(f"{name}: {t.num_rows} x {t.num_columns}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
