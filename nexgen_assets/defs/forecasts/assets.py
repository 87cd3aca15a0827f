"""Forecasts per series and day with p10/p50/p90 from the registered champion, archived per run."""

import time

import dagster as dg
import sqlalchemy as sa
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.extract import future_of, history_of, recent_features
from nexgen_assets.lib.forecasting import forecast_frame
from nexgen_assets.lib.registry import interval_quantiles, serving_champion
from nexgen_assets.lib.schemas import ForecastSchema
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
    },
    automation_condition=dg.AutomationCondition.eager(),
)
def sales_forecast(
    context: dg.AssetExecutionContext,
    config: ForecastConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
    warehouse: WarehouseResource,
):
    """The next 28 days of every live series from the champion in model_registry (never just the newest file)."""
    started = time.perf_counter()
    if not sa.inspect(warehouse.engine).has_table("model_registry", schema=warehouse.db_schema):
        raise dg.Failure("no model_registry table yet: materialize champion_model first")
    try:
        champion = serving_champion(warehouse.read_table("model_registry"))
    except LookupError as error:
        raise dg.Failure(str(error)) from error
    model = model_store.load(champion["model_name"], champion["model_version"])
    extract = recent_features(lake.read(spark.spark_session, "sales_features"), config.history_days)
    forecast = forecast_frame(
        model,
        history_of(extract),
        future_of(extract),
        interval_quantiles(champion),
        run_id=context.run.run_id,
        model_name=champion["model_name"],
        model_version=champion["model_version"],
    )
    ForecastSchema.validate(forecast, lazy=True)
    context.add_output_metadata(
        {
            "forecast_run_id": forecast["forecast_run_id"].iat[0],
            "model": f"{champion['model_name']} {champion['model_version']}",
            "series": int(forecast[["store_id", "product_id"]].drop_duplicates().shape[0]),
            "rows": len(forecast),
            "first_date": str(forecast["date"].min()),
            "last_date": str(forecast["date"].max()),
            "total_p50": round(float(forecast["p50"].sum()), 1),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return forecast
