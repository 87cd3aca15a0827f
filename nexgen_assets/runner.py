"""One synchronous pass over the platform: register new files, ingest them, refresh what is stale.

This is what `nexgen run` does for batch use and tests; sensors and declarative
automation do the same continuously under the Dagster daemon.
"""

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from nexgen_assets.defs.partitions import inventory_files, sales_files
from nexgen_assets.lib.ingestion.contract import is_inventory_file, is_landable, is_promotion_file

FILE_JOBS = {
    sales_files.name: ("sales_file_job", dg.AssetKey("clean_sales")),
    inventory_files.name: ("inventory_file_job", dg.AssetKey("raw_inventory")),
}


@dataclass
class Failure:
    job: str
    partition: str | None
    step: str
    message: str

    def __str__(self) -> str:
        where = f"{self.step} [{self.partition}]" if self.partition else self.step
        return f"{where}: {self.message}"


@dataclass
class PassOutcome:
    registered: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    refreshed: bool = False
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def landed_files(incoming: Path) -> tuple[list[str], list[str]]:
    """Finished files in the landing folder, split into sales and inventory, by name (promotion calendars aside)."""
    if not incoming.is_dir():
        return [], []
    names = sorted(p.name for p in incoming.iterdir() if p.is_file() and is_landable(p) and not is_promotion_file(p))
    return [n for n in names if not is_inventory_file(n)], [n for n in names if is_inventory_file(n)]


def register_files(instance: dg.DagsterInstance, incoming: Path) -> list[str]:
    """Add a dynamic partition for every landed file not yet known; returns the new keys."""
    sales, inventory = landed_files(incoming)
    added = []
    for partitions_def, names in ((sales_files, sales), (inventory_files, inventory)):
        known = set(instance.get_dynamic_partitions(partitions_def.name))
        new = [n for n in names if n not in known]
        if new:
            instance.add_dynamic_partitions(partitions_def.name, new)
            added.extend(new)
    return added


def _root_message(error) -> str:
    """The innermost cause's message: what actually went wrong, not the wrapper."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "error"


def _failures(job: str, partition: str | None, result: dg.ExecuteInProcessResult) -> list[Failure]:
    found = [
        Failure(job, partition, event.step_key or job, _root_message(event.event_specific_data.error))
        for event in result.get_step_failure_events()
    ]
    return found or [Failure(job, partition, job, "run failed before any step ran")]


def run_pass(defs: dg.Definitions, instance: dg.DagsterInstance, incoming: Path) -> PassOutcome:
    """Ingest every registered file not yet ingested, then refresh downstream if anything changed."""
    outcome = PassOutcome(registered=register_files(instance, incoming))
    for partitions_name, (job_name, done_key) in FILE_JOBS.items():
        job = defs.resolve_job_def(job_name)
        done = instance.get_materialized_partitions(done_key)
        for key in instance.get_dynamic_partitions(partitions_name):
            if key in done:
                continue
            result = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
            if result.success:
                outcome.ingested.append(key)
            else:
                outcome.failures.extend(_failures(job_name, key, result))

    refresh = defs.resolve_job_def("refresh_job")
    never_built = [
        key for key in refresh.asset_layer.executable_asset_keys
        if instance.get_latest_materialization_event(key) is None
    ]
    if outcome.ingested or never_built:
        result = refresh.execute_in_process(instance=instance, raise_on_error=False)
        outcome.refreshed = result.success
        if not result.success:
            outcome.failures.extend(_failures("refresh_job", None, result))
    return outcome
