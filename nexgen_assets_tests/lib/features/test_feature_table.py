import datetime as dt

import pandas as pd
import pytest
from pyspark.sql import functions as F

from nexgen_assets.lib.features.feature_table import (
    DEMAND_LAGS,
    all_feature_columns,
    build_features,
    demand_columns,
    planned_promotions,
)
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster

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


def _products_two(spark):
    return spark.createDataFrame([("P1", "grocery"), ("P2", "grocery")], "product_id string, category string")


def test_future_rows_cover_the_horizon(spark):
    features = build_features(_daily_frame(spark), _products(spark), horizon=28)
    future = features.where("is_future").agg(F.count("*"), F.min("date"), F.max("date")).first()
    assert future[0] == 28
    assert future[1] == D + dt.timedelta(days=120) and future[2] == D + dt.timedelta(days=147)
    assert set(all_feature_columns()) <= set(features.columns)


@pytest.fixture(scope="module")
def spiked_pair(spark):
    """Features of one series, without and with a spike on day 80."""
    base = {r["date"]: r for r in build_features(_daily_frame(spark), _products(spark)).collect()}
    moved = {r["date"]: r for r in build_features(_daily_frame(spark, spike_day=80), _products(spark)).collect()}
    return base, moved, D + dt.timedelta(days=80)


@pytest.mark.parametrize("lag", DEMAND_LAGS)
def test_no_demand_feature_reads_sales_inside_its_span(spiked_pair, lag):
    """A change on day s may only move a lag set's features on days >= s + lag."""
    base, moved, spike_date = spiked_pair
    changed = sorted(day for day in base for col in demand_columns(lag) if base[day][col] != moved[day][col])
    assert changed, "the spike should reach some feature"
    assert min(changed) == spike_date + dt.timedelta(days=lag)


def test_shared_features_do_not_read_sales_inside_the_horizon(spiked_pair):
    """Calendar, price and year-ago features are the same for every span, so they may not read the last 28 days."""
    base, moved, spike_date = spiked_pair
    shared = [c for c in all_feature_columns() if not any(c in demand_columns(lag) for lag in DEMAND_LAGS)]
    changed = sorted(day for day in base for col in shared if col != "price_ratio" and base[day][col] != moved[day][col])
    assert not changed or min(changed) >= spike_date + dt.timedelta(days=28)


def _promo_history(spark, days=240):
    """Two series that sell three times as much on promo days (every 10th week, Monday to Thursday)."""
    rows = []
    for product, level in (("P1", 4.0), ("P2", 8.0)):
        for k in range(days):
            day = D + dt.timedelta(days=k)
            promo = int((k // 7) % 5 == 2 and day.weekday() < 4)
            rows.append(("S1", product, day, level * (3 if promo else 1) + k % 3, promo, 2.0 * (0.8 if promo else 1), 0))
    return spark.createDataFrame(
        rows, "store_id string, product_id string, date date, quantity double, promo int, avg_price double, stockout int"
    )


def test_planned_promotions_mark_future_days_and_discount_their_price(spark):
    daily = _promo_history(spark, days=120)
    last = D + dt.timedelta(days=119)
    calendar = pd.DataFrame({"store_id": ["S1"], "product_id": ["P1"], "start_date": [last + dt.timedelta(days=3)],
                             "end_date": [last + dt.timedelta(days=5)], "discount": [0.25]})
    rows = build_features(daily, _products_two(spark), planned_promotions(spark, calendar)).where("is_future").toPandas()
    p1 = rows[rows["product_id"] == "P1"].set_index("date").sort_index()
    promoted = [last + dt.timedelta(days=k) for k in (3, 4, 5)]
    assert p1.loc[promoted, "promo"].tolist() == [1, 1, 1] and p1["promo"].sum() == 3
    assert p1.loc[promoted, "price"].tolist() == pytest.approx([1.5] * 3)
    assert rows[rows["product_id"] == "P2"]["promo"].sum() == 0


def test_a_planned_promotion_raises_the_forecast_of_that_series_on_those_days(spark):
    daily = _promo_history(spark)
    last = D + dt.timedelta(days=239)
    promoted = [last + dt.timedelta(days=k) for k in range(8, 12)]
    calendar = pd.DataFrame({"store_id": ["S1"], "product_id": ["P1"], "start_date": [promoted[0]],
                             "end_date": [promoted[-1]], "discount": [0.2]})
    plain = build_features(daily, _products_two(spark)).toPandas()
    planned = build_features(daily, _products_two(spark), planned_promotions(spark, calendar)).toPandas()
    observed = plain[~plain["is_future"]]
    model = XGBoostForecaster(n_estimators=80).fit(history_of(observed), observed)
    base = pd.Series(model.predict(history_of(observed), future_of(plain)),
                     index=future_of(plain).set_index(["product_id", "date"]).index)
    lifted = pd.Series(model.predict(history_of(observed), future_of(planned)),
                       index=future_of(planned).set_index(["product_id", "date"]).index)
    on_promo = [("P1", d) for d in promoted]
    assert (lifted[on_promo] > 1.5 * base[on_promo]).all()
    others = [k for k in base.index if k not in on_promo]
    assert lifted[others].to_numpy() == pytest.approx(base[others].to_numpy(), rel=0.01)


def test_a_holiday_carries_how_the_series_sold_on_it_last_year(spark):
    rows = []
    for k in range(700):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=k)
        qty = 1.0 if (day.month, day.day) == (12, 25) else 10.0
        rows.append(("S1", "P1", day, qty, 0, 2.0, 0))
    daily = spark.createDataFrame(
        rows, "store_id string, product_id string, date date, quantity double, promo int, avg_price double, stockout int"
    )
    ratio = build_features(daily, _products(spark)).toPandas().set_index("date")["holiday_ratio_last_year"]
    assert pd.isna(ratio[dt.date(2024, 12, 25)]) and pd.isna(ratio[dt.date(2025, 3, 3)])
    assert ratio[dt.date(2025, 12, 25)] == pytest.approx(1.1 / 10.1)
    assert ratio[dt.date(2025, 7, 4)] == pytest.approx(1.0)
