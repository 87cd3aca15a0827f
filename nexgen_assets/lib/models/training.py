"""Fit one model on recent feature rows and describe what was trained, for the model store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from nexgen_assets.lib.models.inputs import history_of, recent_features
from nexgen_assets.lib.models.interface import Forecaster


@dataclass(frozen=True)
class TrainedModel:
    model: Forecaster
    seconds: float
    metadata: dict[str, Any]


def train_model(model: Forecaster, features: DataFrame, history_days: int) -> TrainedModel:
    """Fit on the last `history_days` observed days; metadata holds parameters, rows, seconds and features."""
    extract = recent_features(features, history_days)
    history = history_of(extract)
    train = extract[~extract["is_future"].astype(bool)]
    started = time.perf_counter()
    model.fit(history, train)
    seconds = round(time.perf_counter() - started, 2)
    metadata = {
        "params": model.params,
        "training_rows": model.training_rows,
        "training_seconds": seconds,
        "features": model.feature_names(),
        "trained_through": str(max(history["date"])),
        "history_days": history_days,
    }
    return TrainedModel(model, seconds, metadata)
