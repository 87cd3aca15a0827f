"""Blocking Pandera checks on the raw lake tables, evaluated in the same step as each file's partition."""

import dagster as dg
from pyspark.sql import DataFrame

from nexgen_assets.defs.quality import check_result
from nexgen_assets.lib.quality.schemas import InventorySchema, RawSalesSchema
from nexgen_assets.lib.quality.spark_checks import validate_spark_table

raw_sales_schema = dg.AssetCheckSpec(
    "raw_sales_schema", asset="raw_sales", blocking=True,
    description="Every landed row carries its source file and row number.",
)
raw_inventory_schema = dg.AssetCheckSpec(
    "raw_inventory_schema", asset="raw_inventory", blocking=True,
    description="Snapshots are typed and stock on hand is never negative.",
)


def check_raw_sales(frame: DataFrame) -> dg.AssetCheckResult:
    return check_result(validate_spark_table(RawSalesSchema, frame, "raw_sales"), raw_sales_schema)


def check_raw_inventory(frame: DataFrame) -> dg.AssetCheckResult:
    return check_result(validate_spark_table(InventorySchema, frame, "raw_inventory"), raw_inventory_schema)
