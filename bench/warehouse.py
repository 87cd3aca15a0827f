"""Bulk-load speed of fact_sales_daily into the warehouse, per dialect.

    python bench/warehouse.py [--rows 1000000] [--postgres URL] [--sqlite]

Builds a fact_sales_daily-shaped frame (store, product, date, quantities, revenue,
price, promo, stock) and times an atomic replace (staging load + swap) through the
same code the pipeline uses; prints rows per second. Run it twice to see a warm load.
"""

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexgen_assets.lib import warehouse as wh  # noqa: E402


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
    wh.replace_table(engine, "fact_sales_daily", frame, primary_key=("store_id", "product_id", "date"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also time the embedded SQLite warehouse")
    args = parser.parse_args()
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
