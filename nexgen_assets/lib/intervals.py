"""Prediction intervals from out-of-sample residuals, by horizon, scaled per series.

Residuals of forecasts made at earlier origins are divided by each series' scale
(its mean absolute seasonal difference, the MASE denominator), so one table of
quantiles by horizon serves fast and slow sellers alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SERIES = ["store_id", "product_id"]


def series_scale(history: pd.DataFrame, season: int = 7, floor: float = 0.05) -> pd.DataFrame:
    """Mean |y_t - y_{t-season}| per series, floored so flat series still get an interval."""
    frame = history.sort_values([*SERIES, "date"])
    diff = frame.groupby(SERIES)["quantity"].diff(season).abs()
    scale = diff.groupby([frame[c] for c in SERIES]).mean().rename("scale").reset_index()
    scale["scale"] = scale["scale"].fillna(floor).clip(lower=floor)
    return scale


def residual_quantiles(
    residuals: pd.DataFrame, quantiles: tuple[float, ...] = (0.1, 0.9)
) -> pd.DataFrame:
    """Quantiles of scaled residuals (column scaled_error) per horizon."""
    table = residuals.groupby("horizon")["scaled_error"].quantile(list(quantiles)).unstack()
    table.columns = [f"q{int(round(q * 100))}" for q in quantiles]
    return table.reset_index()


def apply_intervals(forecast: pd.DataFrame, scale: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add p10/p50/p90 to a point forecast; every quantile is non-negative and ordered."""
    out = forecast.merge(scale, on=SERIES, how="left").merge(table, on="horizon", how="left")
    out["scale"] = out["scale"].fillna(out["scale"].median() if out["scale"].notna().any() else 1.0)
    p50 = out["forecast"].clip(lower=0.0)
    out["p50"] = p50
    out["p10"] = np.minimum(p50, (p50 + out["q10"].fillna(0.0) * out["scale"]).clip(lower=0.0))
    out["p90"] = np.maximum(p50, p50 + out["q90"].fillna(0.0) * out["scale"])
    return out.drop(columns=["scale", "q10", "q90", "forecast"])
