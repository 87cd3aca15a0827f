"""The one interface every forecasting model implements, so all are trained and judged alike.

A model is fitted at a forecast origin on two views of the past: `history` (daily
quantity per series up to the origin) and `train` (feature rows whose target day is on
or before the origin). It then predicts `future`: feature rows for the days after the
origin, without their target. Feature rows only look back at least the horizon
(see lib/features/feature_table.py), so nothing after the origin is ever used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd


class Forecaster(ABC):
    """A global model over all series."""

    name: str = "forecaster"

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.training_rows = 0

    @abstractmethod
    def fit(self, history: pd.DataFrame, train: pd.DataFrame) -> Forecaster:
        """Learn from the past; returns self."""

    @abstractmethod
    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        """Non-negative point forecasts aligned with the rows of `future`."""

    def clone(self) -> Forecaster:
        """An unfitted model with the same parameters."""
        return type(self)(**self.params)

    def feature_names(self) -> list[str]:
        return ["quantity"]


def horizon_of(future: pd.DataFrame, origin) -> np.ndarray:
    """Days between the origin and each future row (1 = the day after the origin)."""
    return (pd.to_datetime(future["date"]) - pd.Timestamp(origin)).dt.days.to_numpy()
