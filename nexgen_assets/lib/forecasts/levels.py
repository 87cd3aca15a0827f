"""Forecasts at the levels people read: total, store, category and store x category.

The expected value of a group is the sum of its series' means. Its p10/p50/p90 are not
sums of series quantiles (the sum of p90s is far above the p90 of the sum): they come
from the group's own backtest residuals, calibrated per level and horizon bucket the
same way series intervals are (lib/evaluation/intervals.py).
"""

from __future__ import annotations

import pandas as pd

from nexgen_assets.lib.evaluation.intervals import apply_quantiles, quantile_table

ALL_MEMBERS = "All"
"""The key value of a dimension a level does not split by (Power BI filters on it like any member)."""
LEVELS: dict[str, list[str]] = {
    "total": [],
    "store": ["store_id"],
    "category": ["category"],
    "store_category": ["store_id", "category"],
}
LEVEL_COLUMNS = ["level", "store_id", "category"]


def aggregate(points: pd.DataFrame, values: list[str], by: list[str]) -> pd.DataFrame:
    """Sums of `values` per level and group, keeping the `by` columns (e.g. date, horizon, fold)."""
    pieces = []
    for level, keys in LEVELS.items():
        summed = points.groupby([*keys, *by], as_index=False, observed=True)[values].sum()
        for dim in ("store_id", "category"):
            if dim not in keys:
                summed[dim] = ALL_MEMBERS
        pieces.append(summed.assign(level=level))
    return pd.concat(pieces, ignore_index=True)


def level_quantile_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Calibration quantiles of every level from series backtest points (model, fold, date, horizon, actual, forecast)."""
    totals = aggregate(scored, ["actual", "forecast"], ["model", "fold", "date", "horizon"])
    return quantile_table(totals.assign(segment="all"))


def level_forecasts(series: pd.DataFrame, quantiles: pd.DataFrame, model: str) -> pd.DataFrame:
    """mean/p10/p50/p90 per level, group and day from series means (columns store_id, category, date, horizon, mean)."""
    totals = aggregate(series.rename(columns={"mean": "forecast"}), ["forecast"], ["date", "horizon"])
    table = quantiles[quantiles["level"].isin(LEVELS)]
    out = apply_quantiles(totals.assign(model=model, segment="all"), table)
    return out[[*LEVEL_COLUMNS, "date", "horizon", "mean", "p10", "p50", "p90"]]
