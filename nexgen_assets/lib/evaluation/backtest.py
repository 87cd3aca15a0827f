"""Rolling-origin backtests: every model refitted at the same origins and scored on the same days.

The scored forecasts also become the champion candidates that combine models (see
blends.py) and the residuals that calibrate every candidate's quantiles, at series
level per segment and at every aggregate level.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from nexgen_assets.lib.evaluation.blends import Weights, blend_version, honest_candidates, wide_points
from nexgen_assets.lib.evaluation.intervals import cross_conformal, quantile_table, series_scale
from nexgen_assets.lib.evaluation.metrics import error_sums
from nexgen_assets.lib.evaluation.segments import series_segments
from nexgen_assets.lib.forecasts.levels import level_quantile_table
from nexgen_assets.lib.grain import HORIZON_DAYS, SERIES_KEYS
from nexgen_assets.lib.models.interface import Forecaster

YEAR_DAYS = 364
"""52 weeks: a year back on the same weekday."""


def fold_origins(last_date: dt.date, horizon: int, folds: int, seasonal: bool = True) -> list[dt.date]:
    """Origins spaced one horizon apart, the newest one horizon before the last day; oldest first.

    `seasonal` adds the origin one year before the last day: its fold scores the same weeks
    a year before the days about to be forecast, so the intervals and the candidates are
    also judged on the season ahead (a December forecast on last December, not only on
    the autumn weeks before it).
    """
    recent = [last_date - dt.timedelta(days=horizon * k) for k in range(folds, 0, -1)]
    year_ago = last_date - dt.timedelta(days=YEAR_DAYS)
    return [year_ago, *recent] if seasonal and year_ago < recent[0] else recent


MIN_TRAINING_DAYS = 56


def usable_origins(first_date: dt.date, last_date: dt.date, horizon: int, folds: int, seasonal: bool = True) -> list[dt.date]:
    """The requested origins that leave at least MIN_TRAINING_DAYS of history before them."""
    origins = fold_origins(last_date, horizon, folds, seasonal)
    return [o for o in origins if (o - first_date).days >= MIN_TRAINING_DAYS]


def history_origins(history: pd.DataFrame, horizon: int, folds: int, seasonal: bool = True) -> list[dt.date]:
    """The usable origins of a daily history (see usable_origins)."""
    days = pd.to_datetime(history["date"])
    return usable_origins(days.min().date(), days.max().date(), horizon, folds, seasonal)


def scored_windows(
    history: pd.DataFrame, folds: int, seasonal: bool = True, horizon: int = HORIZON_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """The days each fold scores, (origin, origin + horizon]: the feature rows a backtest needs in full
    even when it trains on a sample."""
    return [(o, o + dt.timedelta(days=horizon)) for o in history_origins(history, horizon, folds, seasonal)]


def split_at(
    history: pd.DataFrame, features: pd.DataFrame, origin: dt.date, horizon: int, scoring: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """History and training rows up to the origin, and the next `horizon` days of series alive at it.

    `scoring` holds the feature rows of the scored days when `features` is only a sample (default: `features`).
    """
    scoring = features if scoring is None else scoring
    days = pd.to_datetime(features["date"]).dt.date
    hist_days = pd.to_datetime(history["date"]).dt.date
    past = history[hist_days <= origin]
    train = features[(days <= origin) & features["quantity"].notna()]
    alive = past[SERIES_KEYS].drop_duplicates()
    scored_days = pd.to_datetime(scoring["date"]).dt.date
    window = (scored_days > origin) & (scored_days <= origin + dt.timedelta(days=horizon)) & scoring["quantity"].notna()
    future = scoring[window].merge(alive, on=SERIES_KEYS, how="inner")
    return past, train, future


def run_backtest(
    models: Mapping[str, Forecaster],
    history: pd.DataFrame,
    features: pd.DataFrame,
    horizon: int,
    folds: int,
    seasonal: bool = True,
    scoring: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scored forecasts (model, fold, series, category, segment, day, actual, forecast, scale) and seconds per model and fold.

    `history` is the complete daily history; `features` the training rows (a sample is fine) and `scoring`
    the feature rows of the scored days, complete (default: `features`).
    """
    origins = history_origins(history, horizon, folds, seasonal)
    if not origins:
        days = pd.to_datetime(history["date"])
        first, last = days.min().date(), days.max().date()
        raise ValueError(
            f"backtest needs at least {MIN_TRAINING_DAYS + horizon} days of history; "
            f"daily_sales has {(last - first).days + 1} ({first} to {last})"
        )
    scored, timings = [], []
    for fold, origin in enumerate(origins, start=1):
        past, train, future = split_at(history, features, origin, horizon, scoring)
        if future.empty or train.empty:
            raise ValueError(f"backtest fold {fold} at {origin} has no data; history is too short for {folds} folds")
        scale = series_scale(past).merge(series_segments(past), on=SERIES_KEYS, how="left")
        blind = future.drop(columns=["quantity"])
        for name, template in models.items():
            model = template.clone()
            started = time.perf_counter()
            model.fit(past, train)
            forecast = model.predict(past, blind)
            timings.append({"model": name, "fold": fold, "origin": origin, "seconds": time.perf_counter() - started,
                            "training_rows": model.training_rows})
            frame = future[[*SERIES_KEYS, "category", "date", "quantity"]].rename(columns={"quantity": "actual"}).copy()
            frame["date"] = pd.to_datetime(frame["date"]).dt.date
            frame["forecast"] = forecast
            frame["horizon"] = [(d - origin).days for d in frame["date"]]
            frame.insert(0, "model", name)
            frame.insert(1, "fold", fold)
            frame.insert(2, "origin", origin)
            scored.append(frame.merge(scale, on=SERIES_KEYS, how="left"))
    return pd.concat(scored, ignore_index=True), pd.DataFrame(timings)


DETAIL = ["model", "model_version", "fold", "store_id", "product_id", "horizon_bucket"]


@dataclass(frozen=True)
class BacktestOutcome:
    """Per candidate (each model and each blend): error sums per fold, series and horizon bucket, quantiles
    per calibration cell, weights and version; and fit seconds per model and fold."""

    sums: pd.DataFrame
    interval_quantiles: pd.DataFrame
    timings: pd.DataFrame
    scored_points: int
    weights: dict[str, Weights]
    versions: dict[str, str]

    def weight_table(self) -> pd.DataFrame:
        """One row per candidate, segment and component model with its weight."""
        rows = [
            {"model": name, "model_version": self.versions[name], "segment": seg, "component": model, "weight": weight}
            for name, weights in self.weights.items()
            for seg, parts in weights.items()
            for model, weight in parts.items()
        ]
        return pd.DataFrame(rows)

    @property
    def origins(self) -> list[dt.date]:
        return sorted(self.timings["origin"].unique())


def backtest_models(
    templates: Mapping[str, Forecaster],
    versions: Mapping[str, str],
    history: pd.DataFrame,
    features: pd.DataFrame,
    folds: int,
    seasonal: bool = True,
    scoring: pd.DataFrame | None = None,
) -> BacktestOutcome:
    """Refit every model at the same origins, build the blends, and score every candidate with honest intervals.

    Inputs as for run_backtest: the complete daily history, training feature rows, and the scored days' rows.
    """
    scored, timings = run_backtest(templates, history, features, HORIZON_DAYS, folds, seasonal, scoring)
    candidates, weights = honest_candidates(wide_points(scored), list(templates))
    all_versions = {name: versions[name] if name in versions else blend_version(w, versions) for name, w in weights.items()}
    with_intervals = cross_conformal(candidates)
    with_intervals["model_version"] = with_intervals["model"].map(all_versions)
    quantiles = pd.concat([quantile_table(candidates), level_quantile_table(candidates)], ignore_index=True)
    return BacktestOutcome(error_sums(with_intervals, DETAIL), quantiles, timings, len(scored), weights, all_versions)
