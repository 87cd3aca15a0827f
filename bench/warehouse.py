"""Bulk-load speed of fact_sales_daily into the warehouse, and dashboard view timings.

    python bench/warehouse.py [--rows 1000000] [--postgres URL] [--sqlite]
    python bench/warehouse.py --views [--demo-warehouse data/warehouse/nexgen.db]

The first form builds a fact_sales_daily-shaped frame (store, product, date, quantities,
revenue, price, promo, stock) and times an atomic replace (staging load + swap) through
the same code the pipeline uses; prints rows per second for a first load and a reload.

The second form copies the star schema of the demo warehouse (`make demo` writes it)
into a scratch PostgreSQL schema, creates the dashboard views and prints how long
each view takes to return all its rows (median of 3).
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexgen_assets.lib.marts.exports import MART_TABLES  # noqa: E402
from nexgen_assets.lib.marts.views import VIEWS, apply_views  # noqa: E402
from nexgen_assets.lib.storage import warehouse as wh  # noqa: E402


def sales_daily(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    series = max(1, rows // 730)
    days = pd.date_range("2024-01-01", periods=730).date
    idx = np.arange(rows)
    quantity = rng.poisson(3, rows).astype(float)
    price = np.round(rng.uniform(1, 30, rows), 2)
    return pd.DataFrame(
        {
            "store_id": np.char.add("S", (idx // 730 % 100).astype(str)),
            "product_id": np.char.add("P", (idx // 730).astype(str)),
            "date": np.array(days, dtype=object)[idx % 730],
            "quantity": quantity,
            "units_sold": quantity,
            "units_returned": 0.0,
            "revenue": quantity * price,
            "avg_price": price,
            "promo": pd.array(rng.integers(0, 2, rows), dtype="Int64"),
            "stock_on_hand": rng.integers(0, 80, rows).astype(float),
            "stockout": pd.array(rng.integers(0, 2, rows), dtype="Int64"),
        }
    ).head(series * 730 if rows >= 730 else rows)


def load(engine, frame: pd.DataFrame) -> float:
    started = time.perf_counter()
    wh.replace_table(
        engine, "fact_sales_daily", frame, primary_key=("store_id", "product_id", "date"), indexes=[("date",)]
    )
    return time.perf_counter() - started


def time_views(postgres: str, demo_warehouse: Path) -> None:
    if not demo_warehouse.exists():
        raise SystemExit(f"{demo_warehouse} not found: run `make demo` first (it writes the demo warehouse)")
    source = wh.make_engine(f"sqlite:///{demo_warehouse}")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        engine = sa.create_engine(postgres, connect_args={"options": f"-csearch_path={schema}"})
        keys = {"fact_sales_daily": ("store_id", "product_id", "date"), "dim_date": ("date",),
                "dim_product": ("product_id",), "fact_forecast": ("forecast_run_id", "store_id", "product_id", "date")}
        for table in MART_TABLES:
            if not sa.inspect(source).has_table(table):
                continue
            frame = wh.read_table(source, table)
            if frame.empty:
                sa.Table(table, sa.MetaData(), autoload_with=source).to_metadata(sa.MetaData()).create(engine)
            else:
                wh.replace_table(engine, table, frame, keys.get(table, ()), indexes=[("date",)] if "date" in frame else ())
            print(f"{table}: {len(frame):,} rows")
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        apply_views(engine)
        for view in VIEWS:
            seconds, rows = [], 0
            for _ in range(3):
                started = time.perf_counter()
                with engine.connect() as conn:
                    rows = len(conn.execute(sa.text(f"SELECT * FROM {view}")).all())
                seconds.append(time.perf_counter() - started)
            print(f"{view}: {statistics.median(seconds):.3f}s median of 3, {rows:,} rows")
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also time the embedded SQLite warehouse")
    parser.add_argument("--views", action="store_true", help="time the dashboard views on the demo data instead")
    parser.add_argument("--demo-warehouse", type=Path, default=Path("data/warehouse/nexgen.db"))
    args = parser.parse_args()
    if args.views:
        time_views(args.postgres, args.demo_warehouse)
        return
    frame = sales_daily(args.rows)
    print(f"{len(frame):,} rows of fact_sales_daily")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        engine = sa.create_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
        for attempt in ("first load", "reload"):
            seconds = load(engine, frame)
            print(f"postgresql {attempt}: {seconds:.1f}s, {len(frame) / seconds:,.0f} rows/s (COPY + swap)")
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            engine = wh.make_engine(f"sqlite:///{folder}/bench.db")
            seconds = load(engine, frame)
            print(f"sqlite first load: {seconds:.1f}s, {len(frame) / seconds:,.0f} rows/s (executemany + swap)")


if __name__ == "__main__":
    main()
