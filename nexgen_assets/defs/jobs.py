"""Jobs that sensors, schedules and `nexgen run` launch."""

import dagster as dg

sales_file_job = dg.define_asset_job(
    "sales_file_job",
    selection=dg.AssetSelection.assets("raw_sales", "clean_sales", "sales_rejects"),
    description="Ingest and clean one landed sales file.",
)

REFRESH_TAG = "nexgen/refresh"

sales_file_refresh_job = dg.define_asset_job(
    "sales_file_refresh_job",
    selection=dg.AssetSelection.assets("raw_sales").downstream()
    - dg.AssetSelection.groups("models")
    - dg.AssetSelection.assets("backtest_results", "model_leaderboard"),
    tags={REFRESH_TAG: "true"},
    description="Ingest one landed sales file and refresh daily tables, features, forecast and marts in the same run "
    "(no retraining): the quick path when a single file lands.",
)

inventory_file_job = dg.define_asset_job(
    "inventory_file_job",
    selection=dg.AssetSelection.assets("raw_inventory"),
    description="Ingest one landed inventory snapshot file.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("raw_sales", "clean_sales", "sales_rejects", "raw_inventory"),
    description="Rebuild daily tables, features, models, forecasts and marts from everything ingested.",
)

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.groups("models", "evaluation")
    | dg.AssetSelection.assets("sales_forecast"),
    description="Retrain every model, backtest, promote a champion and refresh the forecast.",
)

forecast_job = dg.define_asset_job(
    "forecast_job",
    selection=dg.AssetSelection.assets("sales_forecast"),
    description="Forecast the next days from the serving champion without retraining.",
)
