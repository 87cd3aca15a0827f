"""What a model reads from the feature table: the complete daily history, the training feature rows (a
hash sample of them above a cap), the scored days in full, every future row, and the backtest's fixed sample
of whole series."""

import datetime as dt

import pandas as pd
import pytest
from pyspark.sql import functions as F

from nexgen_assets.lib.models.inputs import (
    daily_history,
    future_of,
    future_rows,
    history_of,
    last_observed_day,
    observed_rows_within,
    sample_series,
    training_extract,
)
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster
from nexgen_assets.lib.models.training import train_model
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster
from nexgen_assets_tests.lib.conftest import feature_panel

D = dt.date(2025, 1, 1)
SCHEMA = "store_id string, product_id string, date date, quantity double, is_future boolean, lag_28 double, day int"
KEYS = ["store_id", "product_id", "date"]


def _features(spark, observed=10, future=3, series=1):
    """`series` series of `observed` days then `future` days; lag_28 tells the rows apart."""
    rows = []
    for s in range(series):
        store, product = f"S{s % 3}", f"P{s}"
        rows += [(store, product, D + dt.timedelta(days=k), float(k + s), False, 100.0 * s + k, k % 7)
                 for k in range(observed)]
        rows += [(store, product, D + dt.timedelta(days=observed + k), None, True, -1.0 - k, k % 7) for k in range(future)]
    return spark.createDataFrame(rows, SCHEMA)


def _old_extract(features, days):
    """The extract before sampling existed: every row after the last observed day minus `days`, as pandas."""
    last = features.where(~F.col("is_future")).agg(F.max("date")).first()[0]
    frame = features.where(F.col("date") > F.date_sub(F.lit(last), days)).toPandas()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def _keys(frame):
    return set(zip(frame["store_id"], frame["product_id"], frame["date"], strict=True))


def test_below_the_cap_the_reads_equal_the_full_extract(spark):
    features = _features(spark, observed=40, future=5, series=6)
    old = _old_extract(features, 30)
    extract = training_extract(features, 30, max_feature_rows=6 * 30)
    pd.testing.assert_frame_equal(extract.feature_rows, old[~old["is_future"]].reset_index(drop=True))
    pd.testing.assert_frame_equal(extract.history, history_of(old))
    pd.testing.assert_frame_equal(daily_history(features, 30), history_of(old))
    pd.testing.assert_frame_equal(future_rows(features), future_of(old))
    assert extract.metadata() == {
        "history_rows": 180, "feature_rows_observed": 180, "feature_rows_collected": 180,
        "feature_rows_sampled": False, "sampled_fraction": 1.0,
    }
    assert training_extract(features, 30, None).feature_rows.equals(extract.feature_rows)
    assert all(type(d) is dt.date for d in extract.feature_rows["date"])


def test_above_the_cap_a_fixed_hash_sample_is_collected_and_the_history_stays_complete(spark):
    features = _features(spark, observed=100, future=5, series=20)
    old = _old_extract(features, 100)
    observed = old[~old["is_future"]].reset_index(drop=True)
    extract = training_extract(features, 100, max_feature_rows=400)
    rows = extract.feature_rows
    assert 300 <= len(rows) <= 500 and extract.observed_rows == 2000
    assert rows["product_id"].nunique() == 20 and rows["date"].nunique() > 50
    meta = extract.metadata()
    assert meta["feature_rows_sampled"] and meta["feature_rows_collected"] == len(rows)
    assert meta["sampled_fraction"] == pytest.approx(len(rows) / 2000, abs=1e-4)
    pd.testing.assert_frame_equal(extract.history, history_of(old))
    merged = rows.merge(observed, on=KEYS, how="left", suffixes=("", "_full"), indicator=True)
    assert (merged["_merge"] == "both").all() and (merged["lag_28"] == merged["lag_28_full"]).all()
    assert training_extract(features, 100, max_feature_rows=400).feature_rows.equals(rows)
    assert _keys(training_extract(features, 100, 400, seed=7).feature_rows) != _keys(rows)


def test_a_row_is_kept_or_not_by_its_series_and_day_whatever_the_window(spark):
    features = _features(spark, observed=100, future=5, series=20)
    wide = training_extract(features, 100, max_feature_rows=400).feature_rows
    narrow = training_extract(features, 50, max_feature_rows=200).feature_rows
    start = D + dt.timedelta(days=50)
    assert _keys(narrow) == _keys(wide[wide["date"] >= start])
    denser = training_extract(features, 50, max_feature_rows=300).feature_rows
    assert _keys(narrow) < _keys(denser)


def test_training_rows_never_reach_past_the_last_observed_day(spark):
    features = _features(spark, observed=60, future=28, series=5)
    last = last_observed_day(features)
    assert last == D + dt.timedelta(days=59)
    for cap in (None, 50):
        extract = training_extract(features, 365, cap)
        assert max(extract.feature_rows["date"]) <= last and max(extract.history["date"]) <= last
        assert not extract.feature_rows["is_future"].any()
        assert (extract.feature_rows["lag_28"] >= 0).all() and extract.feature_rows["quantity"].notna().all()
    assert min(future_rows(features)["date"]) == last + dt.timedelta(days=1)


def test_only_the_tree_models_collect_feature_rows_and_they_get_the_sample(spark):
    features = spark.createDataFrame(feature_panel(series=4, days=120))
    tree = train_model(XGBoostForecaster(n_estimators=2), features, history_days=100, max_feature_rows=200)
    assert tree.extract["feature_rows_sampled"] and 150 <= tree.extract["feature_rows_collected"] <= 250
    assert tree.extract["history_rows"] == tree.extract["feature_rows_observed"] == 400
    naive = train_model(SeasonalNaiveForecaster(), features, history_days=100, max_feature_rows=200)
    assert naive.extract == {"history_rows": 400, "feature_rows_observed": 400, "feature_rows_collected": 0,
                             "feature_rows_sampled": False, "sampled_fraction": 0.0}
    assert naive.metadata["trained_through"] == tree.metadata["trained_through"]


def test_the_scored_windows_are_read_in_full(spark):
    features = _features(spark, observed=60, future=5, series=4)
    windows = [(D + dt.timedelta(days=10), D + dt.timedelta(days=14)), (D + dt.timedelta(days=50), D + dt.timedelta(days=70))]
    rows = observed_rows_within(features, windows)
    expected = {d for start, end in windows for d in pd.date_range(start + dt.timedelta(days=1), end).date
                if d < D + dt.timedelta(days=60)}
    assert set(rows["date"]) == expected and len(rows) == 4 * len(expected)
    assert not rows["is_future"].any() and "lag_28" in rows.columns
    assert observed_rows_within(features, []).empty


def test_without_observed_rows_the_reads_are_a_clear_error(spark):
    with pytest.raises(ValueError, match="no observed rows"):
        training_extract(_features(spark, observed=0), days=4, max_feature_rows=None)
    with pytest.raises(ValueError, match="no observed rows"):
        daily_history(_features(spark, observed=0), days=4)


def test_history_and_future_split_a_pandas_panel(spark):
    panel = _old_extract(_features(spark), days=30)
    history = history_of(panel)
    assert list(history.columns) == ["store_id", "product_id", "date", "quantity"]
    assert len(history) == 10 and history["quantity"].tolist() == [float(k) for k in range(10)]
    future = future_of(panel)
    assert "quantity" not in future.columns and len(future) == 3 and future["is_future"].all()
    assert future.index.tolist() == [0, 1, 2] and future["lag_28"].tolist() == [-1.0, -2.0, -3.0]


def _series(frame):
    return set(zip(frame["store_id"], frame["product_id"], strict=True))


def test_the_backtest_sample_keeps_exactly_max_series_whole_series(spark):
    features = _features(spark, observed=20, future=3, series=30)
    sample = sample_series(features, 10, days=365)
    kept = sample.features.toPandas()
    assert sample.metadata() == {"series_total": 30, "series_backtested": 10, "series_sampled": True}
    assert len(_series(kept)) == 10
    assert len(kept) == 10 * 23
    assert _series(sample_series(features, 10, days=365).features.toPandas()) == _series(kept)


def test_a_new_series_enters_the_sample_only_by_displacing_one(spark):
    before = _series(sample_series(_features(spark, observed=5, future=0, series=30), 10, days=365).features.toPandas())
    after = _series(sample_series(_features(spark, observed=5, future=0, series=40), 10, days=365).features.toPandas())
    added = {(f"S{s % 3}", f"P{s}") for s in range(30, 40)}
    assert after <= before | added
    assert len(after) == 10


@pytest.mark.parametrize("max_series", [30, 100])
def test_at_or_under_the_cap_every_series_is_backtested(spark, max_series):
    features = _features(spark, observed=5, future=1, series=30)
    sample = sample_series(features, max_series, days=365)
    assert sample.features is features
    assert sample.metadata() == {"series_total": 30, "series_backtested": 30, "series_sampled": False}


@pytest.mark.parametrize("max_series", [0, None])
def test_without_a_cap_every_series_is_backtested_and_nothing_is_counted(spark, max_series):
    features = _features(spark, observed=5, future=1, series=30)
    sample = sample_series(features, max_series, days=365)
    assert sample.features is features
    assert sample.metadata() == {"series_sampled": False}


def test_only_series_observed_in_the_window_are_counted_and_sampled(spark):
    """A series that stopped selling before the window holds no place in the sample."""
    recent = _features(spark, observed=100, future=0, series=6)
    stopped = _features(spark, observed=10, future=0, series=12).where("product_id >= 'P6'")
    sample = sample_series(recent.unionByName(stopped), 3, days=30)
    assert sample.metadata() == {"series_total": 6, "series_backtested": 3, "series_sampled": True}
    assert _series(sample.features.toPandas()) <= {(f"S{s % 3}", f"P{s}") for s in range(6)}
