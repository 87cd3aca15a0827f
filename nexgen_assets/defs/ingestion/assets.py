"""Landed files -> raw lake tables, one partition per file, row numbers kept for lineage."""

import time
from pathlib import Path

import dagster as dg
from dagster_pyspark import PySparkResource
from pyspark.sql import functions as F

from nexgen_assets.defs.ingestion.checks import (
    check_raw_inventory,
    check_raw_sales,
    raw_inventory_schema,
    raw_sales_schema,
)
from nexgen_assets.defs.partitions import inventory_files, sales_files
from nexgen_assets.lib.cleaning.contract_rules import clean_inventory_snapshots
from nexgen_assets.lib.ingestion.contract import (
    INVENTORY_REQUIRED,
    PROMOTIONS_PREFIX,
    SALES_REQUIRED,
    ContractError,
)
from nexgen_assets.lib.ingestion.landing import content_hash
from nexgen_assets.lib.ingestion.promotions import promotion_files, read_promotion_calendar
from nexgen_assets.lib.ingestion.reader import SOURCE_FILE, read_landed_file, with_row_numbers
from nexgen_assets.lib.ingestion.source_db import Batch, is_batch_key
from nexgen_assets.resources import LakeResource, LandingZoneResource, SourceDatabaseResource


def _read_or_fail(spark, landing: LandingZoneResource, key: str, required: tuple[str, ...]):
    try:
        path = landing.file_for(key)
        return path, read_landed_file(spark, path, required, landing.mapping_folders)
    except ContractError as error:
        raise dg.Failure(description=str(error), metadata={"file": key}) from error
    except Exception as error:
        raise dg.Failure(description=f"{key}: cannot be read: {_first_line(error)}", metadata={"file": key}) from error


def _extract_batch(spark, source_db: SourceDatabaseResource, key: str):
    """Rows of one source-database batch as an all-text frame with row numbers, like a landed file."""
    batch = Batch.from_key(key)
    rows = source_db.read_batch(batch)
    missing = [c for c in SALES_REQUIRED if c not in rows.columns]
    if missing:
        raise dg.Failure(f"{source_db.table}: missing required column(s) {', '.join(missing)}")
    schema = ", ".join(f"`{c}` string" for c in rows.columns)
    frame = spark.createDataFrame(rows.to_dict("records") if len(rows) else [], schema)
    frame = with_row_numbers(frame).withColumn(SOURCE_FILE, F.lit(key))
    return f"{source_db.table} ({batch.low or 'start'}, {batch.high}]", frame


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _write_or_fail(lake: LakeResource, frame, table: str, key: str, path) -> int:
    """Spark reads lazily, so broken bytes (a truncated gzip) surface here; name the file."""
    try:
        return lake.write(frame, table, key)
    except ContractError:
        raise
    except Exception as error:
        raise dg.Failure(description=f"{path}: cannot be read: {_first_line(error)}", metadata={"file": key}) from error


@dg.asset(
    partitions_def=sales_files,
    check_specs=[raw_sales_schema],
    group_name="ingestion",
    kinds={"spark", "parquet"},
    description="Order lines exactly as landed (all text), one partition per file, with source file and row number.",
)
def raw_sales(
    context: dg.AssetExecutionContext,
    spark: PySparkResource,
    landing: LandingZoneResource,
    lake: LakeResource,
    source_db: SourceDatabaseResource,
):
    started = time.perf_counter()
    if is_batch_key(context.partition_key):
        path, frame = _extract_batch(spark.spark_session, source_db, context.partition_key)
    else:
        path, frame = _read_or_fail(spark.spark_session, landing, context.partition_key, SALES_REQUIRED)
    rows = _write_or_fail(lake, frame, "raw_sales", context.partition_key, path)
    yield check_raw_sales(lake.read(spark.spark_session, "raw_sales", context.partition_key))
    yield dg.MaterializeResult(
        metadata={
            "file": str(path),
            "rows_read": rows,
            "columns": ", ".join(c for c in frame.columns),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "raw_inventory",
            kinds={"spark", "parquet"},
            description="Typed stock snapshots, one partition per landed inventory file.",
        ),
        dg.AssetSpec(
            "inventory_rejects",
            kinds={"spark", "parquet"},
            description="Snapshot rows that cannot be used, with a reason code and the original record.",
        ),
    ],
    partitions_def=inventory_files,
    check_specs=[raw_inventory_schema],
    group_name="ingestion",
)
def raw_inventory(
    context: dg.AssetExecutionContext, spark: PySparkResource, landing: LandingZoneResource, lake: LakeResource
):
    started = time.perf_counter()
    key = context.partition_key
    path, raw = _read_or_fail(spark.spark_session, landing, key, INVENTORY_REQUIRED)
    raw = raw.cache()
    accepted, rejects = clean_inventory_snapshots(raw)
    rows_read = raw.count()
    rows_accepted = _write_or_fail(lake, accepted, "raw_inventory", key, path)
    rows_rejected = lake.write(rejects, "inventory_rejects", key)
    raw.unpersist()
    if rows_read != rows_accepted + rows_rejected:
        raise dg.Failure(f"{path}: read {rows_read} rows but kept {rows_accepted} + rejected {rows_rejected}")
    yield check_raw_inventory(lake.read(spark.spark_session, "raw_inventory", key))
    yield dg.MaterializeResult(
        asset_key="raw_inventory",
        metadata={
            "file": str(path),
            "content_sha256": content_hash(path),
            "rows_read": rows_read,
            "rows_accepted": rows_accepted,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    yield dg.MaterializeResult(asset_key="inventory_rejects", metadata={"rows_rejected": rows_rejected})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "raw_promotions",
            kinds={"pandas", "parquet"},
            description="The promotion calendar (promotions_* files): planned promotions per store, product and days, "
            "read by the models as a known future input.",
        ),
        dg.AssetSpec(
            "promotion_rejects",
            kinds={"pandas", "parquet"},
            description="Calendar rows that cannot be a promotion, with the file, row number and reason.",
        ),
    ],
    group_name="ingestion",
)
def raw_promotions(context: dg.AssetExecutionContext, landing: LandingZoneResource, lake: LakeResource):
    """Every promotions_* file in the landing folder, read whole (a corrected file replaces what it said)."""
    incoming = Path(landing.incoming_dir)
    files = promotion_files(incoming)
    try:
        calendar = read_promotion_calendar(files)
    except ContractError as error:
        raise dg.Failure(description=str(error)) from error
    if not files:
        context.log.info(f"no {PROMOTIONS_PREFIX}* file in {incoming}: forecasts assume no planned promotion")
    yield dg.MaterializeResult(
        asset_key="raw_promotions",
        metadata={
            "files": ", ".join(sorted(p.name for p in files)) or "none",
            "rows_read": calendar.rows_read,
            "promotions": lake.write_frame(calendar.accepted, "promotions"),
        },
    )
    yield dg.MaterializeResult(
        asset_key="promotion_rejects",
        metadata={
            "rows": lake.write_frame(calendar.rejects, "promotion_rejects"),
            "by_reason": dg.MetadataValue.json(calendar.rejects["reason"].value_counts().to_dict()),
        },
    )
