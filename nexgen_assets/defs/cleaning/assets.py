"""Raw rows -> contract-checked order lines, rejected rows with reasons, and the daily table."""

import time

import dagster as dg
from dagster_pyspark import PySparkResource
from pyspark.sql import functions as F

from nexgen_assets.defs.cleaning.checks import (
    check_clean_sales,
    check_sales_rejects,
    clean_sales_schema,
    sales_rejects_schema,
)
from nexgen_assets.defs.partitions import sales_files
from nexgen_assets.lib.cleaning import clean_sales_lines
from nexgen_assets.lib.daily import aggregate_daily
from nexgen_assets.resources import LakeResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "clean_sales",
            deps=["raw_sales"],
            kinds={"spark", "parquet"},
            description="Typed order lines that meet the contract; extra columns kept as JSON in `extra`.",
            automation_condition=dg.AutomationCondition.eager(),
        ),
        dg.AssetSpec(
            "sales_rejects",
            deps=["raw_sales"],
            kinds={"spark", "parquet"},
            description="Rows that broke the contract, with a reason code and the original record.",
            automation_condition=dg.AutomationCondition.eager(),
        ),
    ],
    partitions_def=sales_files,
    check_specs=[clean_sales_schema, sales_rejects_schema],
    group_name="cleaning",
)
def clean_sales(context: dg.AssetExecutionContext, spark: PySparkResource, lake: LakeResource):
    """Split one file's rows into accepted and rejected; rows read must equal accepted + rejected."""
    started = time.perf_counter()
    key = context.partition_key
    raw = lake.read(spark.spark_session, "raw_sales", key).cache()
    rows_read = raw.count()
    accepted, rejects = clean_sales_lines(raw)
    rows_accepted = lake.write(accepted, "clean_sales", key)
    rows_rejected = lake.write(rejects, "sales_rejects", key)
    by_reason = {
        row["reason"]: row["count"]
        for row in lake.read(spark.spark_session, "sales_rejects", key).groupBy("reason").count().collect()
    }
    raw.unpersist()
    if rows_read != rows_accepted + rows_rejected:
        raise dg.Failure(
            f"{key}: read {rows_read} rows but accepted {rows_accepted} + rejected {rows_rejected}; nothing published"
        )
    seconds = round(time.perf_counter() - started, 2)
    yield check_clean_sales(lake.read(spark.spark_session, "clean_sales", key))
    yield check_sales_rejects(lake.read(spark.spark_session, "sales_rejects", key))
    yield dg.MaterializeResult(
        asset_key="clean_sales",
        metadata={"rows_read": rows_read, "rows_accepted": rows_accepted, "seconds": seconds},
    )
    yield dg.MaterializeResult(
        asset_key="sales_rejects",
        metadata={"rows_rejected": rows_rejected, "by_reason": dg.MetadataValue.json(by_reason)},
    )


@dg.asset(
    deps=["clean_sales", "raw_inventory"],
    group_name="cleaning",
    kinds={"spark", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
)
def daily_sales(spark: PySparkResource, lake: LakeResource) -> dg.MaterializeResult:
    """Net quantity, revenue, price, promo and stock per store, product and day, zero-filled."""
    started = time.perf_counter()
    session = spark.spark_session
    if not lake.exists("clean_sales"):
        raise dg.Failure("daily_sales needs clean_sales; no sales file has been ingested yet")
    clean = lake.read(session, "clean_sales")
    inventory = lake.read(session, "raw_inventory") if lake.exists("raw_inventory") else None
    rows = lake.write(aggregate_daily(clean, inventory), "daily_sales")
    stats = lake.read(session, "daily_sales").agg(
        F.min("date").alias("first"), F.max("date").alias("last"),
        F.countDistinct("store_id", "product_id").alias("series"), F.sum("stockout").alias("stockout_days"),
    ).first()
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "series": stats["series"],
            "first_date": str(stats["first"]),
            "last_date": str(stats["last"]),
            "stockout_days": int(stats["stockout_days"] or 0),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
