"""Fit one model on recent feature rows and describe what was trained, for the model store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from nexgen_assets.lib.models.grouped import GLOBAL, GroupedForecaster, with_training_groups
from nexgen_assets.lib.models.inputs import training_extract, training_frames
from nexgen_assets.lib.models.interface import Forecaster


@dataclass(frozen=True)
class TrainedModel:
    model: Forecaster
    seconds: float
    metadata: dict[str, Any]
    extract: dict[str, Any]
    """What was read from Spark (see TrainingExtract.metadata), for the materialization."""


def train_model(
    model: Forecaster,
    features: DataFrame,
    history_days: int,
    max_feature_rows: int | None = None,
    training_groups: str = GLOBAL,
) -> TrainedModel:
    """Fit on the last `history_days` observed days: the full daily history and, for models that fit on feature rows
    (the trees), at most about `max_feature_rows` feature rows (None = all); metadata holds parameters, rows,
    seconds, features and the grouping. `training_groups` (NEXGEN_TRAINING_GROUPS) other than `global` fits one
    copy per store group on Spark's executors, which read their group's rows themselves: its seconds include
    that read, and its `feature_rows_collected` counts the rows the executors read (none reach the driver)."""
    model = with_training_groups(model, training_groups)
    if isinstance(model, GroupedForecaster):
        frames = training_frames(features, history_days, max_feature_rows, with_feature_rows=model.reads_feature_rows)
        started = time.perf_counter()
        summary = model.fit_in_spark(frames.history, frames.feature_rows)
        trained_through = summary.trained_through
        observed = frames.observed_rows if model.reads_feature_rows else summary.history_rows
        extract = {
            "history_rows": summary.history_rows,
            "feature_rows_observed": observed,
            "feature_rows_collected": summary.feature_rows,
            "feature_rows_sampled": frames.sampled,
            "sampled_fraction": round(summary.feature_rows / observed, 4) if observed else 1.0,
            "training_group_count": summary.groups,
        }
    else:
        collected = training_extract(features, history_days, max_feature_rows, with_feature_rows=model.reads_feature_rows)
        started = time.perf_counter()
        model.fit(collected.history, collected.feature_rows)
        trained_through = max(collected.history["date"])
        extract = collected.metadata()
    seconds = round(time.perf_counter() - started, 2)
    metadata = {
        "params": model.params,
        "training_rows": model.training_rows,
        "training_seconds": seconds,
        "features": model.feature_names(),
        "trained_through": str(trained_through),
        "history_days": history_days,
        "training_groups": training_groups,
    }
    return TrainedModel(model, seconds, metadata, extract)
