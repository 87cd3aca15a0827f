"""Blocking Pandera check on the feature table."""

import dagster as dg
from dagster_pyspark import PySparkResource

from nexgen_assets.defs.quality import check_result
from nexgen_assets.lib.quality.schemas import SalesFeaturesSchema
from nexgen_assets.lib.quality.spark_checks import validate_spark_table
from nexgen_assets.resources import LakeResource


@dg.asset_check(asset="sales_features", blocking=True)
def sales_features_schema(spark: PySparkResource, lake: LakeResource) -> dg.AssetCheckResult:
    """Keys unique and complete, calendar in range, promo 0/1, price non-negative."""
    frame = lake.read(spark.spark_session, "sales_features")
    return check_result(validate_spark_table(SalesFeaturesSchema, frame, "sales_features"))
