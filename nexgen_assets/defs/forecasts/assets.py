"""Forecasts per series and day with p10/p50/p90 from the registered champion, archived per run."""

import time

import dagster as dg
import pandas as pd
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.defs.policies import TRANSIENT_RETRY, WAREHOUSE_POOL
from nexgen_assets.lib.evaluation.champion import (
    champion_components,
    champion_manifests,
    interval_quantiles,
    serving_champion,
)
from nexgen_assets.lib.forecasts.forecast_frame import forecast_frame, forecast_summary
from nexgen_assets.lib.forecasts.inventory_plan import plan_inventory, stock_positions
from nexgen_assets.lib.forecasts.levels import level_forecasts
from nexgen_assets.lib.models.grouped import UntrainedStoreError, serve_in_spark
from nexgen_assets.lib.models.inputs import daily_history, future_rows
from nexgen_assets.lib.models.store import UntrustedArtifactError
from nexgen_assets.lib.quality.schemas import ForecastLevelsSchema, ForecastSchema
from nexgen_assets.lib.storage.collect import collect_pandas
from nexgen_assets.resources import LakeResource, ModelStoreResource, WarehouseResource


class ForecastConfig(dg.Config):
    history_days: int = Field(default=182, description="Recent days read: model inputs and interval scale.")


@dg.asset(
    deps=["champion_model", "sales_features"],
    group_name="forecasts",
    kinds={"pandas", "sql"},
    io_manager_key="warehouse_io_manager",
    metadata={
        "table": "fact_forecast",
        "replace_by": ["forecast_run_id"],
        "primary_key": ["forecast_run_id", "store_id", "product_id", "date"],
        "indexes": [["date"]],
    },
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def sales_forecast(
    context: dg.AssetExecutionContext,
    config: ForecastConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
    warehouse: WarehouseResource,
):
    """The next horizon (28 days) of every live series from the champion in model_registry (never just the newest file):
    its expected value `mean` and calibrated p10/p50/p90. Each component loads only if its files match the manifest
    hash the registry recorded."""
    started = time.perf_counter()
    champion = _serving_champion(warehouse)
    versions, weights = champion_components(champion)
    try:
        manifests = champion_manifests(champion)
    except LookupError as error:
        raise dg.Failure(str(error), allow_retries=False) from error
    try:
        models = {name: model_store.load(name, version, manifests[name]) for name, version in versions.items()}
    except (UntrustedArtifactError, FileNotFoundError) as error:
        raise dg.Failure(f"the champion's model is refused: {error}", allow_retries=False) from error
    serve_in_spark(models.values(), spark.spark_session)
    features = lake.read(spark.spark_session, "sales_features")
    try:
        forecast = forecast_frame(
            models,
            weights,
            daily_history(features, config.history_days),
            future_rows(features),
            interval_quantiles(champion),
            run_id=context.run.run_id,
            model_name=champion["model_name"],
            model_version=champion["model_version"],
        )
    except UntrainedStoreError as error:
        raise dg.Failure(f"the champion cannot forecast every store: {error}", allow_retries=False) from error
    ForecastSchema.validate(forecast, lazy=True)
    context.add_output_metadata(
        {
            **forecast_summary(forecast),
            "dagster/row_count": len(forecast),
            "model": f"{champion['model_name']} {champion['model_version']}",
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return forecast


@dg.asset(
    deps=["sales_forecast"],
    group_name="forecasts",
    kinds={"pandas", "sql"},
    io_manager_key="warehouse_io_manager",
    metadata={
        "table": "fact_forecast_levels",
        "replace_by": ["forecast_run_id"],
        "primary_key": ["forecast_run_id", "level", "store_id", "category", "date"],
        "indexes": [["date"]],
    },
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def sales_forecast_levels(
    context: dg.AssetExecutionContext, spark: PySparkResource, lake: LakeResource, warehouse: WarehouseResource
):
    """The latest forecast run at total, store, category and store x category level, with intervals calibrated
    at each level: what the dashboard and Power BI show above the series."""
    run_id = _latest_forecast_run(context)
    forecast = warehouse.read_rows("fact_forecast", {"forecast_run_id": run_id},
                                   ["store_id", "product_id", "date", "horizon", "mean"])
    categories = collect_pandas(
        lake.read(spark.spark_session, "sales_features").where("is_future").select("product_id", "category").distinct()
    )
    forecast = forecast.merge(categories, on="product_id", how="left").fillna({"category": "unknown"})
    champion = _serving_champion(warehouse)
    levels = level_forecasts(forecast, interval_quantiles(champion), champion["model_name"])
    levels.insert(0, "forecast_run_id", run_id)
    levels["date"] = pd.to_datetime(levels["date"]).dt.date
    levels["horizon"] = levels["horizon"].astype("int64")
    ForecastLevelsSchema.validate(levels, lazy=True)
    total = levels[levels["level"] == "total"]
    context.add_output_metadata(
        {
            "forecast_run_id": run_id,
            "rows": len(levels),
            "dagster/row_count": len(levels),
            "total_mean": round(float(total["mean"].sum()), 1),
            "total_p10_p90_first_day": f"{total['p10'].iat[0]:.0f} - {total['p90'].iat[0]:.0f}" if len(total) else "",
        }
    )
    return levels


def _latest_forecast_run(context: dg.AssetExecutionContext) -> str:
    """The forecast run the last sales_forecast materialization published."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("sales_forecast"))
    if event is None or event.asset_materialization is None:
        raise dg.Failure(
            f"{context.asset_key.path[-1]} needs a published forecast: materialize sales_forecast first", allow_retries=False
        )
    return event.asset_materialization.metadata["forecast_run_id"].value


def _serving_champion(warehouse: WarehouseResource):
    if not warehouse.has_table("model_registry"):
        raise dg.Failure("no model_registry table yet: materialize champion_model first", allow_retries=False)
    try:
        return serving_champion(warehouse.read_table("model_registry"))
    except LookupError as error:
        raise dg.Failure(str(error), allow_retries=False) from error


class InventoryPlanConfig(dg.Config):
    service_level: float = Field(default=0.95, description="Chance of not running out during a lead time.")
    review_days: int = Field(default=7, description="Days between orders (added to the order-up-to level).")
    overstock_days: float = Field(default=90.0, description="Days of cover above which stock counts as overstock.")
    default_lead_time: int = Field(default=7, description="Lead time in days when the snapshots give none.")


@dg.asset(
    deps=["sales_forecast", "daily_sales", "raw_inventory"],
    group_name="forecasts",
    kinds={"pandas", "sql"},
    io_manager_key="warehouse_io_manager",
    metadata={"table": "fact_inventory_plan", "primary_key": ["store_id", "product_id"]},
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def inventory_plan(
    context: dg.AssetExecutionContext,
    config: InventoryPlanConfig,
    spark: PySparkResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
):
    """Stock on hand, days of cover, stockout date, safety stock, reorder point and order per series."""
    run_id = _latest_forecast_run(context)
    forecast = warehouse.read_rows(
        "fact_forecast", {"forecast_run_id": run_id}, ["store_id", "product_id", "date", "p10", "p50", "p90"]
    )
    session = spark.spark_session
    inventory = lake.read(session, "raw_inventory") if lake.exists("raw_inventory") else None
    stock = stock_positions(lake.read(session, "daily_sales"), inventory)
    forecast["date"] = pd.to_datetime(forecast["date"]).dt.date
    plan = plan_inventory(stock, forecast, config.service_level, config.review_days,
                          config.overstock_days, config.default_lead_time)
    context.add_output_metadata(
        {
            "forecast_run_id": run_id,
            "series": len(plan),
            "dagster/row_count": len(plan),
            "by_status": dg.MetadataValue.json(plan["status"].value_counts().to_dict()),
            "units_to_order": float(plan["suggested_order"].sum()),
        }
    )
    return plan
