"""Fit one model on recent feature rows and describe what was trained, for the model store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from nexgen_assets.lib.models.inputs import training_extract
from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.lib.models.tabular import SpanwiseTreeForecaster


@dataclass(frozen=True)
class TrainedModel:
    model: Forecaster
    seconds: float
    metadata: dict[str, Any]
    extract: dict[str, Any]
    """What was collected from Spark (see TrainingExtract.metadata), for the materialization."""


def train_model(
    model: Forecaster, features: DataFrame, history_days: int, max_feature_rows: int | None = None
) -> TrainedModel:
    """Fit on the last `history_days` observed days: the full daily history and, for the tree models (the only
    ones that fit on feature rows), at most about `max_feature_rows` feature rows (None = all); metadata holds
    parameters, rows, seconds and features."""
    reads_rows = isinstance(model, SpanwiseTreeForecaster)
    extract = training_extract(features, history_days, max_feature_rows, with_feature_rows=reads_rows)
    history = extract.history
    started = time.perf_counter()
    model.fit(history, extract.feature_rows)
    seconds = round(time.perf_counter() - started, 2)
    metadata = {
        "params": model.params,
        "training_rows": model.training_rows,
        "training_seconds": seconds,
        "features": model.feature_names(),
        "trained_through": str(max(history["date"])),
        "history_days": history_days,
    }
    return TrainedModel(model, seconds, metadata, extract.metadata())
