"""Champion candidates that combine models: a weighted blend, and a choice or blend per demand segment.

A candidate is a weight table `{segment: {model: weight}}`; the segment "all" applies to
every series. A single model is `{"all": {model: 1.0}}`. Blend weights are non-negative
least squares of the actuals on the models' forecasts, scaled to sum to one, so a blend
stays an expected value. Every weight is learned on other folds than the one it is scored
on (see `honest_candidates`), so a blend cannot win by having seen its test days.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from nexgen_assets.lib.evaluation.segments import SEGMENTS

ALL = "all"
Weights = dict[str, dict[str, float]]
POINT_KEYS = ["fold", "origin", "store_id", "product_id", "category", "segment", "date", "horizon", "actual", "scale"]
BLENDS = ("blend", "segment_choice", "segment_blend")


def single(model: str) -> Weights:
    return {ALL: {model: 1.0}}


def _nnls_weights(points: pd.DataFrame, models: list[str]) -> dict[str, float]:
    """Non-negative weights summing to one that best fit the actuals in squared error.

    The sum-to-one constraint is a heavily weighted extra row of the least-squares problem
    (then rounded off exactly), which keeps the solve a plain NNLS. The best model alone
    when nothing fits.
    """
    matrix = points[models].to_numpy(dtype="float64")
    target = points["actual"].to_numpy(dtype="float64")
    penalty = 1e3 * max(1.0, float(np.abs(target).sum()))
    solution, _ = nnls(np.vstack([matrix, np.full(len(models), penalty)]), np.append(target, penalty))
    if solution.sum() <= 0:
        return {_best(points, models): 1.0}
    solution = solution / solution.sum()
    return {m: round(float(w), 4) for m, w in zip(models, solution, strict=True) if w >= 1e-4}


def _best(points: pd.DataFrame, models: list[str]) -> str:
    errors = {m: float((points[m] - points["actual"]).abs().mean()) for m in models}
    return min(errors, key=errors.get)


def fit_blends(points: pd.DataFrame, models: list[str]) -> dict[str, Weights]:
    """The blend candidates' weights learned from wide backtest points (one forecast column per model)."""
    by_segment = {seg: points[points["segment"] == seg] for seg in SEGMENTS}
    by_segment = {seg: part for seg, part in by_segment.items() if not part.empty}
    return {
        "blend": {ALL: _nnls_weights(points, models)},
        "segment_choice": {seg: {_best(part, models): 1.0} for seg, part in by_segment.items()},
        "segment_blend": {seg: _nnls_weights(part, models) for seg, part in by_segment.items()},
    }


def combine(frame: pd.DataFrame, weights: Weights, forecasts: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The weighted forecast per row; rows need `segment` and each model's forecast (in frame or `forecasts`)."""
    source = forecasts if forecasts is not None else frame
    out = np.zeros(len(frame))
    segment = frame["segment"].to_numpy()
    for seg, parts in weights.items():
        rows = np.ones(len(frame), dtype=bool) if seg == ALL else segment == seg
        for model, weight in parts.items():
            out[rows] += weight * np.asarray(source[model], dtype="float64")[rows]
    return out


def components(weights: Weights) -> list[str]:
    """The models a candidate reads, in a stable order."""
    return sorted({m for parts in weights.values() for m in parts})


def blend_version(weights: Weights, versions: Mapping[str, str]) -> str:
    """A stable id for a candidate made of stored model versions."""
    used = {m: versions[m] for m in components(weights)}
    digest = hashlib.sha256(json.dumps([weights, used], sort_keys=True).encode()).hexdigest()[:12]
    return f"blend-{digest}"


def wide_points(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per fold, series and day with one forecast column per model."""
    wide = scored.pivot_table(index=POINT_KEYS, columns="model", values="forecast", aggfunc="first")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def honest_candidates(wide: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, dict[str, Weights]]:
    """Long points of every candidate (blends weighted on the other folds) and each candidate's weights from all folds."""
    folds = sorted(wide["fold"].unique())
    candidates: dict[str, Weights] = {m: single(m) for m in models}
    candidates.update(fit_blends(wide, models))
    held_out = {fold: fit_blends(wide[wide["fold"] != fold], models) for fold in folds} if len(folds) > 1 else {}
    pieces = []
    for fold in folds:
        part = wide[wide["fold"] == fold]
        for name, weights in candidates.items():
            weights_here = held_out[fold][name] if name in BLENDS and fold in held_out else weights
            pieces.append(part[POINT_KEYS].assign(model=name, forecast=combine(part, weights_here)))
    return pd.concat(pieces, ignore_index=True), candidates
