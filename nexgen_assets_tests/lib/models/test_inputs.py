"""What a model reads from the feature table: the recent observed days, all future rows, history and future."""

import datetime as dt

import pytest

from nexgen_assets.lib.models.inputs import future_of, history_of, recent_features

D = dt.date(2025, 1, 1)
SCHEMA = "store_id string, product_id string, date date, quantity double, is_future boolean, lag_28 double"


def _features(spark, observed=10, future=3):
    rows = [("S1", "P1", D + dt.timedelta(days=k), float(k), False, 1.0) for k in range(observed)]
    rows += [("S1", "P1", D + dt.timedelta(days=observed + k), None, True, 2.0) for k in range(future)]
    return spark.createDataFrame(rows, SCHEMA)


def test_recent_features_keep_the_last_observed_days_and_every_future_row(spark):
    frame = recent_features(_features(spark), days=4)
    observed = frame[~frame["is_future"]]
    assert sorted(observed["date"]) == [D + dt.timedelta(days=k) for k in range(6, 10)]
    assert sorted(frame.loc[frame["is_future"], "date"]) == [D + dt.timedelta(days=k) for k in range(10, 13)]
    assert all(type(d) is dt.date for d in frame["date"])


def test_recent_features_without_observed_rows_is_a_clear_error(spark):
    with pytest.raises(ValueError, match="no observed rows"):
        recent_features(_features(spark, observed=0), days=4)


def test_history_and_future_split_an_extract(spark):
    extract = recent_features(_features(spark), days=30)
    history = history_of(extract)
    assert list(history.columns) == ["store_id", "product_id", "date", "quantity"]
    assert len(history) == 10 and history["quantity"].tolist() == [float(k) for k in range(10)]
    future = future_of(extract)
    assert "quantity" not in future.columns and len(future) == 3 and future["is_future"].all()
    assert future.index.tolist() == [0, 1, 2] and (future["lag_28"] == 2.0).all()
