"""Calibrated p10/p50/p90 from out-of-sample residuals, per horizon bucket and demand segment (split conformal).

Retail counts are noisier the more is sold, so each backtest residual (actual minus the
expected value) is divided by sqrt(mean + 1/4) before its 10th, 50th and 90th
percentiles are taken per calibration cell: model, level, segment and horizon bucket.
A quantile is then mean + q x sqrt(mean + 1/4), clipped at zero. One table serves fast
and slow sellers alike, intervals widen when the forecast rises (a holiday peak), and
p50 is the median the residuals show: on a slow seller whose mean is 0.4 a day it is 0,
not 0.4. The series scale below (mean absolute seasonal difference) is the MASE denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexgen_assets.lib.evaluation.metrics import horizon_bucket
from nexgen_assets.lib.grain import SERIES_KEYS

QUANTILES = (0.1, 0.5, 0.9)
QUANTILE_COLUMNS = ["q10", "q50", "q90"]
CELL = ["model", "level", "segment", "horizon_bucket"]
SERIES_LEVEL = "series"


def series_scale(history: pd.DataFrame, season: int = 7, floor: float = 0.05) -> pd.DataFrame:
    """Mean |y_t - y_{t-season}| per series, floored so flat series still get an interval."""
    frame = history.sort_values([*SERIES_KEYS, "date"])
    diff = frame.groupby(SERIES_KEYS)["quantity"].diff(season).abs()
    scale = diff.groupby([frame[c] for c in SERIES_KEYS]).mean().rename("scale").reset_index()
    scale["scale"] = scale["scale"].fillna(floor).clip(lower=floor)
    return scale


def noise_scale(mean: pd.Series) -> pd.Series:
    """Expected size of a count's noise around its expected value."""
    return np.sqrt(mean.clip(lower=0.0) + 0.25)


def _cells(scored: pd.DataFrame) -> pd.DataFrame:
    """Scored points with every calibration cell column (series level, segment from the points)."""
    out = scored
    if "horizon_bucket" not in out:
        out = out.assign(horizon_bucket=horizon_bucket(out["horizon"]))
    if "level" not in out:
        out = out.assign(level=SERIES_LEVEL)
    if "segment" not in out:
        out = out.assign(segment="all")
    return out


def quantile_table(scored: pd.DataFrame) -> pd.DataFrame:
    """q10/q50/q90 of scaled residuals per calibration cell; `scored` has actual, forecast (the mean) and horizon."""
    cells = _cells(scored)
    errors = cells.assign(scaled_error=(cells["actual"] - cells["forecast"]) / noise_scale(cells["forecast"]))
    table = errors.groupby(CELL)["scaled_error"].quantile(list(QUANTILES)).unstack()
    table.columns = QUANTILE_COLUMNS
    return table.reset_index()


def cross_conformal(scored: pd.DataFrame) -> pd.DataFrame:
    """p10/p50/p90 for each backtest fold from the residuals of the other folds only (honest coverage)."""
    cells = _cells(scored)
    pieces = []
    for fold in sorted(cells["fold"].unique()):
        others = cells[cells["fold"] != fold]
        table = quantile_table(others if not others.empty else cells)
        pieces.append(apply_quantiles(cells[cells["fold"] == fold], table))
    return pd.concat(pieces, ignore_index=True)


def with_bounds(frame: pd.DataFrame) -> pd.DataFrame:
    """Ordered, non-negative mean, p10, p50 and p90 from `forecast` (the mean) and q10/q50/q90 columns."""
    out = frame.copy()
    mean = out["forecast"].clip(lower=0.0)
    noise = noise_scale(mean)
    out["mean"] = mean
    out["p50"] = (mean + out["q50"].fillna(0.0) * noise).clip(lower=0.0)
    out["p10"] = np.minimum(out["p50"], (mean + out["q10"].fillna(0.0) * noise).clip(lower=0.0))
    out["p90"] = np.maximum(out["p50"], mean + out["q90"].fillna(0.0) * noise)
    return out.drop(columns=QUANTILE_COLUMNS)


def apply_quantiles(points: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Points with mean/p10/p50/p90 from a quantile table, matched on the calibration cell.

    A cell the table lacks (a segment unseen in the backtest) falls back to the model's
    pooled quantiles for that level and horizon bucket, never to a zero-width interval.
    """
    cells = _cells(points)
    matched = cells.merge(table[[*CELL, *QUANTILE_COLUMNS]], on=CELL, how="left")
    pooled = table.groupby(["model", "level", "horizon_bucket"], as_index=False)[QUANTILE_COLUMNS].median()
    fallback = cells[["model", "level", "horizon_bucket"]].merge(pooled, on=["model", "level", "horizon_bucket"], how="left")
    for col in QUANTILE_COLUMNS:
        matched[col] = matched[col].fillna(pd.Series(fallback[col].to_numpy(), index=matched.index))
    return with_bounds(matched)
