"""Jobs that sensors, schedules and `nexgen run` launch."""

import dagster as dg

sales_file_job = dg.define_asset_job(
    "sales_file_job",
    selection=dg.AssetSelection.assets("raw_sales", "clean_sales", "sales_rejects"),
    description="Ingest and clean one landed sales file.",
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
