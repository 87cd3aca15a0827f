"""Turn a stored model artifact into the fact_forecast rows of one forecast run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from nexgen_assets.lib.intervals import apply_intervals

FORECAST_COLUMNS = [
    "forecast_run_id", "model_name", "model_version", "forecast_origin", "store_id", "product_id",
    "date", "horizon", "p10", "p50", "p90", "created_at",
]


def forecast_run_id(origin: dt.date, run_id: str) -> str:
    """Readable and unique: the forecast origin plus the run that made it."""
    return f"{origin.isoformat()}-{run_id[:8]}"


def forecast_frame(
    artifact: dict[str, Any], horizon: int, run_id: str, model_name: str, model_version: str
) -> pd.DataFrame:
    """p10/p50/p90 for the `horizon` days after the model's last observed day."""
    model = artifact["model"]
    point = model.predict(horizon)
    out = apply_intervals(point, artifact["scale"], artifact["intervals"])
    origin = model.last_date
    out.insert(0, "forecast_run_id", forecast_run_id(origin, run_id))
    out.insert(1, "model_name", model_name)
    out.insert(2, "model_version", model_version)
    out.insert(3, "forecast_origin", origin)
    out["created_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    out["horizon"] = out["horizon"].astype("int64")
    return out[FORECAST_COLUMNS]
