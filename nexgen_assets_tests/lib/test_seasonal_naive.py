import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.intervals import apply_intervals, series_scale
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster


def _history(days=70, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days)
    rows = []
    for store in ("S1", "S2"):
        level = 5 if store == "S1" else 50
        for day in dates:
            rows.append((store, "P1", day.date(), float(rng.poisson(level * (1 + 0.5 * (day.dayofweek >= 5))))))
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity"])


def _future(history, days):
    last = max(history["date"])
    keys = history[["store_id", "product_id"]].drop_duplicates()
    dates = pd.DataFrame({"date": [last + dt.timedelta(days=k) for k in range(1, days + 1)]})
    return keys.merge(dates, how="cross")


def test_repeats_the_last_week():
    history = _history()
    future = _future(history, 14)
    forecast = SeasonalNaiveForecaster().fit(history).predict(history, future)
    last_week = history[history["store_id"] == "S1"].tail(7)["quantity"].tolist()
    assert forecast[future["store_id"].to_numpy() == "S1"].tolist() == last_week + last_week


def test_empty_history_is_a_clear_error():
    with pytest.raises(ValueError, match="daily_sales is empty"):
        SeasonalNaiveForecaster().fit(_history().iloc[0:0])


def test_series_scale_is_the_mean_seasonal_difference():
    history = pd.DataFrame(
        {"store_id": "S", "product_id": "P", "date": pd.date_range("2024-01-01", periods=14).date,
         "quantity": [1.0] * 7 + [4.0] * 7}
    )
    assert series_scale(history)["scale"].iloc[0] == pytest.approx(3.0)


def test_intervals_are_ordered_non_negative_and_widen_with_the_forecast():
    point = pd.DataFrame({"store_id": ["A", "B"], "product_id": "P", "horizon": [1, 1], "forecast": [1.0, 100.0]})
    table = pd.DataFrame({"horizon": [1], "q10": [-1.3], "q90": [1.3]})
    out = apply_intervals(point, table)
    assert (out["p10"] >= 0).all() and (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    width = (out["p90"] - out["p10"]).to_numpy()
    assert width[1] > 5 * width[0]
