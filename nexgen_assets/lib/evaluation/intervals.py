"""Prediction intervals from out-of-sample residuals, by horizon (split conformal).

Retail counts are noisier the more is sold, so each backtest residual is divided by
sqrt(forecast + 1/4) before its quantiles are taken per model and horizon; an interval
is then forecast + quantile x sqrt(forecast + 1/4). One table serves fast and slow
sellers alike, and intervals widen when the forecast rises (a holiday peak). The
series scale below (mean absolute seasonal difference) is the MASE denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexgen_assets.lib.grain import SERIES_KEYS

QUANTILES = (0.1, 0.9)


def series_scale(history: pd.DataFrame, season: int = 7, floor: float = 0.05) -> pd.DataFrame:
    """Mean |y_t - y_{t-season}| per series, floored so flat series still get an interval."""
    frame = history.sort_values([*SERIES_KEYS, "date"])
    diff = frame.groupby(SERIES_KEYS)["quantity"].diff(season).abs()
    scale = diff.groupby([frame[c] for c in SERIES_KEYS]).mean().rename("scale").reset_index()
    scale["scale"] = scale["scale"].fillna(floor).clip(lower=floor)
    return scale


def noise_scale(forecast: pd.Series) -> pd.Series:
    """Expected size of a count's noise around its forecast."""
    return np.sqrt(forecast.clip(lower=0.0) + 0.25)


def quantile_table(scored: pd.DataFrame, quantiles: tuple[float, ...] = QUANTILES) -> pd.DataFrame:
    """Quantiles of scaled residuals per model and horizon (columns q10, q90)."""
    errors = scored.assign(scaled_error=(scored["actual"] - scored["forecast"]) / noise_scale(scored["forecast"]))
    table = errors.groupby(["model", "horizon"])["scaled_error"].quantile(list(quantiles)).unstack()
    table.columns = [f"q{int(round(q * 100))}" for q in quantiles]
    return table.reset_index()


def cross_conformal(scored: pd.DataFrame) -> pd.DataFrame:
    """p10/p90 for each backtest fold from the residuals of the other folds only (honest coverage)."""
    pieces = []
    for fold in sorted(scored["fold"].unique()):
        others = scored[scored["fold"] != fold]
        source = others if not others.empty else scored
        table = quantile_table(source)
        part = scored[scored["fold"] == fold].merge(table, on=["model", "horizon"], how="left")
        pieces.append(with_bounds(part))
    return pd.concat(pieces, ignore_index=True)


def with_bounds(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ordered, non-negative p10/p50/p90 from forecast and q10/q90 columns."""
    out = frame.copy()
    p50 = out["forecast"].clip(lower=0.0)
    noise = noise_scale(p50)
    out["p50"] = p50
    out["p10"] = np.minimum(p50, (p50 + out["q10"].fillna(0.0) * noise).clip(lower=0.0))
    out["p90"] = np.maximum(p50, p50 + out["q90"].fillna(0.0) * noise)
    return out.drop(columns=["q10", "q90"])


def apply_intervals(forecast: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """p10/p50/p90 for a point forecast (columns forecast, horizon) from a model's quantile table."""
    out = forecast.merge(table[["horizon", "q10", "q90"]], on="horizon", how="left")
    return with_bounds(out).drop(columns=["forecast"])
