"""The one interface every forecasting model implements, so all are trained and judged alike.

A model is fitted at a forecast origin on two views of the past: `history` (daily
quantity per series up to the origin) and `train` (feature rows whose target day is on
or before the origin). It then predicts `future`: feature rows for the days after the
origin, without their target. Feature rows only look back at least the horizon
(see lib/features/feature_table.py), so nothing after the origin is ever used.

A fitted model saves itself into a folder as JSON plus safe native formats (Parquet,
XGBoost UBJ, skops, .keras), never pickle, so loading a stored model runs no code from
the file and survives library upgrades that pickles of library objects do not.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STATE_FILE = "state.json"
"""What every saved model writes: its name, parameters, training rows and any other JSON-safe state."""


class Forecaster(ABC):
    """A global model over all series."""

    name: str = "forecaster"
    reads_feature_rows: bool = False
    """Whether `fit` learns from the wide feature rows (`train`); if not, training reads the daily history alone."""

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

    def save(self, folder: Path) -> None:
        """Write the fitted model into an existing empty folder: state.json plus the files of `_save_state`."""
        folder = Path(folder)
        extra = self._save_state(folder)
        state = {"model": self.name, "params": self.params, "training_rows": self.training_rows, **extra}
        write_json(folder / STATE_FILE, state)

    @classmethod
    def load(cls, folder: Path) -> Forecaster:
        """The fitted model `save` wrote into `folder`; ValueError if it holds another model."""
        folder = Path(folder)
        state = read_json(folder / STATE_FILE)
        if state.get("model") != cls.name:
            raise ValueError(f"{folder} holds a {state.get('model')!r} model, not {cls.name!r}")
        model = cls(**state["params"])
        model.training_rows = int(state["training_rows"])
        model._load_state(folder, state)
        return model

    @abstractmethod
    def _save_state(self, folder: Path) -> dict[str, Any]:
        """Write the fitted state's files into folder and return the rest as JSON-safe values; RuntimeError if unfitted."""

    @abstractmethod
    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        """Restore what `_save_state` wrote (its files in folder, its values in state)."""


def write_json(path: Path, value: Any) -> None:
    """Plain JSON only (no NaN, no fallback for unknown types), so what is read back is what was written."""
    Path(path).write_text(json.dumps(value, indent=2, sort_keys=True, allow_nan=False))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def horizon_of(future: pd.DataFrame, origin) -> np.ndarray:
    """Days between the origin and each future row (1 = the day after the origin)."""
    return (pd.to_datetime(future["date"]) - pd.Timestamp(origin)).dt.days.to_numpy()
