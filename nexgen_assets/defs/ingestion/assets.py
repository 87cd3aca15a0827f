"""Landed files -> raw lake tables, one partition per file, row numbers kept for lineage."""

import hashlib
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
from nexgen_assets.defs.policies import TRANSIENT_RETRY
from nexgen_assets.defs.quality import blocking_failure, first_line, raise_unreadable, stage_or_fail
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
from nexgen_assets.lib.ingestion.reference import LIST_TABLES, list_files, read_list
from nexgen_assets.lib.ingestion.source_db import is_batch_key
from nexgen_assets.lib.ingestion.staging import StagedFile
from nexgen_assets.lib.quality.schemas import ProductListSchema, StoreListSchema
from nexgen_assets.resources import LakeResource, LandingZoneResource, SourceDatabaseResource
from nexgen_assets.settings import current


@contextmanager
def _staged_or_fail(landing: LandingZoneResource, key: str) -> Iterator[StagedFile]:
    """The private copy of a landed file; a file that cannot be staged fails its partition, named."""
    try:
        with landing.staged(key) as copy:
            yield copy
    except ContractError as error:
        raise dg.Failure(description=str(error), metadata={"file": key}, allow_retries=False) from error


def _read_or_fail(spark, landing: LandingZoneResource, staged: StagedFile, required: tuple[str, ...]):
    try:
        return read_landed_file(spark, staged.path, required, landing.mapping_folders, name=staged.name)
    except ContractError as error:
        raise dg.Failure(description=str(error), metadata={"file": staged.name}, allow_retries=False) from error
    except Exception as error:
        raise_unreadable(error, staged.name)


def _extract_batch(spark, source_db: SourceDatabaseResource, key: str):
    """Rows of one source-database batch as an all-text frame with row numbers, like a landed file."""
    try:
        batch = source_db.batch_for(key)
    except ValueError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    try:
        rows = source_db.read_batch(batch)
    except ValueError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    missing = [c for c in SALES_REQUIRED if c not in rows.columns]
    if missing:
        raise dg.Failure(f"{source_db.table}: missing required column(s) {', '.join(missing)}")
    schema = ", ".join(f"`{c}` string" for c in rows.columns)
    frame = spark.createDataFrame(rows.to_dict("records") if len(rows) else [], schema)
    frame = with_row_numbers(frame).withColumn(SOURCE_FILE, F.lit(key))
    return f"{source_db.table} ({batch.low or 'start'}, {batch.high}]", frame


def _count_or_fail(frame, key: str) -> int:
    """Rows in a lazily read file; broken bytes surface here and fail the partition naming the file."""
    try:
        return frame.count()
    except Exception as error:
        raise_unreadable(error, key)


@dg.asset(
    partitions_def=sales_files,
    check_specs=[raw_sales_schema],
    group_name="ingestion",
    retry_policy=TRANSIENT_RETRY,
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
    key = context.partition_key
    with ExitStack() as stack:
        if is_batch_key(key):
            source, frame = _extract_batch(spark.spark_session, source_db, key)
            sha256 = hashlib.sha256(key.encode()).hexdigest()
        else:
            staged = stack.enter_context(_staged_or_fail(landing, key))
            source, sha256 = key, staged.sha256
            frame = _read_or_fail(spark.spark_session, landing, staged, SALES_REQUIRED)
        written = stage_or_fail(stack, lake, frame, "raw_sales", key)
        check = check_raw_sales(lake.read_staged(spark.spark_session, written))
        yield check
        if not check.passed:
            raise blocking_failure(check, key)
    rows = written.rows
    yield dg.MaterializeResult(
        metadata={
            "file": source,
            "content_sha256": sha256,
            "rows_read": rows,
            "dagster/partition_row_count": rows,
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
    retry_policy=TRANSIENT_RETRY,
)
def raw_inventory(
    context: dg.AssetExecutionContext, spark: PySparkResource, landing: LandingZoneResource, lake: LakeResource
):
    started = time.perf_counter()
    key = context.partition_key
    with ExitStack() as stack:
        staged = stack.enter_context(_staged_or_fail(landing, key))
        raw = _read_or_fail(spark.spark_session, landing, staged, INVENTORY_REQUIRED).cache()
        accepted, rejects = clean_inventory_snapshots(raw, earliest=current().earliest_date)
        rows_read = _count_or_fail(raw, key)
        kept = stage_or_fail(stack, lake, accepted, "raw_inventory", key)
        rejected = stage_or_fail(stack, lake, rejects, "inventory_rejects", key)
        raw.unpersist()
        rows_accepted, rows_rejected = kept.rows, rejected.rows
        if rows_read != rows_accepted + rows_rejected:
            raise dg.Failure(f"{key}: read {rows_read} rows but kept {rows_accepted} + rejected {rows_rejected}")
        check = check_raw_inventory(lake.read_staged(spark.spark_session, kept))
        yield check
        if not check.passed:
            raise blocking_failure(check, key)
    yield dg.MaterializeResult(
        asset_key="raw_inventory",
        metadata={
            "file": key,
            "content_sha256": staged.sha256,
            "rows_read": rows_read,
            "rows_accepted": rows_accepted,
            "dagster/partition_row_count": rows_accepted,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    yield dg.MaterializeResult(
        asset_key="inventory_rejects",
        metadata={"rows_rejected": rows_rejected, "dagster/partition_row_count": rows_rejected},
    )


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
        calendar = read_promotion_calendar(files, earliest=current().earliest_date)
    except ContractError as error:
        raise dg.Failure(description=str(error)) from error
    if not files:
        context.log.info(f"no {PROMOTIONS_PREFIX}* file in {incoming}: forecasts assume no planned promotion")
    promotions = lake.write_frame(calendar.accepted, "promotions")
    yield dg.MaterializeResult(
        asset_key="raw_promotions",
        metadata={
            "files": ", ".join(sorted(p.name for p in files)) or "none",
            "content_sha256": dg.MetadataValue.json({p.name: content_hash(p) for p in files}),
            "rows_read": calendar.rows_read,
            "promotions": promotions,
            "dagster/row_count": promotions,
        },
    )
    rejects = lake.write_frame(calendar.rejects, "promotion_rejects")
    yield dg.MaterializeResult(
        asset_key="promotion_rejects",
        metadata={
            "rows": rejects,
            "dagster/row_count": rejects,
            "by_reason": dg.MetadataValue.json(calendar.rejects["reason"].value_counts().to_dict()),
        },
    )


_READ_ONCE = dg.AutomationCondition.on_missing()
"""Read once by automation, so the eager dimensions (which wait for missing inputs) are never held up; after
that the lists are read again by every `nexgen run` refresh and by `reference_lists_refresh_job`."""


def _land_list(
    context: dg.AssetExecutionContext, spark: PySparkResource, landing: LandingZoneResource, lake: LakeResource, kind: str
) -> Iterator[dg.MaterializeResult]:
    """Every file of one list, staged and read whole; the accepted rows and the rejects replace the lake tables."""
    started = time.perf_counter()
    scan = list_files(Path(landing.incoming_dir), kind)
    for name, reason in scan.refused.items():
        context.log.warning(f"{name} {reason}; not read")
    with ExitStack() as stack:
        staged = [stack.enter_context(_staged_or_fail(landing, entry.name)) for entry in scan.files]
        try:
            listed = read_list(spark.spark_session, [(copy.name, copy.path) for copy in staged], kind)
        except ContractError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        except Exception as error:
            raise dg.Failure(description=f"{kind} list: cannot be read: {first_line(error)}") from error
    if listed.rows_read != len(listed.accepted) + len(listed.rejects):
        raise dg.Failure(
            f"{kind} list: read {listed.rows_read} rows but kept {len(listed.accepted)} + rejected {len(listed.rejects)}"
        )
    if not staged:
        context.log.info(f"no {kind}* file in {landing.incoming_dir}: the {kind[:-1]} dimension has only what sales say")
    schema = StoreListSchema if kind == "stores" else ProductListSchema
    schema.validate(listed.accepted, lazy=True)
    accepted_table, rejects_table = LIST_TABLES[kind]
    kept = lake.write_frame(listed.accepted, accepted_table)
    yield dg.MaterializeResult(
        asset_key=f"raw_{kind}",
        metadata={
            "files": ", ".join(copy.name for copy in staged) or "none",
            "content_sha256": dg.MetadataValue.json({copy.name: copy.sha256 for copy in staged}),
            "rows_read": listed.rows_read,
            "rows_accepted": kept,
            "dagster/row_count": kept,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    rejected = lake.write_frame(listed.rejects, rejects_table)
    yield dg.MaterializeResult(
        asset_key=rejects_table,
        metadata={
            "rows_rejected": rejected,
            "dagster/row_count": rejected,
            "by_reason": dg.MetadataValue.json(listed.rejects["reason"].value_counts().to_dict()),
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "raw_stores",
            kinds={"spark", "parquet"},
            automation_condition=_READ_ONCE,
            description="The store list (stores* files, optional): name, region, format and opening date per store_id.",
        ),
        dg.AssetSpec(
            "store_rejects",
            kinds={"spark", "parquet"},
            automation_condition=_READ_ONCE,
            description="Store list rows that cannot be used, with the file, row number, reason and original record.",
        ),
    ],
    group_name="ingestion",
    retry_policy=TRANSIENT_RETRY,
)
def raw_stores(
    context: dg.AssetExecutionContext, spark: PySparkResource, landing: LandingZoneResource, lake: LakeResource
):
    """Every stores* file in the landing folder, read whole (a corrected file replaces what it said)."""
    yield from _land_list(context, spark, landing, lake, "stores")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "raw_products",
            kinds={"spark", "parquet"},
            automation_condition=_READ_ONCE,
            description="The product list (products* files, optional): name, brand, category, subcategory and size "
            "per product_id.",
        ),
        dg.AssetSpec(
            "product_rejects",
            kinds={"spark", "parquet"},
            automation_condition=_READ_ONCE,
            description="Product list rows that cannot be used, with the file, row number, reason and original record.",
        ),
    ],
    group_name="ingestion",
    retry_policy=TRANSIENT_RETRY,
)
def raw_products(
    context: dg.AssetExecutionContext, spark: PySparkResource, landing: LandingZoneResource, lake: LakeResource
):
    """Every products* file in the landing folder, read whole (a corrected file replaces what it said)."""
    yield from _land_list(context, spark, landing, lake, "products")
