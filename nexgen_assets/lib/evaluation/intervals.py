"""Calibrated p10/p50/p90 from out-of-sample residuals, per horizon bucket and demand segment (split conformal).

Retail counts are noisier the more is sold, so each backtest residual (actual minus the
expected value) is divided by sqrt(mean + 1/4) before its 10th, 50th and 90th
percentiles are taken per calibration cell: model, level, segment, horizon bucket and
the band the mean falls in (counts near zero have another shape than counts of 20). A
quantile is then mean + q x sqrt(mean + 1/4), clipped at zero, so intervals widen when
the forecast rises (a holiday peak) and p50 is the median the residuals show: on a slow
seller whose mean is 0.4 a day it is 0, not 0.4. A cell with fewer than MIN_CELL_POINTS
residuals borrows the quantiles of a coarser cell (no band, then no segment, then no
horizon bucket). The series scale below (mean absolute seasonal difference) is the MASE
denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexgen_assets.lib.evaluation.metrics import horizon_bucket
from nexgen_assets.lib.grain import SERIES_KEYS

QUANTILES = (0.1, 0.5, 0.9)
QUANTILE_COLUMNS = ["q10", "q50", "q90"]
CELL = ["model", "level", "segment", "horizon_bucket", "band"]
COARSER_CELLS = (
    ["model", "level", "segment", "horizon_bucket"],
    ["model", "level", "horizon_bucket"],
    ["model", "level"],
)
ANY = "all"
SERIES_LEVEL = "series"
MEAN_BANDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""Upper edges of the bands of a series' daily mean that are calibrated apart."""
MIN_CELL_POINTS = 50


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


def mean_band(mean: pd.Series) -> pd.Series:
    """The band label of each daily mean, e.g. "0.5-1" or "16+"."""
    edges = [-np.inf, *MEAN_BANDS, np.inf]
    labels = [f"<{MEAN_BANDS[0]:g}", *[f"{lo:g}-{hi:g}" for lo, hi in zip(MEAN_BANDS, MEAN_BANDS[1:], strict=False)],
              f"{MEAN_BANDS[-1]:g}+"]
    return pd.cut(mean.clip(lower=0.0), edges, labels=labels, right=False).astype(str)


def _cells(scored: pd.DataFrame) -> pd.DataFrame:
    """Scored points with every calibration cell column; bands only at series level (aggregates are few)."""
    out = scored
    if "horizon_bucket" not in out:
        out = out.assign(horizon_bucket=horizon_bucket(out["horizon"]))
    if "level" not in out:
        out = out.assign(level=SERIES_LEVEL)
    if "segment" not in out:
        out = out.assign(segment=ANY)
    band = mean_band(out["forecast"]).where(out["level"] == SERIES_LEVEL, ANY)
    return out.assign(band=band.to_numpy())


def quantile_table(scored: pd.DataFrame) -> pd.DataFrame:
    """q10/q50/q90 of scaled residuals and their count per calibration cell and per coarser cell (`all` in the
    columns a coarser cell pools over); `scored` has actual, forecast (the mean) and horizon."""
    cells = _cells(scored)
    errors = cells.assign(scaled_error=(cells["actual"] - cells["forecast"]) / noise_scale(cells["forecast"]))
    tables = []
    for keys in (CELL, *COARSER_CELLS):
        grouped = errors.groupby(keys)["scaled_error"]
        table = grouped.quantile(list(QUANTILES)).unstack()
        table.columns = QUANTILE_COLUMNS
        table["points"] = grouped.size()
        table = table.reset_index()
        for col in CELL:
            if col not in keys:
                table[col] = ANY
        tables.append(table[[*CELL, *QUANTILE_COLUMNS, "points"]])
    return pd.concat(tables, ignore_index=True).drop_duplicates(CELL)


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
    """Points with mean/p10/p50/p90 from a quantile table, matched on the finest cell with enough residuals.

    A cell the table lacks or that holds fewer than MIN_CELL_POINTS residuals falls back to
    a coarser one, never to a zero-width interval.
    """
    cells = _cells(points).reset_index(drop=True)
    table = table.assign(**{col: ANY for col in CELL if col not in table})
    usable = table[table["points"].fillna(MIN_CELL_POINTS) >= MIN_CELL_POINTS] if "points" in table else table
    found = pd.DataFrame(np.nan, index=cells.index, columns=QUANTILE_COLUMNS)
    for keys in (CELL, *COARSER_CELLS):
        probe = cells[keys].copy()
        for col in CELL:
            if col not in keys:
                probe[col] = ANY
        matched = probe.merge(usable[[*CELL, *QUANTILE_COLUMNS]], on=CELL, how="left")
        missing = found["q50"].isna()
        found.loc[missing] = matched.loc[missing, QUANTILE_COLUMNS].to_numpy()
    return with_bounds(pd.concat([cells, found], axis=1))