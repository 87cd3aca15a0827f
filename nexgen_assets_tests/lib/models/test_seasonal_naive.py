import datetime as dt

import numpy as np
import pandas as pd
import pytest

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
