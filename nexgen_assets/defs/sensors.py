"""Sensors: new files in the landing folder become partitions and runs within seconds."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from nexgen_assets.defs import jobs
from nexgen_assets.defs.partitions import INGESTED_BY, ingested_files, inventory_files, sales_files
from nexgen_assets.lib.ingestion.contract import is_inventory_file
from nexgen_assets.lib.ingestion.landing import LandingState, content_hash, plan_landing
from nexgen_assets.lib.ingestion.promotions import promotion_files
from nexgen_assets.lib.ingestion.source_db import Batch
from nexgen_assets.resources import LandingZoneResource, SourceDatabaseResource
from nexgen_assets.settings import current

settings = current()


@dg.sensor(
    name="sales_landing_sensor",
    jobs=[jobs.sales_file_job, jobs.sales_file_refresh_job, jobs.inventory_file_job],
    minimum_interval_seconds=settings.landing_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds one partition per new or rewritten file in the landing folder and requests its run.",
)
def sales_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource) -> dg.SensorResult:
    """A lone sales file gets one run that ingests it and refreshes everything below (the real-time path);
    several files at once are ingested in runs of their own and refreshed once by automation.

    Refused entries (links, unreadable files, workbooks) are logged once each and never
    stop the other files; a burst is planned in bounded slices, one per tick.
    """
    incoming = Path(landing.incoming_dir)
    state = LandingState.from_cursor(context.cursor)
    if context.cursor is None:
        state = LandingState(files=ingested_files(context.instance, incoming))
    plan = plan_landing(incoming, state)
    for copy, original in plan.duplicates.items():
        context.log.info(f"{copy} has the same content as {original}; not ingested again")
    for name, reason in plan.refused.items():
        context.log.warning(f"{name} {reason}; not ingested")
    if plan.deferred:
        context.log.info(f"{plan.deferred} more file(s) wait for the next tick")
    runs, new_sales, new_inventory = [], [], []
    lone_sales_file = [n for n in plan.to_ingest if not is_inventory_file(n)] if len(plan.to_ingest) == 1 else []
    for name in plan.to_ingest:
        inventory = is_inventory_file(name)
        if name in plan.new:
            (new_inventory if inventory else new_sales).append(name)
        job = jobs.inventory_file_job if inventory else jobs.sales_file_refresh_job if lone_sales_file else jobs.sales_file_job
        runs.append(
            dg.RunRequest(
                run_key=plan.run_key(name),
                job_name=job.name,
                partition_key=name,
                tags={"nexgen/content_sha256": plan.hashes[name], "nexgen/rewrite": str(name in plan.rewritten)},
            )
        )
    partitions = []
    if new_sales:
        partitions.append(sales_files.build_add_request(new_sales))
    if new_inventory:
        partitions.append(inventory_files.build_add_request(new_inventory))
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=partitions, cursor=state.to_cursor())


@dg.sensor(
    name="promotions_sensor",
    job=jobs.promotions_refresh_job,
    minimum_interval_seconds=settings.landing_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-reads the promotion calendar when a promotions_* file is added, changed or removed.",
)
def promotions_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource):
    """One refresh per distinct set of calendar contents (the run key is the hash of every file's bytes)."""
    files = promotion_files(Path(landing.incoming_dir))
    fingerprint = json.dumps({p.name: content_hash(p) for p in files}, sort_keys=True)
    if fingerprint == context.cursor:
        return dg.SkipReason("promotion calendar unchanged")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"promotions:{digest}")], cursor=fingerprint)


@dg.sensor(
    name="source_db_sensor",
    job=jobs.sales_file_job,
    minimum_interval_seconds=settings.source_db_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING if settings.source_db_url else dg.DefaultSensorStatus.STOPPED,
    description="Pulls order lines past the watermark from the source database, one partition per batch.",
)
def source_db_sensor(context: dg.SensorEvaluationContext, source_db: SourceDatabaseResource):
    """The watermark advances only once the previous batch is ingested (its ingestion_log row published)."""
    if not source_db.enabled:
        return dg.SkipReason("source_db is off: set NEXGEN_SOURCE_DB_URL")
    cursor = json.loads(context.cursor) if context.cursor else {"committed": None, "pending": None}
    if cursor["pending"]:
        done = context.instance.get_materialized_partitions(INGESTED_BY[sales_files.name])
        if cursor["pending"] not in done:
            return dg.SkipReason(f"waiting for batch {cursor['pending']} to reach the lake")
        cursor = {"committed": Batch.from_key(cursor["pending"]).high, "pending": None}
    batch = source_db.next_batch(cursor["committed"])
    if batch is None:
        context.update_cursor(json.dumps(cursor))
        return dg.SkipReason(f"no rows in {source_db.table} after {cursor['committed'] or 'the start'}")
    cursor["pending"] = batch.key
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=batch.key, partition_key=batch.key)],
        dynamic_partitions_requests=[sales_files.build_add_request([batch.key])],
        cursor=json.dumps(cursor),
    )


nexgen_automation_sensor = dg.AutomationConditionSensorDefinition(
    "nexgen_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    run_tags={jobs.REFRESH_TAG: "true"},
    description="Refreshes clean tables, features, marts and forecasts after new data (eager conditions).",
)
