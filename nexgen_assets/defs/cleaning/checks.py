"""Blocking Pandera checks on the cleaned lake tables: a failure stops everything below."""

import dagster as dg
from dagster_pyspark import PySparkResource
from pyspark.sql import DataFrame

from nexgen_assets.defs.quality import check_result
from nexgen_assets.lib.quality.schemas import CleanSalesSchema, DailySalesSchema, RejectsSchema
from nexgen_assets.lib.quality.spark_checks import validate_spark_table
from nexgen_assets.resources import LakeResource

clean_sales_schema = dg.AssetCheckSpec(
    "clean_sales_schema", asset="clean_sales", blocking=True,
    description="Accepted lines are typed, non-zero quantity, non-negative price, promo 0/1.",
)
sales_rejects_schema = dg.AssetCheckSpec(
    "sales_rejects_schema", asset="sales_rejects", blocking=True,
    description="Every rejected row has a known reason code and points back to its file and row.",
)


def check_clean_sales(frame: DataFrame) -> dg.AssetCheckResult:
    return check_result(validate_spark_table(CleanSalesSchema, frame, "clean_sales"), clean_sales_schema)


def check_sales_rejects(frame: DataFrame) -> dg.AssetCheckResult:
    return check_result(validate_spark_table(RejectsSchema, frame, "sales_rejects"), sales_rejects_schema)


@dg.asset_check(asset="daily_sales", blocking=True)
def daily_sales_schema(spark: PySparkResource, lake: LakeResource) -> dg.AssetCheckResult:
    """One row per store, product and day; stock and units never negative."""
    frame = lake.read(spark.spark_session, "daily_sales")
    return check_result(validate_spark_table(DailySalesSchema, frame, "daily_sales"))
