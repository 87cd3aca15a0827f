import datetime as dt

import pytest
from pyspark.sql import functions as F

from nexgen_assets.lib.cleaning.daily import aggregate_daily
from nexgen_assets.lib.features.feature_table import build_features, feature_columns

LINES = (
    "order_id string, order_ts timestamp, order_date date, store_id string, product_id string, "
    "product_name string, category string, quantity double, unit_price double, promo int, revenue double"
)
D = dt.date(2024, 1, 1)


def _line(i, day, qty, price=2.0, promo=0, product="P1"):
    ts = dt.datetime.combine(D + dt.timedelta(days=day), dt.time(10))
    return (f"O{i}", ts, ts.date(), "S1", product, "n", "grocery", float(qty), price, promo, qty * price)


def test_daily_zero_fills_and_carries_stock_and_price(spark):
    lines = spark.createDataFrame(
        [_line(1, 0, 3, 2.0), _line(2, 0, -1, 2.0), _line(3, 2, 1, 2.5, promo=1), _line(4, 1, 2, 9.0, product="P2")],
        LINES,
    )
    inventory = spark.createDataFrame(
        [(D, "S1", "P1", 5.0), (D + dt.timedelta(days=3), "S1", "P1", 0.0)],
        "snapshot_date date, store_id string, product_id string, stock_on_hand double",
    )
    daily = {(r["product_id"], r["date"]): r for r in aggregate_daily(lines, inventory).collect()}
    p1 = [daily[("P1", D + dt.timedelta(days=k))] for k in range(4)]
    assert [r["quantity"] for r in p1] == [2.0, 0.0, 1.0, 0.0]
    assert p1[0]["units_sold"] == 3.0 and p1[0]["units_returned"] == 1.0 and p1[0]["revenue"] == 4.0
    assert [r["avg_price"] for r in p1] == [2.0, 2.0, 2.5, 2.5]
    assert [r["promo"] for r in p1] == [0, 0, 1, 0]
    assert [r["stock_on_hand"] for r in p1] == [5.0, 5.0, 5.0, 0.0]
    assert [r["stockout"] for r in p1] == [0, 0, 0, 1]
    assert min(d for p, d in daily if p == "P2") == D + dt.timedelta(days=1)
    assert max(d for _, d in daily) == D + dt.timedelta(days=3)


def _daily_frame(spark, days=120, spike_day=None):
    rows = []
    for k in range(days):
        qty = float(k % 7 + 1)
        if spike_day is not None and k == spike_day:
            qty = 1000.0
        rows.append(("S1", "P1", D + dt.timedelta(days=k), qty, 0, 2.0, 0))
    return spark.createDataFrame(
        rows, "store_id string, product_id string, date date, quantity double, promo int, avg_price double, stockout int"
    )


def _products(spark):
    return spark.createDataFrame([("P1", "grocery")], "product_id string, category string")


def test_future_rows_cover_the_horizon(spark):
    features = build_features(_daily_frame(spark), _products(spark), horizon=28)
    future = features.where("is_future").agg(F.count("*"), F.min("date"), F.max("date")).first()
    assert future[0] == 28
    assert future[1] == D + dt.timedelta(days=120) and future[2] == D + dt.timedelta(days=147)
    assert set(feature_columns(28)) <= set(features.columns)


@pytest.mark.parametrize("horizon", [7, 28])
def test_no_feature_reads_sales_inside_the_horizon(spark, horizon):
    """A change on day s may only move features of days >= s + horizon."""
    spike = 80
    base = {r["date"]: r for r in build_features(_daily_frame(spark), _products(spark), horizon).collect()}
    moved = {r["date"]: r for r in build_features(_daily_frame(spark, spike_day=spike), _products(spark), horizon).collect()}
    spike_date = D + dt.timedelta(days=spike)
    changed = sorted(
        day for day in base for col in feature_columns(horizon)
        if col not in ("price_ratio",) and base[day][col] != moved[day][col]
    )
    assert changed, "the spike should reach some feature"
    assert min(changed) >= spike_date + dt.timedelta(days=horizon)


def test_a_line_landed_in_two_files_counts_once(spark):
    line = _line(1, 0, 3)
    first = spark.createDataFrame([line], LINES)
    both = first.unionByName(first)
    daily = aggregate_daily(both, None).collect()
    assert [r["quantity"] for r in daily] == [3.0]
