"""Forecasts per series and day with p10/p50/p90, archived per forecast run."""

import time

import dagster as dg
from pydantic import Field

from nexgen_assets.lib.forecasting import forecast_frame
from nexgen_assets.lib.schemas import ForecastSchema
from nexgen_assets.resources import ModelStoreResource


class ForecastConfig(dg.Config):
    horizon: int = Field(default=28, description="Days ahead to forecast.")
    model_name: str = Field(default="seasonal_naive", description="Stored model that produces the forecast.")


@dg.asset(
    deps=["seasonal_naive_model", "sales_features"],
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
    context: dg.AssetExecutionContext, config: ForecastConfig, model_store: ModelStoreResource
):
    """The next `horizon` days of every live series, published to fact_forecast; earlier runs are kept."""
    started = time.perf_counter()
    version = model_store.latest_version(config.model_name)
    artifact = model_store.load(config.model_name, version)
    forecast = forecast_frame(
        artifact, config.horizon, run_id=context.run.run_id, model_name=config.model_name, model_version=version
    )
    ForecastSchema.validate(forecast, lazy=True)
    context.add_output_metadata(
        {
            "forecast_run_id": forecast["forecast_run_id"].iat[0],
            "model": f"{config.model_name} {version}",
            "series": int(forecast[["store_id", "product_id"]].drop_duplicates().shape[0]),
            "rows": len(forecast),
            "first_date": str(forecast["date"].min()),
            "last_date": str(forecast["date"].max()),
            "total_p50": round(float(forecast["p50"].sum()), 1),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return forecast
