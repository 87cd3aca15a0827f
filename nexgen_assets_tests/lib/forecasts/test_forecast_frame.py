"""The rows of one forecast run: fact_forecast's columns, horizons from the origin, ordered quantiles."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.forecasts.forecast_frame import FORECAST_COLUMNS, forecast_frame, forecast_run_id
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster

D = dt.date(2025, 1, 1)
LAST = D + dt.timedelta(days=13)


def _history() -> pd.DataFrame:
    rows = [(store, "P1", D + dt.timedelta(days=k), float(k % 7 + (10 if store == "S2" else 0)))
            for store in ("S1", "S2") for k in range(14)]
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity"])


def test_run_id_is_the_origin_and_the_start_of_the_run_id():
    assert forecast_run_id(dt.date(2025, 3, 9), "0123456789abcdef") == "2025-03-09-01234567"


def test_forecast_rows_carry_the_run_model_origin_and_ordered_quantiles():
    history = _history()
    future = pd.DataFrame([(store, "P1", LAST + dt.timedelta(days=h)) for store in ("S2", "S1") for h in (3, 1, 2)],
                          columns=["store_id", "product_id", "date"])
    quantiles = pd.DataFrame({"model": "seasonal_naive", "level": "series", "segment": "fast", "horizon_bucket": "h01-07",
                              "q10": [-1.0], "q50": [0.0], "q90": [1.0]})
    model = SeasonalNaiveForecaster().fit(history)

    out = forecast_frame({"seasonal_naive": model}, {"all": {"seasonal_naive": 1.0}}, history, future, quantiles,
                         "run0123456789", "seasonal_naive", "sn-v1")

    assert list(out.columns) == FORECAST_COLUMNS and len(out) == 6
    assert set(out["forecast_run_id"]) == {f"{LAST.isoformat()}-run01234"}
    assert set(out["model_name"]) == {"seasonal_naive"} and set(out["model_version"]) == {"sn-v1"}
    assert set(out["forecast_origin"]) == {LAST}
    assert out["store_id"].tolist() == ["S1"] * 3 + ["S2"] * 3
    assert out["date"].tolist() == [LAST + dt.timedelta(days=h) for h in (1, 2, 3)] * 2
    assert out["horizon"].dtype == np.int64 and out["horizon"].tolist() == [1, 2, 3] * 2
    last_week = history.set_index(["store_id", "date"])["quantity"]
    expected = [last_week[(s, d - dt.timedelta(days=7))] for s, d in zip(out["store_id"], out["date"], strict=True)]
    assert out["mean"].tolist() == pytest.approx(expected) and out["p50"].tolist() == pytest.approx(expected)
    assert ((out["p10"] <= out["p50"]) & (out["p50"] < out["p90"]) & (out["p10"] >= 0)).all()
    assert out["created_at"].dt.tz is None and (out["created_at"] == out["created_at"].dt.floor("s")).all()


def test_a_blend_weights_its_components_per_segment_and_p50_follows_the_segment_median():
    history = _history()
    history.loc[history["store_id"] == "S1", "quantity"] = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0] * 2
    future = pd.DataFrame([(store, "P1", LAST + dt.timedelta(days=1)) for store in ("S1", "S2")],
                          columns=["store_id", "product_id", "date"])
    naive = SeasonalNaiveForecaster().fit(history)
    weekly = SeasonalNaiveForecaster(season=14).fit(history)
    quantiles = pd.DataFrame({"model": "mix", "level": "series", "segment": ["fast", "intermittent"],
                              "horizon_bucket": "h01-07", "q10": [-1.0, -0.5], "q50": [0.0, -0.5], "q90": [1.0, 2.0]})
    weights = {"fast": {"naive": 0.5, "weekly": 0.5}, "intermittent": {"naive": 1.0}}
    out = forecast_frame({"naive": naive, "weekly": weekly}, weights, history, future, quantiles, "run0", "mix", "b1")
    s1, s2 = out.set_index("store_id").loc["S1"], out.set_index("store_id").loc["S2"]
    assert s2["mean"] == pytest.approx(0.5 * history["quantity"].iat[14 + 7] + 0.5 * history["quantity"].iat[14])
    assert s1["p50"] < s1["mean"] or s1["mean"] == 0.0
    assert s1["p50"] == pytest.approx(max(0.0, s1["mean"] - 0.5 * np.sqrt(s1["mean"] + 0.25)))
