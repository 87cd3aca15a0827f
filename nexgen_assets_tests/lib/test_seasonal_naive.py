import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.intervals import apply_intervals, residual_quantiles, series_scale
from nexgen_assets.lib.seasonal_naive import fit_seasonal_naive, seasonal_naive_residuals


def _history(days=70, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days)
    rows = []
    for store in ("S1", "S2"):
        level = 5 if store == "S1" else 50
        for day in dates:
            rows.append((store, "P1", day.date(), float(rng.poisson(level * (1 + 0.5 * (day.dayofweek >= 5))))))
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity"])


def test_repeats_the_last_week():
    history = _history()
    model = fit_seasonal_naive(history)
    forecast = model.predict(14)
    last_week = history[history["store_id"] == "S1"].tail(7)["quantity"].tolist()
    s1 = forecast[forecast["store_id"] == "S1"]
    assert s1["forecast"].tolist() == last_week + last_week
    assert s1["date"].iloc[0] == dt.date(2024, 3, 11)


def test_series_that_stopped_selling_are_not_forecast():
    history = _history()
    history = history[~((history["store_id"] == "S2") & (history["date"] > dt.date(2024, 2, 20)))]
    assert set(fit_seasonal_naive(history).predict(7)["store_id"]) == {"S1"}


def test_empty_history_is_a_clear_error():
    with pytest.raises(ValueError, match="daily_sales is empty"):
        fit_seasonal_naive(_history().iloc[0:0])


def test_intervals_are_ordered_non_negative_and_scale_with_the_series():
    history = _history(days=120)
    scale = series_scale(history)
    table = residual_quantiles(seasonal_naive_residuals(history, scale, horizon=14, origins=6))
    assert list(table["horizon"]) == list(range(1, 15))
    out = apply_intervals(fit_seasonal_naive(history).predict(14), scale, table)
    assert (out["p10"] >= 0).all() and (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    width = (out["p90"] - out["p10"]).groupby(out["store_id"]).mean()
    assert width["S2"] > 2 * width["S1"]
