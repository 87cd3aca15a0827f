import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.intervals import apply_intervals, cross_conformal, quantile_table, series_scale


def test_cross_conformal_covers_about_eighty_percent():
    rng = np.random.default_rng(0)
    n = 6000
    scored = pd.DataFrame(
        {"model": "m", "fold": rng.integers(1, 4, n), "horizon": rng.integers(1, 29, n),
         "forecast": rng.uniform(0.5, 30, n), "scale": 1.0}
    )
    scored["actual"] = scored["forecast"] + rng.normal(0, 1, n) * np.sqrt(scored["forecast"] + 0.25)
    covered = cross_conformal(scored)
    inside = ((covered["actual"] >= covered["p10"]) & (covered["actual"] <= covered["p90"])).mean()
    assert 0.75 < inside < 0.85
    assert set(quantile_table(scored)["horizon"]) == set(range(1, 29))


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
