"""Forecast accuracy: MAE, RMSE, MASE, WAPE, bias, interval coverage and pinball loss.

Detailed rows keep sums (not averages) so any grouping can be rolled up exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexgen_assets.lib.grain import HORIZON_DAYS

HORIZON_BUCKETS = tuple((lo, min(lo + 6, HORIZON_DAYS)) for lo in range(1, HORIZON_DAYS + 1, 7))
SUMS = ["n", "abs_error", "sq_error", "error", "abs_actual", "scaled_abs_error", "covered", "pinball"]


def horizon_bucket(horizon: pd.Series) -> pd.Series:
    labels = np.full(len(horizon), "h29+", dtype=object)
    for lo, hi in HORIZON_BUCKETS:
        labels[(horizon >= lo).to_numpy() & (horizon <= hi).to_numpy()] = f"h{lo:02d}-{hi:02d}"
    return pd.Series(labels, index=horizon.index)


def _pinball(actual: pd.Series, value: pd.Series, q: float) -> pd.Series:
    diff = actual - value
    return np.maximum(q * diff, (q - 1) * diff)


def error_sums(scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sums behind every metric, per group. Needs actual, forecast (or p50 and mean), scale, p10, p90.

    Absolute errors (MAE, MASE, WAPE) score the median p50, squared and signed errors
    (RMSE, bias) the expected value `mean`: each is the forecast that metric rewards.
    """
    if "horizon_bucket" in by and "horizon_bucket" not in scored:
        scored = scored.assign(horizon_bucket=horizon_bucket(scored["horizon"]))
    point = scored["p50"] if "p50" in scored else scored["forecast"]
    expected = scored["mean"] if "mean" in scored else point
    err = point - scored["actual"]
    err_mean = expected - scored["actual"]
    parts = pd.DataFrame(
        {
            "n": 1,
            "abs_error": err.abs(),
            "sq_error": err_mean**2,
            "error": err_mean,
            "abs_actual": scored["actual"].abs(),
            "scaled_abs_error": err.abs() / scored["scale"],
            "covered": ((scored["actual"] >= scored["p10"]) & (scored["actual"] <= scored["p90"])).astype(float)
            if "p10" in scored
            else np.nan,
            "pinball": (
                _pinball(scored["actual"], scored["p10"], 0.1)
                + _pinball(scored["actual"], point, 0.5)
                + _pinball(scored["actual"], scored["p90"], 0.9)
            )
            / 3
            if "p10" in scored
            else np.nan,
        }
    )
    keys = scored[by].copy()
    return pd.concat([keys, parts], axis=1).groupby(by, as_index=False)[SUMS].sum(min_count=1)


def summarize(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Metrics from error sums, per group."""
    g = sums.groupby(by, as_index=False)[SUMS].sum(min_count=1)
    out = g[by].copy()
    out["mae"] = g["abs_error"] / g["n"]
    out["rmse"] = np.sqrt(g["sq_error"] / g["n"])
    out["mase"] = g["scaled_abs_error"] / g["n"]
    out["wape"] = g["abs_error"] / g["abs_actual"].where(g["abs_actual"] > 0)
    out["bias"] = g["error"] / g["n"]
    out["coverage_p10_p90"] = g["covered"] / g["n"]
    out["pinball"] = g["pinball"] / g["n"]
    out["n"] = g["n"].astype(int)
    return out
