"""Raw rows -> contract-checked order lines, rejected rows with reasons, and the daily table."""

import time
from contextlib import ExitStack

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.defs.cleaning.checks import (
    check_clean_sales,
    check_sales_rejects,
    clean_sales_schema,
    sales_rejects_schema,
)
from nexgen_assets.defs.partitions import sales_files
from nexgen_assets.defs.policies import REFRESH_AFTER_FILES, TRANSIENT_RETRY, WAREHOUSE_POOL
from nexgen_assets.defs.quality import blocking_failure, stage_or_fail
from nexgen_assets.lib.cleaning.contract_rules import clean_sales_lines, rejects_by_reason
from nexgen_assets.lib.cleaning.daily_months import MonthlyDaily
from nexgen_assets.lib.cleaning.ingestion_log import ingestion_log_row
from nexgen_assets.lib.storage.collect import collect_pandas
from nexgen_assets.resources import LakeResource, WarehouseResource
from nexgen_assets.settings import current


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
    retry_policy=TRANSIENT_RETRY,
)
def clean_sales(context: dg.AssetExecutionContext, spark: PySparkResource, lake: LakeResource):
    """Split one file's rows into accepted and rejected; rows read must equal accepted + rejected."""
    started = time.perf_counter()
    key = context.partition_key
    session = spark.spark_session
    raw = lake.read(session, "raw_sales", key).cache()
    accepted, rejects = clean_sales_lines(raw, earliest=current().earliest_date)
    rows_read = raw.count()
    with ExitStack() as stack:
        kept = stage_or_fail(stack, lake, accepted, "clean_sales", key)
        rejected = stage_or_fail(stack, lake, rejects, "sales_rejects", key)
        raw.unpersist()
        rows_accepted, rows_rejected = kept.rows, rejected.rows
        if rows_read != rows_accepted + rows_rejected:
            raise dg.Failure(
                f"{key}: read {rows_read} rows but accepted {rows_accepted} + rejected {rows_rejected}; nothing published"
            )
        reasons = rejects_by_reason(lake.read_staged(session, rejected))
        checks = [check_clean_sales(lake.read_staged(session, kept)), check_sales_rejects(lake.read_staged(session, rejected))]
        yield from checks
        failed = next((check for check in checks if not check.passed), None)
        if failed:
            raise blocking_failure(failed, key)
    yield dg.MaterializeResult(
        asset_key="clean_sales",
        metadata={"rows_read": rows_read, "rows_accepted": rows_accepted, "seconds": round(time.perf_counter() - started, 2),
                  "content_sha256": _latest_metadata(context, "raw_sales", key, ("content_sha256",))["content_sha256"],
                  "dagster/partition_row_count": rows_accepted},
    )
    yield dg.MaterializeResult(
        asset_key="sales_rejects",
        metadata={"rows_rejected": rows_rejected, "by_reason": dg.MetadataValue.json(reasons),
                  "dagster/partition_row_count": rows_rejected},
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "ingestion_log",
            deps=["clean_sales", "sales_rejects"],
            kinds={"sql"},
            metadata={"table": "ingestion_log"},
            description="Warehouse table: one row per landed file with its hash and rows read, accepted and rejected.",
        ),
        dg.AssetSpec(
            "warehouse_sales_rejects",
            deps=["sales_rejects"],
            kinds={"sql"},
            metadata={"table": "sales_rejects"},
            description="Warehouse table sales_rejects: every rejected row with its file, row number and reason.",
        ),
    ],
    partitions_def=sales_files,
    group_name="cleaning",
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def ingestion_audit(context: dg.AssetExecutionContext, spark: PySparkResource, lake: LakeResource, warehouse: WarehouseResource):
    """Publish one file's ingestion_log row and rejected rows, replacing those of an earlier run of the same file."""
    key = context.partition_key
    cleaned = _latest_metadata(context, "clean_sales", key, ("rows_read", "rows_accepted", "seconds", "content_sha256"))
    rejected_rows = collect_pandas(lake.read(spark.spark_session, "sales_rejects", key))
    log_row = ingestion_log_row(
        key, cleaned["content_sha256"], cleaned["rows_read"], cleaned["rows_accepted"], len(rejected_rows),
        cleaned["seconds"], context.run.run_id,
    )
    warehouse.replace_rows("ingestion_log", log_row, ["source_file"], primary_key=("source_file",))
    if len(rejected_rows):
        warehouse.replace_rows("sales_rejects", rejected_rows, ["source_file"], indexes=[("source_file",)])
    else:
        warehouse.delete_rows("sales_rejects", {"source_file": key})
    yield dg.MaterializeResult(
        asset_key="ingestion_log",
        metadata={"rows_read": cleaned["rows_read"], "content_sha256": cleaned["content_sha256"],
                  "dagster/partition_row_count": len(log_row)},
    )
    yield dg.MaterializeResult(
        asset_key="warehouse_sales_rejects",
        metadata={"rows_written": len(rejected_rows), "dagster/partition_row_count": len(rejected_rows)},
    )


def _latest_metadata(context: dg.AssetExecutionContext, asset: str, key: str, names: tuple[str, ...]) -> dict:
    """Values an upstream step recorded for this file (the hash of the bytes it read, its counts): never recomputed."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]), limit=1
    ).records
    if not records:
        raise dg.Failure(f"{key}: {asset} has not been materialized for this file; run it first")
    metadata = records[0].asset_materialization.metadata
    return {name: metadata[name].value for name in names}


class DailySalesConfig(dg.Config):
    full_rebuild: bool = Field(
        default=False, description="Rebuild every month, not only those whose files changed since the last refresh."
    )


@dg.asset(
    deps=["clean_sales", "raw_inventory"],
    group_name="cleaning",
    kinds={"spark", "parquet"},
    retry_policy=TRANSIENT_RETRY,
    automation_condition=REFRESH_AFTER_FILES,
)
def daily_sales(config: DailySalesConfig, spark: PySparkResource, lake: LakeResource) -> dg.MaterializeResult:
    """Net quantity, revenue, price, promo and stock per store, product and day, zero-filled, stored by month:
    a landed file rebuilds the months it touches (and later ones only as far as a carried price or stock changes)."""
    started = time.perf_counter()
    if not lake.exists("clean_sales"):
        raise dg.Failure("daily_sales needs clean_sales; no sales file has been ingested yet")
    table = MonthlyDaily(spark.spark_session, lake.root, lake.grace_seconds)
    refreshed = table.refresh(full=config.full_rebuild)
    rows = lake.row_count("daily_sales")
    return dg.MaterializeResult(
        metadata={"rows": rows, "dagster/row_count": rows, **refreshed.metadata(), **table.summary(),
                  "seconds": round(time.perf_counter() - started, 2)}
    )
