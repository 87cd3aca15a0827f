"""One synchronous pass over the platform: register new files, ingest them, refresh what is stale.

This is what `nexgen run` does for batch use and tests; sensors and declarative
automation do the same continuously under the Dagster daemon.
"""

import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from nexgen_assets.defs.partitions import ingested_files, inventory_files, sales_files
from nexgen_assets.lib.ingestion.contract import is_inventory_file
from nexgen_assets.lib.ingestion.landing import (
    SETTLE_SECONDS,
    LandingPlan,
    LandingState,
    content_hash,
    plan_landing,
    scan_landing,
)
from nexgen_assets.progress import FileResult, Progress


@dataclass
class Failure:
    job: str
    partition: str | None
    step: str
    message: str

    def __str__(self) -> str:
        where = f"{self.step} [{self.partition}]" if self.partition else self.step
        return f"{where}: {self.message}"


RUNNER_TAG = "nexgen/runner"
"""host:pid of the `nexgen run` process executing a run in-process, to recover runs it leaves behind if killed."""
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _runner_tag() -> dict[str, str]:
    return {RUNNER_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs that a killed `nexgen run` on this machine left in progress: marked failed, their pool slots freed.

    Without this, a run killed mid-publish would hold the `warehouse` pool's only slot and
    the next pass would wait for it forever. Runs of the daemon (no runner tag) are left to
    Dagster's own run monitoring.
    """
    host = socket.gethostname()
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        owner_host, _, pid = run.tags.get(RUNNER_TAG, "").rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"the nexgen run process {pid} that executed it is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


@dataclass
class PassOutcome:
    registered: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    refreshed: bool = False
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


READ_WHOLE = {"raw_promotions": "promotions", "raw_stores": "stores", "raw_products": "products"}
"""Assets that read every landed file of one `landing_kind` at each refresh (no partitions), by that kind."""


def changed_read_whole(instance: dg.DagsterInstance, incoming: Path) -> list[str]:
    """Assets of READ_WHOLE whose files (names and content) differ from what their last materialization read.

    A changed promotion calendar or store or product list is then reason enough for a refresh.
    Assets never materialized are left out (a pass builds them anyway).
    """
    changed = []
    for asset, kind in READ_WHOLE.items():
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        if event is None:
            continue
        recorded = event.asset_materialization.metadata.get("content_sha256")
        try:
            landed = {entry.name: content_hash(incoming / entry.name) for entry in scan_landing(incoming, kind).files}
        except OSError:
            landed = None
        if recorded is None or recorded.value != landed:
            changed.append(asset)
    return changed


def plan_pass(instance: dg.DagsterInstance, incoming: Path) -> LandingPlan:
    """What to ingest, by the sensor's rules: settled files whose bytes are new for their name.

    A file still being written gets one settle period to finish; the state comes from
    what the instance recorded, so a rewritten file is ingested again and an unchanged
    one is not. Every landed file is planned, however many.
    """
    plan = plan_landing(incoming, LandingState(files=ingested_files(instance, incoming)), max_files=1 << 30)
    if any(time.time() - entry.mtime < SETTLE_SECONDS for entry in scan_landing(incoming).files):
        time.sleep(SETTLE_SECONDS)
        settled = plan_landing(incoming, LandingState(files=ingested_files(instance, incoming)), max_files=1 << 30)
        settled.refused = {**plan.refused, **settled.refused}
        plan = settled
    return plan


def register_files(instance: dg.DagsterInstance, plan: LandingPlan) -> list[str]:
    """Add a dynamic partition for every planned file not yet known; returns the new keys."""
    added = []
    for partitions_def in (sales_files, inventory_files):
        names = [n for n in plan.to_ingest if is_inventory_file(n) == (partitions_def is inventory_files)]
        known = set(instance.get_dynamic_partitions(partitions_def.name))
        new = [n for n in names if n not in known]
        if new:
            instance.add_dynamic_partitions(partitions_def.name, new)
            added.extend(new)
    return added


def _root_message(error) -> str:
    """What went wrong, for a person: a step's own Failure description, else the innermost cause (no class names)."""
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    chosen = next((e for e in chain if e.cls_name == "Failure"), chain[-1])
    text = chosen.message.strip()
    if not text:
        return chosen.cls_name or "error"
    first = text.splitlines()[0]
    head, sep, rest = first.partition(": ")
    return rest if sep and head.split(".")[-1] == chosen.cls_name else first


def _failures(job: str, partition: str | None, result: dg.ExecuteInProcessResult) -> list[Failure]:
    found = [
        Failure(job, partition, event.step_key or job, _root_message(event.event_specific_data.error))
        for event in result.get_step_failure_events()
    ]
    return found or [Failure(job, partition, job, "run failed before any step ran")]


def _file_result(name: str, seconds: float, result: dg.ExecuteInProcessResult, failures: list[Failure]) -> FileResult:
    """Rows read and rejected as the file's steps recorded them (clean_sales or raw_inventory, and the rejects)."""
    if failures:
        return FileResult(name, seconds, failed=str(failures[0]))
    metadata = {
        event.asset_key.to_user_string(): event.event_specific_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    kept = metadata.get("clean_sales") or metadata.get("raw_inventory") or {}
    rejected = metadata.get("sales_rejects") or metadata.get("inventory_rejects") or {}
    if "rows_read" not in kept or "rows_rejected" not in rejected:
        return FileResult(name, seconds)
    return FileResult(name, seconds, kept["rows_read"].value, rejected["rows_rejected"].value)


def run_pass(
    defs: dg.Definitions, instance: dg.DagsterInstance, incoming: Path, progress: Progress | None = None
) -> PassOutcome:
    """Ingest every new or rewritten landed file, then refresh downstream if anything changed (a new file, or a
    changed promotion calendar or store or product list)."""
    release_abandoned_runs(instance)
    plan = plan_pass(instance, incoming)
    outcome = PassOutcome(
        registered=register_files(instance, plan),
        refused=plan.refused,
        duplicates=plan.duplicates,
        waiting=[e.name for e in scan_landing(incoming).files if time.time() - e.mtime < SETTLE_SECONDS],
    )
    progress = progress or Progress.silent()
    total = len(plan.to_ingest)
    with progress.stage("ingesting files", total):
        for index, name in enumerate(plan.to_ingest, start=1):
            job_name = "inventory_file_job" if is_inventory_file(name) else "sales_file_job"
            started = time.perf_counter()
            result = defs.resolve_job_def(job_name).execute_in_process(
                instance=instance, partition_key=name, raise_on_error=False,
                tags={"nexgen/content_sha256": plan.hashes[name], "nexgen/rewrite": str(name in plan.rewritten),
                      **_runner_tag()},
            )
            failures = [] if result.success else _failures(job_name, name, result)
            if result.success:
                outcome.ingested.append(name)
            outcome.failures.extend(failures)
            progress.file_done(index, total, _file_result(name, time.perf_counter() - started, result, failures))

    job = defs.resolve_job_def("refresh_job")
    never_built = [
        key for key in job.asset_layer.executable_asset_keys
        if instance.get_latest_materialization_event(key) is None
    ]
    if outcome.ingested or never_built or changed_read_whole(instance, incoming):
        failures = refresh(defs, instance, progress)
        outcome.refreshed = not failures
        outcome.failures.extend(failures)
    return outcome


def refresh(defs: dg.Definitions, instance: dg.DagsterInstance, progress: Progress | None = None) -> list[Failure]:
    """Rebuild everything below the file partitions (daily tables, models' inputs, forecasts, marts)."""
    release_abandoned_runs(instance)
    job = defs.resolve_job_def("refresh_job")
    progress = progress or Progress.silent()
    run_id = str(uuid.uuid4())
    steps = len(job.graph.node_defs)
    instance.add_event_listener(run_id, progress.step_listener("refresh", steps))
    with progress.stage("refreshing", steps):
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=_runner_tag(), run_id=run_id)
    return [] if result.success else _failures("refresh_job", None, result)


@dataclass
class Retraction:
    file: str
    lake_partitions: list[str] = field(default_factory=list)
    warehouse_rows: dict[str, int] = field(default_factory=dict)


def retract_file(defs: dg.Definitions, instance: dg.DagsterInstance, resources: dict, name: str) -> Retraction:
    """Take a file's data back out: its lake partitions, its warehouse rows and its partition.

    The file must be gone from the landing folder first, or the next scan would land it
    again. Run a refresh afterwards so the daily tables and forecasts forget it too.
    """
    incoming = Path(resources["landing"].incoming_dir)
    if (incoming / name).exists() or (incoming / name).is_symlink():
        raise ValueError(f"{name} is still in {incoming}: move it out first, then retract it")
    partitions = inventory_files if is_inventory_file(name) else sales_files
    if name not in instance.get_dynamic_partitions(partitions.name):
        raise ValueError(f"{name} was never landed (no {partitions.name} partition of that name)")
    graph = defs.resolve_asset_graph()
    retraction = Retraction(name)
    lake, warehouse = resources["lake"], resources["warehouse"]
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        if node.partitions_def is None or getattr(node.partitions_def, "name", None) != partitions.name:
            continue
        table = key.path[-1]
        if "parquet" in node.kinds and lake.remove_partition(table, name):
            retraction.lake_partitions.append(table)
        warehouse_table = node.metadata.get("table")
        if warehouse_table and warehouse.has_table(warehouse_table):
            retraction.warehouse_rows[warehouse_table] = warehouse.delete_rows(warehouse_table, {"source_file": name})
    instance.delete_dynamic_partition(partitions.name, name)
    return retraction
