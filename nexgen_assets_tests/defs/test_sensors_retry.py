"""The landing sensor requests a file again, with backoff, when its run failed and the file is not ingested.

Runs are real runs of the project's jobs on a Dagster instance configured with NEX GEN's run retries;
the sensor's clock is moved forward instead of waiting out the backoff.
"""

import logging
import time

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEvent, JobFailureData, RunFailureReason

from nexgen_assets.cli import INSTANCE_CONFIG
from nexgen_assets.definitions import build_definitions, defs
from nexgen_assets.defs import sensors
from nexgen_assets.defs.sensors import (
    DAGSTER_RETRY_GRACE_SECONDS,
    FILE_READING_STEPS,
    MAX_RETRY_CHECKS_PER_TICK,
    RETRY_BACKOFF_MINUTES,
    sales_landing_sensor,
)
from nexgen_assets.lib.ingestion.landing import LandingState, content_hash
from nexgen_assets.resources import LandingZoneResource
from nexgen_assets_tests.conftest import ONE_LINE_SALES, land

LINES = ONE_LINE_SALES
DB_BLIP = "psycopg2.OperationalError: server closed the connection unexpectedly\n\tThis probably means ..."


class Clock:
    """Stands in for the `time` module in the sensors: real time plus however far a test moved it."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Ticks:
    """Sensor ticks over one landing folder, carrying the cursor, with the log lines of each tick."""

    def __init__(self, instance: dg.DagsterInstance, incoming):
        self.instance, self.incoming, self.cursor, self.logs = instance, incoming, None, []

    def __call__(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor,
            resources={"landing": LandingZoneResource(incoming_dir=str(self.incoming))},
        )
        captured = _Captured()
        context.log.addHandler(captured)
        result = sales_landing_sensor(context)
        for request in result.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor, self.logs = result.cursor, captured.lines
        return list(result.run_requests)

    def followed(self) -> dict[str, dict]:
        return {name: f["retry"] for name, f in LandingState.from_cursor(self.cursor).files.items() if "retry" in f}


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sensors, "time", clock)
    return clock


@pytest.fixture
def instance():
    """An instance with the run retries `nexgen` writes into dagster.yaml (2 retries, not on step failures)."""
    run_retries = yaml.safe_load(INSTANCE_CONFIG)["run_retries"]
    instance = dg.DagsterInstance.ephemeral(settings={"run_retries": run_retries})
    assert instance.run_retries_enabled and not instance.run_retries_retry_on_asset_or_op_failure
    return instance


def _launch(instance, request: dg.RunRequest, status=dg.DagsterRunStatus.STARTED, **tags) -> dg.DagsterRun:
    """The run the daemon launches for a request: the request's job, partition and tags."""
    return instance.create_run_for_job(
        defs.resolve_job_def(request.job_name), status=status,
        tags={**request.tags, "dagster/partition": request.partition_key, **tags},
    )


def _fail(instance, run, message=DB_BLIP, reason=RunFailureReason.STEP_FAILURE) -> dg.DagsterRun:
    """The run ends FAILURE now (by the sensors' clock); a step failure is not retried by run_retries
    (retry_on_asset_or_op_failure: false)."""
    failure = DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_FAILURE.value, job_name=run.job_name, message=message,
        event_specific_data=JobFailureData(error=None, failure_reason=reason),
    )
    instance.report_dagster_event(failure, run.run_id, logging.ERROR, timestamp=sensors.time.time())
    return instance.get_run_by_id(run.run_id)


def _requested_again(ticks, clock, after_minutes) -> dg.RunRequest:
    """Not requested a second before the backoff has passed, and requested once it has."""
    clock.advance(after_minutes * 60 - 2)
    assert ticks() == []
    clock.advance(3)
    [request] = ticks()
    return request


def test_a_failed_file_is_requested_again_only_after_its_backoff_and_at_most_three_times(tmp_path, instance, clock):
    land(tmp_path, "sales_a.csv", LINES)
    land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    ticks = Ticks(instance, tmp_path)
    first = {r.partition_key: r for r in ticks()}
    run = _fail(instance, _launch(instance, first["sales_a.csv"]))
    _launch(instance, first["sales_b.csv"], dg.DagsterRunStatus.SUCCESS)
    sha = content_hash(tmp_path / "sales_a.csv")

    run_keys = [first["sales_a.csv"].run_key]
    for attempt, minutes in enumerate(RETRY_BACKOFF_MINUTES, start=1):
        again = _requested_again(ticks, clock, minutes)
        assert again.partition_key == "sales_a.csv" and again.job_name == "sales_file_job"
        assert again.tags == {"nexgen/content_sha256": sha, "nexgen/rewrite": "False", "nexgen/landing_attempt": str(attempt)}
        assert again.run_key == f"sales_a.csv:{sha}:1:{attempt}"
        assert any(f"attempt {attempt} of 3" in line and run.run_id in line for _, line in ticks.logs)
        run_keys.append(again.run_key)
        assert set(ticks.followed()) == {"sales_a.csv"}, "a file whose run succeeded is no longer followed"
        clock.advance(3600)
        assert ticks() == [], "the request is not repeated while its run has not been created"
        run = _fail(instance, _launch(instance, again))

    clock.advance(24 * 3600)
    assert ticks() == []
    [(level, line)] = ticks.logs
    assert level == logging.WARNING
    assert line.endswith(
        f"sales_a.csv: run {run.run_id} failed: psycopg2.OperationalError: server closed the connection unexpectedly; "
        "that was retry 3 of 3, so it is not requested again until the file changes (or re-execute the run from the UI)"
    )
    assert ticks() == [] and ticks.logs == [], "said once"
    assert ticks.followed() == {}
    assert len(set(run_keys)) == 4


def test_a_run_still_queued_or_running_is_not_requested_again(tmp_path, instance, clock):
    land(tmp_path, "sales_a.csv", LINES)
    ticks = Ticks(instance, tmp_path)
    [request] = ticks()
    run = _launch(instance, request, dg.DagsterRunStatus.NOT_STARTED)
    for event in (None, dg.DagsterEventType.RUN_STARTING, dg.DagsterEventType.RUN_START):
        if event:  # (QUEUED takes a run launched from a code location; it is one more unfinished status)
            instance.report_dagster_event(DagsterEvent(event.value, job_name=run.job_name), run.run_id)
        clock.advance(3600)
        assert ticks() == []
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED

    _fail(instance, run)
    rerun = instance.create_run_for_job(  # an operator re-executes the failed run from the UI
        defs.resolve_job_def(request.job_name), status=dg.DagsterRunStatus.STARTED,
        parent_run_id=run.run_id, root_run_id=run.run_id, tags=run.tags,
    )
    clock.advance(3600)
    assert ticks() == []

    _fail(instance, rerun)
    again = _requested_again(ticks, clock, RETRY_BACKOFF_MINUTES[0])
    assert again.tags["nexgen/landing_attempt"] == "1" and rerun.run_id in ticks.logs[0][1]


def test_a_rewritten_file_starts_over(tmp_path, instance, clock):
    land(tmp_path, "sales_a.csv", LINES)
    ticks = Ticks(instance, tmp_path)
    [request] = ticks()
    for minutes in RETRY_BACKOFF_MINUTES:
        _fail(instance, _launch(instance, request))
        request = _requested_again(ticks, clock, minutes)
    assert request.tags["nexgen/landing_attempt"] == "3"

    land(tmp_path, "sales_a.csv", LINES + "A2,2025-01-02,P1,3,2.0\n", age=30.0)
    [rewritten] = ticks()
    sha = content_hash(tmp_path / "sales_a.csv")
    assert rewritten.run_key == f"sales_a.csv:{sha}:2" and "nexgen/landing_attempt" not in rewritten.tags
    _fail(instance, _launch(instance, rewritten))
    again = _requested_again(ticks, clock, RETRY_BACKOFF_MINUTES[0])
    assert again.run_key == f"sales_a.csv:{sha}:2:1" and again.tags["nexgen/rewrite"] == "True"


def test_an_ingested_file_is_never_requested_again(tmp_path, instance, clock):
    """The quick path's run fails in a later step after ingestion_log recorded the file: it is ingested."""
    land(tmp_path, "sales_a.csv", LINES)
    ticks = Ticks(instance, tmp_path)
    [request] = ticks()
    assert request.job_name == "sales_file_refresh_job"
    instance.report_runless_asset_event(
        dg.AssetMaterialization("ingestion_log", partition="sales_a.csv", metadata={"content_sha256": "earlier-bytes"})
    )
    _fail(instance, _launch(instance, request), "sales_forecast: champion model not found")
    again = _requested_again(ticks, clock, RETRY_BACKOFF_MINUTES[0])
    assert again.job_name == "sales_file_refresh_job", "an ingestion of other bytes does not count"

    _fail(instance, _launch(instance, again))
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "ingestion_log", partition="sales_a.csv", metadata={"content_sha256": request.tags["nexgen/content_sha256"]}
        )
    )
    clock.advance(24 * 3600)
    assert ticks() == [] and ticks.followed() == {}


def test_a_canceled_run_is_requested_again_and_a_vanished_file_is_not(tmp_path, instance, clock):
    land(tmp_path, "sales_a.csv", LINES)
    land(tmp_path, "sales_b.csv", LINES.replace("A1", "B1"))
    ticks = Ticks(instance, tmp_path)
    for request in ticks():
        instance.report_run_canceled(_launch(instance, request))
    (tmp_path / "sales_b.csv").unlink()

    again = _requested_again(ticks, clock, RETRY_BACKOFF_MINUTES[0])
    assert again.partition_key == "sales_a.csv" and "was canceled" in ticks.logs[0][1]
    assert set(ticks.followed()) == {"sales_a.csv"}


def test_a_pending_dagster_run_retry_is_not_doubled(tmp_path, instance, clock):
    """A run whose process died is retried by Dagster (run_retries, 2 times); the sensor waits for those."""
    land(tmp_path, "sales_a.csv", LINES)
    ticks = Ticks(instance, tmp_path)
    [request] = ticks()
    run = _fail(instance, _launch(instance, request), "run worker exited", RunFailureReason.RUN_WORKER_RESTART)
    assert run.tags["dagster/will_retry"] == "true"
    clock.advance(10 * 60)
    assert ticks() == []

    root = run.run_id
    for number in (1, 2):  # what the daemon does: a child run in the failed run's group, with its tags
        tags = {k: v for k, v in run.tags.items() if k not in ("dagster/will_retry", "dagster/failure_reason")}
        child = instance.create_run_for_job(
            defs.resolve_job_def(run.job_name), status=dg.DagsterRunStatus.STARTED,
            parent_run_id=run.run_id, root_run_id=root,
            tags={**tags, "dagster/retry_number": str(number), "dagster/parent_run_id": run.run_id,
                  "dagster/root_run_id": root},
        )
        instance.add_run_tags(run.run_id, {"dagster/auto_retry_run_id": child.run_id})
        clock.advance(10 * 60)
        assert ticks() == []
        run = _fail(instance, child, "run worker exited", RunFailureReason.RUN_WORKER_RESTART)
    assert run.tags["dagster/will_retry"] == "false", "Dagster's retries are used up"

    again = _requested_again(ticks, clock, RETRY_BACKOFF_MINUTES[0])
    assert again.tags["nexgen/landing_attempt"] == "1"


def test_a_dagster_retry_that_never_comes_is_taken_over_after_a_grace_period(tmp_path, instance, clock):
    land(tmp_path, "sales_a.csv", LINES)
    ticks = Ticks(instance, tmp_path)
    [request] = ticks()
    run = _fail(instance, _launch(instance, request), "run worker exited", RunFailureReason.RUN_WORKER_RESTART)
    assert run.is_complete_and_waiting_to_retry
    clock.advance(DAGSTER_RETRY_GRACE_SECONDS - 5)
    assert ticks() == []
    clock.advance(10)
    [again] = ticks()
    assert again.tags["nexgen/landing_attempt"] == "1"


def test_the_lookups_of_a_tick_are_bounded(tmp_path, instance, clock):
    count = MAX_RETRY_CHECKS_PER_TICK + 5
    for i in range(count):
        land(tmp_path, f"sales_{i:03d}.csv", f"{LINES}# {i}\n")
    ticks = Ticks(instance, tmp_path)
    for request in ticks():
        _fail(instance, _launch(instance, request))
    clock.advance(3600)

    first, second = ticks(), ticks()

    assert len(first) == MAX_RETRY_CHECKS_PER_TICK
    assert sorted(r.partition_key for r in first + second) == [f"sales_{i:03d}.csv" for i in range(count)]


def test_the_steps_that_read_a_file_have_a_retry_policy():
    """So a dg.Failure on such a step's first attempt was raised with allow_retries=False: the file's fault."""
    for step in FILE_READING_STEPS:
        assert defs.get_assets_def(step).op.retry_policy is not None, step


def test_a_file_that_breaks_the_contract_is_not_retried(home, resources, clock):
    """A real run of the requested job, failing on the file: said once, and not requested again."""
    incoming = home / "incoming"
    land(incoming, "sales_bad.csv", "order_id,order_ts\nA1,2025-01-01\n")
    instance = dg.DagsterInstance.ephemeral()
    ticks = Ticks(instance, incoming)
    [request] = ticks()

    result = build_definitions(resources).resolve_job_def(request.job_name).execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=request.tags, raise_on_error=False
    )
    assert not result.success
    clock.advance(24 * 3600)

    assert ticks() == []
    [(level, line)] = ticks.logs
    assert level == logging.WARNING and f"sales_bad.csv: run {result.run_id} failed: sales_bad.csv:" in line
    assert "missing required column(s) product_id, quantity, unit_price" in line
    assert "the file itself is at fault, so it is not requested again until the file changes" in line
    assert ticks() == [] and ticks.logs == []
