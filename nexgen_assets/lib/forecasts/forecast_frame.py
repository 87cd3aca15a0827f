"""Turn the champion's fitted models, weights and quantiles into the fact_forecast rows of one forecast run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from nexgen_assets.lib.evaluation.blends import Weights, combine
from nexgen_assets.lib.evaluation.intervals import SERIES_LEVEL, apply_quantiles
from nexgen_assets.lib.evaluation.segments import series_segments
from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.models.interface import Forecaster, horizon_of

FORECAST_COLUMNS = [
    "forecast_run_id", "model_name", "model_version", "forecast_origin", "store_id", "product_id",
    "date", "horizon", "mean", "p10", "p50", "p90", "created_at",
]


def forecast_run_id(origin: dt.date, run_id: str) -> str:
    """Readable and unique: the forecast origin plus the run that made it."""
    return f"{origin.isoformat()}-{run_id[:8]}"


def forecast_with_intervals(
    models: Mapping[str, Forecaster], weights: Weights, history: pd.DataFrame, future: pd.DataFrame,
    quantiles: pd.DataFrame, model_name: str,
) -> pd.DataFrame:
    """mean, p10, p50 and p90 per series and day (plus its segment); `quantiles` is the champion's calibration table."""
    origin = pd.to_datetime(history["date"]).max().date()
    point = future[[*SERIES_KEYS, "date"]].copy()
    point["date"] = pd.to_datetime(point["date"]).dt.date
    point["horizon"] = horizon_of(future, origin)
    point = point.merge(series_segments(history), on=SERIES_KEYS, how="left")
    point["segment"] = point["segment"].fillna("intermittent")
    forecasts = {name: model.predict(history, future) for name, model in models.items()}
    point["forecast"] = combine(point, weights, forecasts)
    series_table = quantiles[quantiles["level"] == SERIES_LEVEL]
    return apply_quantiles(point.assign(model=model_name), series_table).drop(columns=["model", "level", "horizon_bucket"])


def forecast_frame(
    models: Mapping[str, Forecaster],
    weights: Weights,
    history: pd.DataFrame,
    future: pd.DataFrame,
    quantiles: pd.DataFrame,
    run_id: str,
    model_name: str,
    model_version: str,
) -> pd.DataFrame:
    """The rows of one forecast run, in fact_forecast's column order."""
    origin = pd.to_datetime(history["date"]).max().date()
    out = forecast_with_intervals(models, weights, history, future, quantiles, model_name)
    out.insert(0, "forecast_run_id", forecast_run_id(origin, run_id))
    out.insert(1, "model_name", model_name)
    out.insert(2, "model_version", model_version)
    out.insert(3, "forecast_origin", origin)
    out["created_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    out["horizon"] = out["horizon"].astype("int64")
    return out[FORECAST_COLUMNS].sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)


def forecast_summary(forecast: pd.DataFrame) -> dict[str, int | float | str]:
    """What one forecast run holds: its id, series, rows, first and last day, and the total mean and p50."""
    return {
        "forecast_run_id": str(forecast["forecast_run_id"].iat[0]),
        "series": int(forecast[SERIES_KEYS].drop_duplicates().shape[0]),
        "rows": len(forecast),
        "first_date": str(forecast["date"].min()),
        "last_date": str(forecast["date"].max()),
        "total_mean": round(float(forecast["mean"].sum()), 1),
        "total_p50": round(float(forecast["p50"].sum()), 1),
    }
