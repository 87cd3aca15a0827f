"""Calibrated quantiles: honest ~80% coverage, a true median for slow sellers, cells per bucket and segment."""

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.intervals import apply_quantiles, cross_conformal, quantile_table, series_scale


def _scored(n=6000, seed=0, mean_low=0.5, mean_high=30.0):
    rng = np.random.default_rng(seed)
    scored = pd.DataFrame(
        {"model": "m", "fold": rng.integers(1, 4, n), "horizon": rng.integers(1, 29, n),
         "forecast": rng.uniform(mean_low, mean_high, n), "scale": 1.0}
    )
    scored["actual"] = rng.poisson(scored["forecast"]).astype(float)
    return scored


def test_cross_conformal_covers_about_eighty_percent_per_horizon_bucket():
    covered = cross_conformal(_scored())
    inside = (covered["actual"] >= covered["p10"]) & (covered["actual"] <= covered["p90"])
    assert 0.75 < inside.mean() < 0.85
    by_bucket = inside.groupby(covered["horizon_bucket"]).mean()
    assert set(by_bucket.index) == {"h01-07", "h08-14", "h15-21", "h22-28"} and by_bucket.between(0.72, 0.88).all()


def test_p50_is_a_median_below_the_mean_of_a_slow_seller():
    """Poisson(0.4) sells nothing on 67% of days: its median is 0, not the mean 0.4, and p50 wins on MAE."""
    scored = _scored(mean_low=0.3, mean_high=0.5, seed=1)
    out = cross_conformal(scored)
    assert (out["p50"] < out["mean"]).all() and out["p50"].max() < 0.2
    assert (out["actual"] - out["p50"]).abs().mean() < (out["actual"] - out["mean"]).abs().mean()


def test_quantiles_are_kept_per_segment():
    fast = _scored(n=3000, seed=2).assign(segment="fast")
    slow = _scored(n=3000, seed=3, mean_low=0.2, mean_high=0.6).assign(segment="intermittent")
    table = quantile_table(pd.concat([fast, slow]))
    assert set(table["segment"]) == {"fast", "intermittent", "all"} and set(table["level"]) == {"series"}
    per_segment = table[(table["segment"] != "all") & (table["band"] == "all") & (table["horizon_bucket"] != "all")]
    assert len(per_segment) == 8 and (per_segment["points"] > 300).all()
    q50 = per_segment.groupby("segment")["q50"].mean()
    assert q50["intermittent"] < q50["fast"]
    banded = table[table["band"] != "all"]
    assert {"<0.25", "0.25-0.5", "16+"} <= set(banded["band"])


def test_series_scale_is_the_mean_seasonal_difference():
    history = pd.DataFrame(
        {"store_id": "S", "product_id": "P", "date": pd.date_range("2024-01-01", periods=14).date,
         "quantity": [1.0] * 7 + [4.0] * 7}
    )
    assert series_scale(history)["scale"].iloc[0] == pytest.approx(3.0)


def test_intervals_are_ordered_non_negative_and_widen_with_the_forecast():
    point = pd.DataFrame({"model": "m", "store_id": ["A", "B"], "product_id": "P", "horizon": [1, 1],
                          "segment": "fast", "forecast": [1.0, 100.0]})
    table = pd.DataFrame({"model": ["m"], "level": ["series"], "segment": ["fast"], "horizon_bucket": ["h01-07"],
                          "q10": [-1.3], "q50": [-0.1], "q90": [1.3]})
    out = apply_quantiles(point, table)
    assert (out["p10"] >= 0).all() and (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    assert out["mean"].tolist() == [1.0, 100.0]
    width = (out["p90"] - out["p10"]).to_numpy()
    assert width[1] > 5 * width[0]


def test_a_segment_missing_from_the_table_gets_the_pooled_quantiles_not_a_zero_width_interval():
    table = quantile_table(_scored(n=3000, seed=5).assign(segment="fast"))
    point = pd.DataFrame({"model": "m", "horizon": [3], "segment": ["intermittent"], "forecast": [4.0]})
    out = apply_quantiles(point, table).iloc[0]
    pooled = table[(table["segment"] == "all") & (table["horizon_bucket"] == "h01-07")].iloc[0]
    assert out["p10"] < out["p50"] < out["p90"]
    assert out["p90"] == pytest.approx(4.0 + pooled["q90"] * np.sqrt(4.25))


def test_a_thin_cell_borrows_the_quantiles_of_a_coarser_one():
    scored = _scored(n=3000, seed=4).assign(segment="fast")
    table = quantile_table(scored)
    point = pd.DataFrame({"model": "m", "horizon": [3], "segment": ["fast"], "forecast": [0.3]})
    out = apply_quantiles(point, table).iloc[0]
    coarse = table[(table["band"] == "all") & (table["segment"] == "fast") & (table["horizon_bucket"] == "h01-07")].iloc[0]
    assert out["p50"] == pytest.approx(max(0.0, 0.3 + coarse["q50"] * np.sqrt(0.55)))
