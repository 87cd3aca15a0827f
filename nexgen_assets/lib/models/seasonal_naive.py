"""Seasonal naive: a day sells what the same weekday sold in the last observed week.

It is the baseline every learned model must beat (MASE is measured against it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.models.interface import Forecaster, horizon_of

DEFAULTS = {"season": 7}
SEASON_FILE = "last_season.parquet"


class SeasonalNaiveForecaster(Forecaster):
    name = "seasonal_naive"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})
        self.last_date = None
        self.last_season: pd.DataFrame | None = None

    def fit(self, history: pd.DataFrame, train: pd.DataFrame | None = None) -> SeasonalNaiveForecaster:
        """Keep the last `season` days of every series."""
        if history.empty:
            raise ValueError("seasonal naive needs at least one day of history; daily_sales is empty")
        season = self.params["season"]
        frame = history[[*SERIES_KEYS, "date", "quantity"]].copy()
        frame["date"] = pd.to_datetime(frame["date"])
        last = frame["date"].max()
        first_kept = last - pd.Timedelta(days=season - 1)
        recent = frame[frame["date"] >= first_kept].copy()
        recent["offset"] = (recent["date"] - first_kept).dt.days
        self.last_date = last.date()
        self.last_season = recent[[*SERIES_KEYS, "offset", "quantity"]].reset_index(drop=True)
        self.training_rows = len(recent)
        return self

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if self.last_season is None:
            raise RuntimeError("seasonal naive is not fitted")
        season = self.params["season"]
        keys = future[SERIES_KEYS].copy()
        keys["offset"] = (horizon_of(future, self.last_date) - 1) % season
        out = keys.merge(self.last_season, on=[*SERIES_KEYS, "offset"], how="left")
        return np.clip(out["quantity"].fillna(0.0).to_numpy(dtype="float64"), 0.0, None)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        """The last season's quantities as Parquet, the last date in state.json."""
        if self.last_season is None:
            raise RuntimeError("seasonal naive is not fitted")
        self.last_season.to_parquet(folder / SEASON_FILE, index=False)
        return {"last_date": self.last_date.isoformat()}

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        self.last_date = dt.date.fromisoformat(state["last_date"])
        self.last_season = pd.read_parquet(folder / SEASON_FILE)
