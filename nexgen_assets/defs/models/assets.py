"""Trained forecasting models, one asset per model, stored with a version in the model store."""

import time

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field
from pyspark.sql import functions as F

from nexgen_assets.lib.features import DEFAULT_HORIZON
from nexgen_assets.lib.intervals import residual_quantiles, series_scale
from nexgen_assets.lib.seasonal_naive import fit_seasonal_naive, seasonal_naive_residuals
from nexgen_assets.resources import LakeResource, ModelStoreResource


class SeasonalNaiveConfig(dg.Config):
    season: int = Field(default=7, description="Season length in days.")
    horizon: int = Field(default=DEFAULT_HORIZON, description="Days ahead the intervals are calibrated for.")
    calibration_origins: int = Field(default=8, description="Weekly origins whose errors calibrate the intervals.")
    history_days: int = Field(default=182, description="Recent days read from daily_sales (scale and calibration).")


@dg.asset(deps=["daily_sales"], group_name="models", kinds={"pandas", "python"})
def seasonal_naive_model(
    context: dg.AssetExecutionContext,
    config: SeasonalNaiveConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Weekly seasonal naive with interval quantiles from its own out-of-sample errors."""
    started = time.perf_counter()
    daily = lake.read(spark.spark_session, "daily_sales")
    last = daily.agg(F.max("date")).first()[0]
    history = (
        daily.where(F.col("date") > F.date_sub(F.lit(last), config.history_days))
        .select("store_id", "product_id", "date", "quantity")
        .toPandas()
    )
    model = fit_seasonal_naive(history, config.season)
    scale = series_scale(history, config.season)
    residuals = seasonal_naive_residuals(history, scale, config.horizon, config.calibration_origins, config.season)
    intervals = residual_quantiles(residuals)
    artifact = {"model": model, "scale": scale, "intervals": intervals}
    seconds = round(time.perf_counter() - started, 2)
    stored = model_store.save(
        "seasonal_naive",
        artifact,
        {
            "params": config.model_dump(),
            "training_rows": len(history),
            "training_seconds": seconds,
            "series": model.series_count,
            "last_date": str(model.last_date),
            "features": ["quantity"],
        },
    )
    context.log.info(f"stored seasonal_naive {stored.version} at {stored.path}")
    return dg.MaterializeResult(
        metadata={
            "model_version": stored.version,
            "artifact_path": str(stored.path),
            "training_rows": len(history),
            "training_seconds": seconds,
            "series": model.series_count,
            "calibration_errors": len(residuals),
            "params": dg.MetadataValue.json(config.model_dump()),
        }
    )
