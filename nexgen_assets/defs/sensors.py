"""Sensors: new files in the landing folder become partitions and runs within seconds."""

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from nexgen_assets.defs import jobs
from nexgen_assets.defs.partitions import INGESTED_BY, ingested_files, inventory_files, sales_files
from nexgen_assets.lib.ingestion.contract import is_inventory_file
from nexgen_assets.lib.ingestion.landing import LandingState, content_hash, plan_landing
from nexgen_assets.lib.ingestion.promotions import promotion_files
from nexgen_assets.lib.ingestion.reference import LIST_COLUMNS, list_files
from nexgen_assets.lib.ingestion.source_db import Batch
from nexgen_assets.resources import LandingZoneResource, SourceDatabaseResource
from nexgen_assets.settings import current

settings = current()

RETRY_BACKOFF_MINUTES = (1, 5, 15)
"""A landed file whose run failed or was canceled (after its step and run retries) and that is not ingested
is requested again once per entry, each time at least that many minutes after the last failure; then it
stays failed until its bytes change or an operator re-executes the run. Counted per content: new bytes
start over."""

MAX_RETRY_CHECKS_PER_TICK = 25
"""Requested files whose outcome is looked up per tick (a few indexed queries each), oldest check first."""

DAGSTER_RETRY_GRACE_SECONDS = 30 * 60
"""How long a failed run that Dagster says it will retry (run_retries, tag dagster/will_retry) is left to it
before the sensor counts it as its own to retry: the daemon's retry normally follows within seconds."""

FILE_READING_STEPS = frozenset({"raw_sales", "raw_inventory"})
"""Steps with a retry policy that read the landed file: a dg.Failure there on the step's first attempt was
raised with allow_retries=False (contract broken, blocking check failed), so the file is at fault."""

PARTITION_TAG = "dagster/partition"
CONTENT_TAG = "nexgen/content_sha256"
ATTEMPT_TAG = "nexgen/landing_attempt"
ENDED = {dg.DagsterRunStatus.FAILURE: "failed", dg.DagsterRunStatus.CANCELED: "was canceled"}
"""Run outcomes after which a file that is not ingested is requested again."""


LANDING_JOBS = [jobs.sales_file_job, jobs.sales_file_refresh_job, jobs.inventory_file_job]
LANDING_JOB_NAMES = {job.name for job in LANDING_JOBS}


@dg.sensor(
    name="sales_landing_sensor",
    jobs=LANDING_JOBS,
    minimum_interval_seconds=settings.landing_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds one partition per new or rewritten file in the landing folder and requests its run.",
)
def sales_landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource) -> dg.SensorResult:
    """A lone sales file gets one run that ingests it and refreshes everything below (the real-time path);
    several files at once are ingested in runs of their own and refreshed once by automation.

    Refused entries (links, unreadable files, workbooks) are logged once each and never
    stop the other files; a burst is planned in bounded slices, one per tick. A file whose run
    failed is requested again with backoff (see `RETRY_BACKOFF_MINUTES`).
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
    now = time.time()
    runs = _retry_failed_files(context, incoming, state, set(plan.to_ingest), now)
    new_sales, new_inventory = [], []
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
                tags={CONTENT_TAG: plan.hashes[name], "nexgen/rewrite": str(name in plan.rewritten)},
            )
        )
        state.files[name]["retry"] = {"attempts": 0, "checked": now}
    partitions = []
    if new_sales:
        partitions.append(sales_files.build_add_request(new_sales))
    if new_inventory:
        partitions.append(inventory_files.build_add_request(new_inventory))
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=partitions, cursor=state.to_cursor())


@dataclass(frozen=True)
class RunFailure:
    line: str
    """First line of the first step failure (the dg.Failure description, else the root error), or of the run's."""
    file_at_fault: bool


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0][:300] if text else ""


def run_failure(instance: dg.DagsterInstance, run_id: str) -> RunFailure:
    """Why a finished run failed, from its own events (one bounded query), and whether the landed file is at fault."""
    events = [
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(
            run_id,
            of_type={
                dg.DagsterEventType.STEP_FAILURE,
                dg.DagsterEventType.STEP_UP_FOR_RETRY,
                dg.DagsterEventType.RUN_FAILURE,
                dg.DagsterEventType.RUN_CANCELED,
            },
            limit=200,
        ).records
    ]
    retried = {e.step_key for e in events if e and e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY}
    failed = [e for e in events if e and e.event_type == dg.DagsterEventType.STEP_FAILURE]
    file_at_fault = any(
        e.step_key in FILE_READING_STEPS and e.step_key not in retried and e.step_failure_data.user_failure_data
        for e in failed
    )
    line = ""
    for event in failed:
        data = event.step_failure_data
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        line = _first_line(data.user_failure_data.description if data.user_failure_data else None) or _first_line(
            error.message if error else None
        )
        if line:
            break
    if not line:
        ended = (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_CANCELED)
        line = next((_first_line(e.message) for e in events if e and e.event_type in ended), "")
    return RunFailure(line or "no failure message", file_at_fault)


def _latest_run(instance: dg.DagsterInstance, name: str, sha: str) -> dg.RunRecord | None:
    """The newest run of this file's content: the sensor's, its retries (ours or Dagster's), or an operator's."""
    records = instance.get_run_records(dg.RunsFilter(tags={PARTITION_TAG: name, CONTENT_TAG: sha}), limit=1)
    return records[0] if records else None


def _ingested(instance: dg.DagsterInstance, name: str, sha: str) -> bool:
    """The file's last asset (`INGESTED_BY`) holds these bytes, even if a later step of its run failed."""
    partitions = inventory_files if is_inventory_file(name) else sales_files
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=INGESTED_BY[partitions.name], asset_partitions=[name]), limit=1
    ).records
    recorded = records[0].asset_materialization.metadata.get("content_sha256") if records else None
    return recorded is not None and recorded.value == sha


def _unchanged(incoming: Path, name: str, record: dict) -> bool | None:
    """True if the file still has the size and mtime it was planned with; None if it is gone."""
    try:
        status = os.stat(incoming / name, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    return status.st_size == record["size"] and status.st_mtime_ns == record["mtime_ns"]


def _retry_failed_files(
    context: dg.SensorEvaluationContext, incoming: Path, state: LandingState, just_requested: set[str], now: float
) -> list[dg.RunRequest]:
    """Request again, with backoff, the files whose latest run for their content failed and which are not ingested.

    Only files this sensor requested are followed (the `retry` entry of their cursor record), at most
    MAX_RETRY_CHECKS_PER_TICK per tick. A run still queued or running, or one Dagster's own run retries will
    re-execute, is left alone; a run that failed because of the file itself is not retried.
    """
    instance = context.instance
    followed = sorted(
        (f["retry"].get("checked", 0), name)
        for name, f in state.files.items()
        if "retry" in f and name not in just_requested
    )
    requests = []
    for _, name in followed[:MAX_RETRY_CHECKS_PER_TICK]:
        record = state.files[name]
        retry = record["retry"]
        retry["checked"] = now
        unchanged = _unchanged(incoming, name, record)
        if unchanged is None:
            del record["retry"]
            continue
        if not unchanged:
            continue
        sha = record["sha256"]
        latest = _latest_run(instance, name, sha)
        if latest is None:
            continue
        run = latest.dagster_run
        if run.status == dg.DagsterRunStatus.SUCCESS:
            del record["retry"]
            continue
        if run.status not in ENDED:
            continue
        if _ingested(instance, name, sha):
            del record["retry"]
            continue
        ended = latest.end_time or latest.update_timestamp.timestamp()
        if run.is_complete_and_waiting_to_retry and now - ended < DAGSTER_RETRY_GRACE_SECONDS:
            continue
        attempts = retry.get("attempts", 0)
        if retry.get("failed") != run.run_id:
            failure = run_failure(instance, run.run_id)
            retry.update(failed=run.run_id, why=failure.line, requested=False)
            if failure.file_at_fault or attempts >= len(RETRY_BACKOFF_MINUTES):
                cause = (
                    "the file itself is at fault" if failure.file_at_fault
                    else f"that was retry {attempts} of {len(RETRY_BACKOFF_MINUTES)}"
                )
                context.log.warning(
                    f"{name}: run {run.run_id} {ENDED[run.status]}: {failure.line}; {cause}, so it is not "
                    "requested again until the file changes (or re-execute the run from the UI)"
                )
                del record["retry"]
                continue
        if retry.get("requested"):
            continue
        if now - ended < RETRY_BACKOFF_MINUTES[attempts] * 60:
            continue
        attempt = attempts + 1
        retry.update(attempts=attempt, requested=True)
        default = jobs.inventory_file_job if is_inventory_file(name) else jobs.sales_file_job
        job_name = run.job_name if run.job_name in LANDING_JOB_NAMES else default.name
        context.log.info(
            f"{name}: run {run.run_id} {ENDED[run.status]} ({retry['why']}); "
            f"requested again, attempt {attempt} of {len(RETRY_BACKOFF_MINUTES)}"
        )
        requests.append(
            dg.RunRequest(
                run_key=f"{name}:{sha}:{record['revision']}:{attempt}",
                job_name=job_name,
                partition_key=name,
                tags={CONTENT_TAG: sha, "nexgen/rewrite": run.tags.get("nexgen/rewrite", "False"),
                      ATTEMPT_TAG: str(attempt)},
            )
        )
    return requests


NO_FILES = json.dumps({})


def _refresh_when_changed(context: dg.SensorEvaluationContext, files: list[Path], prefix: str, what: str):
    """One run per distinct set of file contents: the cursor and run key come from every file's hash.

    Nothing runs before the first sales file is ingested (the refresh joins the lists to sales
    that do not exist yet; the first refresh after ingestion reads them), nor for a folder that
    never had such a file.
    """
    fingerprint = json.dumps({path.name: content_hash(path) for path in files}, sort_keys=True)
    if fingerprint == (context.cursor or NO_FILES):
        return dg.SkipReason(f"{what} unchanged")
    if not context.instance.fetch_materializations(INGESTED_BY[sales_files.name], limit=1).records:
        return dg.SkipReason(f"{what} wait for the first ingested sales file")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"{prefix}:{digest}")], cursor=fingerprint)


@dg.sensor(
    name="promotions_sensor",
    job=jobs.promotions_refresh_job,
    minimum_interval_seconds=settings.landing_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-reads the promotion calendar when a promotions_* file is added, changed or removed.",
)
def promotions_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource):
    """One refresh per distinct set of calendar contents (the run key is the hash of every file's bytes)."""
    return _refresh_when_changed(context, promotion_files(Path(landing.incoming_dir)), "promotions", "promotion calendar")


@dg.sensor(
    name="reference_lists_sensor",
    job=jobs.reference_lists_refresh_job,
    minimum_interval_seconds=settings.landing_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-reads the store and product lists when a stores* or products* file is added, changed or removed.",
)
def reference_lists_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource):
    """One refresh per distinct set of list contents (the run key is the hash of every list file's bytes)."""
    incoming = Path(landing.incoming_dir)
    files = [incoming / entry.name for kind in LIST_COLUMNS for entry in list_files(incoming, kind).files]
    return _refresh_when_changed(context, files, "lists", "store and product lists")


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
