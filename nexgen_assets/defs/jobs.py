"""Jobs that sensors, schedules and `nexgen run` launch."""

import dagster as dg

REFRESH_TAG = "nexgen/refresh"

sales_file_assets = dg.AssetSelection.assets(
    "raw_sales", "clean_sales", "sales_rejects", "ingestion_log", "warehouse_sales_rejects"
)
inventory_file_assets = dg.AssetSelection.assets("raw_inventory", "inventory_rejects")
training_assets = dg.AssetSelection.groups("models") | dg.AssetSelection.assets(
    "backtest_results", "backtest_interval_quantiles", "backtest_candidate_weights", "backtest_timings", "model_leaderboard"
)

sales_file_job = dg.define_asset_job(
    "sales_file_job",
    selection=sales_file_assets,
    description="Ingest and clean one landed sales file, and publish its ingestion log and rejected rows.",
)

sales_file_refresh_job = dg.define_asset_job(
    "sales_file_refresh_job",
    selection=dg.AssetSelection.assets("raw_sales").downstream() - training_assets,
    tags={REFRESH_TAG: "true"},
    description="Ingest one landed sales file and refresh daily tables, features, forecast and marts in the same run "
    "(no retraining): the quick path when a single file lands.",
)

promotions_refresh_job = dg.define_asset_job(
    "promotions_refresh_job",
    selection=dg.AssetSelection.assets("raw_promotions").downstream().required_multi_asset_neighbors() - training_assets,
    tags={REFRESH_TAG: "true"},
    description="Re-read the promotion calendar and refresh features, forecast and marts with the planned promotions.",
)

reference_lists_refresh_job = dg.define_asset_job(
    "reference_lists_refresh_job",
    selection=dg.AssetSelection.assets("raw_stores", "raw_products").downstream().required_multi_asset_neighbors()
    - training_assets,
    tags={REFRESH_TAG: "true"},
    description="Re-read the store and product lists (stores*, products* files) and refresh the dimensions and the "
    "files built from them.",
)

inventory_file_job = dg.define_asset_job(
    "inventory_file_job",
    selection=inventory_file_assets,
    description="Ingest one landed inventory snapshot file.",
)

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - sales_file_assets - inventory_file_assets,
    description="Rebuild daily tables, features, models, forecasts and marts from everything ingested.",
)

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=training_assets | dg.AssetSelection.assets("sales_forecast", "forecast_accuracy"),
    description="Retrain every model, backtest, promote a champion and refresh the forecast.",
)

forecast_job = dg.define_asset_job(
    "forecast_job",
    selection=dg.AssetSelection.assets("sales_forecast"),
    description="Forecast the next days from the serving champion without retraining.",
)
