"""Forecasts per level: means add up, intervals are the level's own and cover about 80%."""

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.intervals import cross_conformal
from nexgen_assets.lib.forecasts.levels import ALL_MEMBERS, LEVELS, aggregate, level_forecasts, level_quantile_table


def _backtest(seed=0, folds=3, days=28, stores=3, products=20):
    rng = np.random.default_rng(seed)
    rows = []
    for fold in range(1, folds + 1):
        for d in range(days):
            shock = rng.normal(1.0, 0.08)
            for s in range(stores):
                for p in range(products):
                    mean = 1.0 + p % 5
                    rows.append((fold, f"S{s}", f"P{p}", f"c{p % 2}", d, d + 1, mean, rng.poisson(mean * shock)))
    return pd.DataFrame(rows, columns=["fold", "store_id", "product_id", "category", "date", "horizon", "forecast", "actual"]
                        ).assign(model="m")


def test_level_means_are_sums_of_series_means():
    series = _backtest(folds=1).rename(columns={"forecast": "mean"})
    levels = aggregate(series, ["mean"], ["date"])
    assert set(levels["level"]) == set(LEVELS)
    total = levels[levels["level"] == "total"]
    assert (total["store_id"] == ALL_MEMBERS).all() and (total["category"] == ALL_MEMBERS).all()
    assert total["mean"].sum() == pytest.approx(series["mean"].sum())
    per_store = levels[levels["level"] == "store_category"].groupby("store_id")["mean"].sum()
    assert per_store.sum() == pytest.approx(series["mean"].sum())


def test_total_interval_is_calibrated_at_the_total_not_a_sum_of_series_quantiles():
    history = _backtest(seed=1)
    table = level_quantile_table(history)
    fresh = _backtest(seed=2, folds=1)
    series_q = cross_conformal(fresh.assign(fold=fresh["fold"] + np.arange(len(fresh)) % 2))
    summed_width = series_q.groupby("date").apply(lambda g: g["p90"].sum() - g["p10"].sum(), include_groups=False)
    out = level_forecasts(fresh.rename(columns={"forecast": "mean"}).drop(columns=["actual"]), table, "m")
    total = out[out["level"] == "total"].set_index("date")
    actual = fresh.groupby("date")["actual"].sum()
    assert (total["p10"] <= total["p50"]).all() and (total["p50"] <= total["p90"]).all()
    width = total["p90"] - total["p10"]
    assert (width < summed_width.reindex(width.index)).all()
    assert ((actual >= total["p10"]) & (actual <= total["p90"])).mean() >= 0.6
