import datetime as dt

import pytest
from pyspark.sql import functions as F

from nexgen_assets.lib.features.feature_table import build_features, feature_columns

D = dt.date(2024, 1, 1)


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
