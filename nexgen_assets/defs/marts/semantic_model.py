"""The Power BI project (PBIP, TMDL semantic model) generated from the tables the warehouse publishes."""

from pathlib import Path

import dagster as dg

from nexgen_assets.lib.marts.semantic_model import (
    connection_for,
    project_files,
    semantic_model,
    warehouse_tables,
    write_project,
)
from nexgen_assets.resources import ExportsResource, WarehouseResource

PUBLISHING_ASSETS = [
    "dim_date", "dim_product", "dim_store", "fact_sales_daily", "sales_forecast", "sales_forecast_levels",
    "forecast_accuracy", "inventory_plan", "model_leaderboard", "champion_model",
]
"""The assets that publish the model's tables (fact_forecast, fact_forecast_levels, fact_forecast_accuracy,
fact_inventory_plan, model_metrics and model_registry come from the forecasting and evaluation groups)."""


@dg.asset(
    deps=PUBLISHING_ASSETS,
    group_name="marts",
    kinds={"powerbi"},
    automation_condition=dg.AutomationCondition.eager(),
)
def powerbi_semantic_model(warehouse: WarehouseResource, exports: ExportsResource) -> dg.MaterializeResult:
    """exports/powerbi/: a Power BI project whose semantic model matches the warehouse's tables, swapped in whole."""
    try:
        model = semantic_model(
            warehouse_tables(warehouse.engine, warehouse.db_schema),
            connection_for(warehouse.resolved_url, exports.sql_server, exports.database, warehouse.db_schema),
        )
    except ValueError as error:
        raise dg.Failure(str(error)) from error
    folder = write_project(Path(exports.folder) / "powerbi", project_files(model))
    return dg.MaterializeResult(
        metadata={
            "project": dg.MetadataValue.path(str(folder / "NEXGEN.pbip")),
            "tables": ", ".join(t.name for t in model.tables),
            "table_count": len(model.tables),
            "measures": len(model.measures),
            "relationships": len(model.relationships),
            "source": model.connection.kind,
            "skipped_columns": ", ".join(model.skipped) or "none",
        }
    )
