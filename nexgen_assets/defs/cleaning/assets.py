"""Raw rows -> contract-checked order lines, rejected rows with reasons, and the daily table."""

import hashlib
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
from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines
from nexgen_assets.lib.cleaning.daily import aggregate_daily, distinct_lines
from nexgen_assets.lib.cleaning.ingestion_log import ingestion_log_row
from nexgen_assets.lib.ingestion.landing import content_hash
from nexgen_assets.lib.ingestion.source_db import is_batch_key
from nexgen_assets.resources import LakeResource, LandingZoneResource, WarehouseResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "clean_sales",
            deps=["raw_sales"],
            kinds={"spark", "parquet"},
            description="Typed order lines that meet the contract; extra columns kept as JSON in `extra`.",
        ),
        dg.AssetSpec(
            "sales_rejects",
            deps=["raw_sales"],
            kinds={"spark", "parquet"},
            description="Rows that broke the contract, with a reason code and the original record.",
        ),
    ],
    partitions_def=sales_files,
    check_specs=[clean_sales_schema, sales_rejects_schema],
    group_name="cleaning",
)
def clean_sales(
    context: dg.AssetExecutionContext,
    spark: PySparkResource,
    lake: LakeResource,
    landing: LandingZoneResource,
    warehouse: WarehouseResource,
):
    """Split one file's rows into accepted and rejected; rows read must equal accepted + rejected.

    The file's ingestion_log row and its rejected rows are published to the warehouse,
    replacing those of an earlier run of the same file.
    """
    started = time.perf_counter()
    key = context.partition_key
    raw = lake.read(spark.spark_session, "raw_sales", key).cache()
    rows_read = raw.count()
    accepted, rejects = clean_sales_lines(raw)
    rows_accepted = lake.write(accepted, "clean_sales", key)
    rows_rejected = lake.write(rejects, "sales_rejects", key)
    rejected_rows = lake.read(spark.spark_session, "sales_rejects", key).toPandas()
    by_reason = {str(k): int(v) for k, v in rejected_rows["reason"].value_counts().items()}
    raw.unpersist()
    if rows_read != rows_accepted + rows_rejected:
        raise dg.Failure(
            f"{key}: read {rows_read} rows but accepted {rows_accepted} + rejected {rows_rejected}; nothing published"
        )
    seconds = round(time.perf_counter() - started, 2)
    sha = hashlib.sha256(key.encode()).hexdigest() if is_batch_key(key) else content_hash(landing.file_for(key))
    log_row = ingestion_log_row(key, sha, rows_read, rows_accepted, rows_rejected, seconds, context.run.run_id)
    warehouse.replace_rows("ingestion_log", log_row, ["source_file"], primary_key=("source_file",))
    if len(rejected_rows):
        warehouse.replace_rows("sales_rejects", rejected_rows, ["source_file"], indexes=[("source_file",)])
    else:
        warehouse.delete_rows("sales_rejects", {"source_file": key})
    yield check_clean_sales(lake.read(spark.spark_session, "clean_sales", key))
    yield check_sales_rejects(lake.read(spark.spark_session, "sales_rejects", key))
    yield dg.MaterializeResult(
        asset_key="clean_sales",
        metadata={"rows_read": rows_read, "rows_accepted": rows_accepted, "seconds": seconds,
                  "content_sha256": log_row["content_sha256"].iat[0]},
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
    repeated = clean.count() - distinct_lines(clean).count()
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
            "lines_repeated_across_files": repeated,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
