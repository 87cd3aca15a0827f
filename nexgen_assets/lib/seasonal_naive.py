"""Seasonal naive: tomorrow sells what the same weekday sold last week. The baseline every model must beat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

SERIES = ["store_id", "product_id"]


@dataclass
class SeasonalNaiveModel:
    """The last `season` days of every live series, ready to repeat forward."""

    season: int
    last_date: dt.date
    last_season: pd.DataFrame

    @property
    def series_count(self) -> int:
        return int(self.last_season[SERIES].drop_duplicates().shape[0])

    def predict(self, horizon: int) -> pd.DataFrame:
        """Point forecast per series and day for days 1..horizon after last_date."""
        steps = np.arange(1, horizon + 1)
        grid = self.last_season[SERIES].drop_duplicates().merge(pd.DataFrame({"horizon": steps}), how="cross")
        grid["offset"] = (grid["horizon"] - 1) % self.season
        out = grid.merge(self.last_season, on=[*SERIES, "offset"], how="left")
        out["date"] = pd.to_datetime(self.last_date) + pd.to_timedelta(out["horizon"], unit="D")
        out["date"] = out["date"].dt.date
        out["forecast"] = out["quantity"].fillna(0.0).clip(lower=0.0)
        return out[[*SERIES, "date", "horizon", "forecast"]].sort_values([*SERIES, "horizon"]).reset_index(drop=True)


def fit_seasonal_naive(history: pd.DataFrame, season: int = 7) -> SeasonalNaiveModel:
    """Keep the last `season` days of each series that is still alive on the last day.

    `history` needs store_id, product_id, date and quantity, zero-filled per day.
    """
    if history.empty:
        raise ValueError("seasonal naive needs at least one day of history; daily_sales is empty")
    frame = history[[*SERIES, "date", "quantity"]].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    last_date = frame["date"].max()
    first_kept = last_date - pd.Timedelta(days=season - 1)
    recent = frame[frame["date"] >= first_kept].copy()
    alive = recent.groupby(SERIES)["date"].transform("max") == last_date
    recent = recent[alive]
    recent["offset"] = (recent["date"] - first_kept).dt.days
    return SeasonalNaiveModel(
        season=season,
        last_date=last_date.date(),
        last_season=recent[[*SERIES, "offset", "quantity"]].reset_index(drop=True),
    )


def seasonal_naive_residuals(
    history: pd.DataFrame, scale: pd.DataFrame, horizon: int, origins: int, season: int = 7
) -> pd.DataFrame:
    """Scaled out-of-sample errors of the seasonal naive at `origins` earlier weekly origins."""
    frame = history[[*SERIES, "date", "quantity"]].copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    last = max(frame["date"])
    pieces = []
    for i in range(origins):
        origin = last - dt.timedelta(days=horizon + 7 * i)
        past = frame[frame["date"] <= origin]
        if past.empty:
            break
        forecast = fit_seasonal_naive(past, season).predict(horizon)
        scored = forecast.merge(frame, on=[*SERIES, "date"], how="inner").merge(scale, on=SERIES)
        scored["scaled_error"] = (scored["quantity"] - scored["forecast"]) / scored["scale"]
        pieces.append(scored[["horizon", "scaled_error"]])
    if not pieces:
        return pd.DataFrame({"horizon": pd.Series(dtype="int64"), "scaled_error": pd.Series(dtype="float64")})
    return pd.concat(pieces, ignore_index=True)
