"""Rows a forecast_accuracy pass reads and writes: a full rescore against the incremental pass.

    python bench/accuracy_scoring.py [--runs 50] [--series 100] [--every 1] [--window 35] [--sqlite]

Builds a synthetic archive in a scratch PostgreSQL schema (or a temporary SQLite file):
`--runs` forecast runs, one every `--every` days, of `--series` series x 28 days, and the
daily actuals; scores it once; then lands `--every` new actual days and one new run and
times a full rescore (the whole archive joined, read into pandas and rewritten) against
the incremental pass. Also prints a pass with nothing new and a late file that restates
one day for every series.
"""

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexgen_assets.lib.evaluation.live_accuracy import (  # noqa: E402
    ACCURACY_TABLE,
    forecast_runs,
    forecasts_with_actuals,
    rescore_accuracy,
    run_error_sums,
    score_points,
)
from nexgen_assets.lib.storage import warehouse as wh  # noqa: E402

FIRST_DAY = dt.date(2025, 1, 1)
FIRST_ORIGIN = 60
MAX_DAYS = 5000
KEY = ["forecast_run_id", "store_id", "product_id", "date"]


def publish_actuals(engine: sa.Engine, series: int, days: int) -> None:
    """The daily actuals of the first `days` days; a day's value is the same in every call (a republish)."""
    quantity = np.random.default_rng(0).poisson(8, (series, MAX_DAYS)).astype(float)
    frame = pd.DataFrame(
        [(f"S{s % 10}", f"P{s}", FIRST_DAY + dt.timedelta(days=k), quantity[s, k]) for s in range(series) for k in range(days)],
        columns=["store_id", "product_id", "date", "quantity"],
    )
    wh.replace_table(engine, "fact_sales_daily", frame, ("store_id", "product_id", "date"), indexes=[("date",)])


def publish_run(engine: sa.Engine, series: int, origin_day: int) -> None:
    origin = FIRST_DAY + dt.timedelta(days=origin_day)
    frame = pd.DataFrame(
        [(f"S{s % 10}", f"P{s}", origin + dt.timedelta(days=h), h) for s in range(series) for h in range(1, 29)],
        columns=["store_id", "product_id", "date", "horizon"],
    ).assign(forecast_run_id=f"run{origin_day:04d}", model_name="xgboost", model_version="v1", forecast_origin=origin,
             mean=8.0, p10=4.0, p50=8.0, p90=12.0, created_at=dt.datetime.combine(origin, dt.time(5)))
    wh.replace_rows(engine, "fact_forecast", frame, ["forecast_run_id"], KEY, indexes=[("date",)])


def measure(engine: sa.Engine, args) -> None:
    last = FIRST_ORIGIN + (args.runs - 1) * args.every
    publish_actuals(engine, args.series, last + 1)
    for k in range(args.runs):
        publish_run(engine, args.series, FIRST_ORIGIN + k * args.every)
    rescore_accuracy(engine, args.window)
    publish_actuals(engine, args.series, last + args.every + 1)
    publish_run(engine, args.series, last + args.every)

    started = time.perf_counter()
    full = score_points(forecasts_with_actuals(engine))
    wh.replace_table(engine, "full_rescore", full, KEY, indexes=[("date",)])
    full_seconds = time.perf_counter() - started

    started = time.perf_counter()
    runs = forecast_runs(engine)
    scope, deleted, written = rescore_accuracy(engine, args.window, runs["forecast_run_id"])
    sums = run_error_sums(engine)
    incremental_seconds = time.perf_counter() - started

    print(f"archive: {args.runs + 1} runs (one every {args.every} days) x {args.series} series x 28 days = "
          f"{wh.row_count(engine, 'fact_forecast'):,} fact_forecast rows; window {args.window} days")
    print(f"full rescore:      reads and rewrites {len(full):,} rows, {full_seconds:.2f} s")
    print(f"incremental pass:  reads and writes {written:,} rows (+ {len(runs)} run rows, {len(sums)} per-run sums), "
          f"deletes {deleted:,}, {incremental_seconds:.2f} s")
    print(f"accuracy table:    {wh.row_count(engine, ACCURACY_TABLE):,} rows (full rescore: {len(full):,})")
    _, deleted, written = rescore_accuracy(engine, args.window)
    print(f"nothing new:       deletes {deleted:,}, writes {written:,}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE fact_sales_daily SET quantity = quantity + 1 WHERE date = :d"),
                     {"d": FIRST_DAY + dt.timedelta(days=last + args.every - 10)})
    _, deleted, written = rescore_accuracy(engine, args.window)
    print(f"one day restated:  deletes {deleted:,}, writes {written:,} (a late file 10 days back, every series)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--every", type=int, default=1, help="days between forecast runs")
    parser.add_argument("--window", type=int, default=35, help="restatement window in days")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--postgres", default="postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            engine = wh.make_engine(f"sqlite:///{folder}/bench.db")
            measure(engine, args)
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = wh.make_engine(f"{args.postgres}?options=-csearch_path%3D{schema}")
    try:
        measure(engine, args)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
