"""The Redshift dialect's cost: translating one plain DuckDB statement to DuckDB's SQL.

Each statement of a set of ordinary queries and DML (TPC-H-like joins and aggregates,
inserts, updates, DDL) is made distinct by a comment-free literal so that the translation
cache never answers, then translated ``--repeat`` times over; the figures are the median and 90th
percentile over single statements. Printed beside two baselines timed in the same loop: DuckDB parsing the same text
(``extract_statements``) and DuckDB running it on small tables, so a busy machine shows as
slower baselines. The issue's bar: under 1 ms at the median, uncached.

    python bench/transpile.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import duckdb  # noqa: E402

from sqlml.sql import dialects  # noqa: E402

STATEMENTS = [
    "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, "
    "sum(l_extendedprice * (1 - l_discount)) AS revenue, avg(l_discount) AS avg_disc, "
    "count(*) AS n FROM lineitem WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL {n} DAY "
    "GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus",
    "SELECT o_orderpriority, count(*) AS order_count FROM orders WHERE o_orderdate >= "
    "DATE '1993-07-01' AND o_orderkey > {n} AND EXISTS (SELECT * FROM lineitem WHERE "
    "l_orderkey = o_orderkey AND l_commitdate < l_receiptdate) GROUP BY o_orderpriority "
    "ORDER BY o_orderpriority",
    "SELECT c_name, o_orderkey, sum(l_quantity) FROM customer JOIN orders ON c_custkey = "
    "o_custkey JOIN lineitem ON o_orderkey = l_orderkey WHERE c_custkey < {n} GROUP BY "
    "c_name, o_orderkey HAVING sum(l_quantity) > 30 ORDER BY 3 DESC LIMIT 100",
    "SELECT * FROM orders WHERE o_orderkey = {n}",
    "SELECT count(*) FROM lineitem",
    "INSERT INTO orders VALUES ({n}, {n}, 'O', 10.5, DATE '1995-01-01', '1-URGENT')",
    "UPDATE orders SET o_totalprice = o_totalprice * 1.1 WHERE o_orderkey = {n}",
    "DELETE FROM orders WHERE o_orderkey = {n}",
    "CREATE TABLE IF NOT EXISTS t{n} (id INTEGER, name VARCHAR, price DOUBLE, day DATE)",
    "WITH recent AS (SELECT o_custkey, max(o_orderdate) AS last FROM orders GROUP BY "
    "o_custkey) SELECT c_name, last FROM customer JOIN recent ON c_custkey = o_custkey "
    "WHERE c_custkey % {n} = 0",
]

TABLES = [
    "CREATE TABLE lineitem (l_orderkey INTEGER, l_quantity DOUBLE, l_extendedprice DOUBLE, "
    "l_discount DOUBLE, l_returnflag VARCHAR, l_linestatus VARCHAR, l_shipdate DATE, "
    "l_commitdate DATE, l_receiptdate DATE)",
    "CREATE TABLE orders (o_orderkey INTEGER, o_custkey INTEGER, o_orderstatus VARCHAR, "
    "o_totalprice DOUBLE, o_orderdate DATE, o_orderpriority VARCHAR)",
    "CREATE TABLE customer (c_custkey INTEGER, c_name VARCHAR)",
]


def per_statement(function, texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        function(text)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--distinct", type=int, default=100, help="variants of each statement")
    args = parser.parse_args()
    conn = duckdb.connect()
    for table in TABLES:
        conn.execute(table)
    translate = dialects.translation.__wrapped__  # the cache bypassed
    runs: dict[str, list[float]] = {"translate": [], "cached": [], "parse": [], "run": []}
    # Each round's statements timed one by one; figures are medians over all of them.
    for round_ in range(args.repeat):
        texts = [s.format(n=1000 * round_ + i) for i in range(args.distinct) for s in STATEMENTS]
        runs["translate"].extend(per_statement(lambda t: translate(t, "redshift", "duckdb"), texts))
        for text in texts:  # fill the cache, then time its answers
            dialects.translation(text, "redshift", "duckdb")
        runs["cached"].extend(
            per_statement(lambda t: dialects.translation(t, "redshift", "duckdb"), texts[-1000:])
        )
        runs["parse"].extend(per_statement(conn.extract_statements, texts))
        runs["run"].extend(per_statement(lambda t: conn.execute(t).fetchall(), texts[:200]))
    medians = {name: statistics.median(values) * 1000 for name, values in runs.items()}
    p90 = {name: statistics.quantiles(values, n=10)[-1] * 1000 for name, values in runs.items()}
    print(
        f"{len(STATEMENTS)} statements x {args.distinct} variants x {args.repeat} rounds; "
        "median and 90th percentile per statement"
    )
    labels = {
        "translate": "Redshift -> DuckDB, uncached",
        "cached": "Redshift -> DuckDB, cached",
        "parse": "DuckDB parses the text",
        "run": "DuckDB runs it (small tables)",
    }
    for name, value in medians.items():
        print(
            f"{labels[name]:32} {value:7.3f} ms (p90 {p90[name]:6.3f}) "
            f"({value / medians['parse']:5.1f}x DuckDB's parse, "
            f"{value / medians['run']:4.2f}x DuckDB's run)"
        )


if __name__ == "__main__":
    main()
