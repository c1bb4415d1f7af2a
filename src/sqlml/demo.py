"""End-to-end demo: train on 80 % of the UCI Adult census table, predict the other 20 % in SQL.

Run it with ``python -m sqlml.demo``. It writes ``sqlml_demo.duckdb`` (and its model store
``sqlml_demo.duckdb.models/``) in the current folder, so you can explore afterwards with
``sqlml sqlml_demo.duckdb``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sqlml
from sqlml.cli.follow import follow
from sqlml.cli.render import format_table

DATA = Path(__file__).parent / "datasets" / "adult.parquet"

FOLLOW = None  # a step that follows the training job's progress instead of running SQL

STEPS = [
    (
        "Load the census table, with a fold column for a seeded 80/20 split",
        f"""CREATE OR REPLACE TABLE adult AS
SELECT *, (row_number() OVER ()) % 5 AS fold FROM read_parquet('{DATA.as_posix()}')""",
    ),
    ("Drop the model of an earlier run, if any", "DROP MODEL IF EXISTS income_model"),
    (
        "Train on 80 % of the rows: sqlml profiles, preprocesses and fits within MAX_RUNTIME",
        """CREATE MODEL income_model
FROM (SELECT * EXCLUDE (fold) FROM adult WHERE fold <> 0)
TARGET income
FUNCTION predict_income
SETTINGS (MAX_RUNTIME {max_runtime})""",
    ),
    (
        "CREATE MODEL returned at once; training goes on in its own process",
        "SELECT model_name, life_cycle, model_state FROM stv_ml_model_info",
    ),
    ("Follow the training job until the model is READY", FOLLOW),
    ("What was built", "SHOW MODEL income_model"),
    (
        "Predict a few held-out rows with the new SQL function",
        """SELECT age, occupation, hours_per_week, income,
       predict_income(age, workclass, fnlwgt, education, education_num, marital_status,
                      occupation, relationship, race, sex, capital_gain, capital_loss,
                      hours_per_week, native_country) AS predicted
FROM adult WHERE fold = 0 LIMIT 5""",
    ),
    (
        "Held-out metrics, computed in SQL over the 20 % the model never saw",
        """WITH scored AS (
  SELECT income = '>50K' AS actual,
         predict_income(age, workclass, fnlwgt, education, education_num, marital_status,
                        occupation, relationship, race, sex, capital_gain, capital_loss,
                        hours_per_week, native_country) = '>50K' AS predicted
  FROM adult WHERE fold = 0)
SELECT count(*) AS test_rows,
       round(avg((actual = predicted)::INT), 4) AS accuracy,
       round(2 * count(*) FILTER (actual AND predicted)
             / (count(*) FILTER (actual) + count(*) FILTER (predicted)), 4) AS f1
FROM scored""",
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sqlml.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", default="sqlml_demo.duckdb")
    parser.add_argument("--max-runtime", type=int, default=60)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with sqlml.connect(args.database) as conn:
        for title, sql in STEPS:
            step = time.monotonic()
            if sql is FOLLOW:
                print(f"\n-- {title}")
                follow(conn, "income_model", sys.stdout)  # conn.wait_model() without the display
                print(f"   [{time.monotonic() - step:.1f} s]")
                continue
            sql = sql.replace("{max_runtime}", str(args.max_runtime))
            print(f"\n-- {title}\n{sql};")
            result = conn.execute(sql)
            if result.columns:
                print(format_table(result.columns, result.fetchall()))
            print(f"   [{time.monotonic() - step:.1f} s]")
    print(
        f"\nDemo finished in {time.monotonic() - started:.1f} s. Explore it with: "
        f"sqlml {args.database}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
