"""The Dagster home `nexgen` writes: its settings, and PostgreSQL instance storage over a real connection."""

import logging
import os
import time
import types
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from nexgen_assets.cli import GENERATED_MARK, ensure_dagster_home
from nexgen_assets.settings import Settings
from nexgen_assets_tests.conftest import POSTGRES_URL


def test_the_generated_dagster_yaml_follows_the_settings_and_an_operators_own_file_is_kept(tmp_path):
    home = tmp_path / "dagster_home"
    ensure_dagster_home(home, Settings.from_env({}))
    embedded = yaml.safe_load((home / "dagster.yaml").read_text())
    assert "storage" not in embedded and embedded["concurrency"]["pools"]["default_limit"] == 1

    url = "postgresql://dagster:s3cret@db.internal:5432/dagster"
    ensure_dagster_home(home, Settings.from_env({"NEXGEN_DAGSTER_STORAGE_URL": url}))
    text = (home / "dagster.yaml").read_text()
    assert yaml.safe_load(text)["storage"] == {"postgres": {"postgres_url": {"env": "NEXGEN_DAGSTER_STORAGE_URL"}}}
    assert "s3cret" not in text and "db.internal" not in text, "the URL stays in the environment"

    owned = text.removeprefix(GENERATED_MARK) + "telemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(owned)
    ensure_dagster_home(home, Settings.from_env({}))
    assert (home / "dagster.yaml").read_text() == owned


@pytest.fixture
def dagster_database():
    """A throw-away PostgreSQL database for one Dagster instance."""
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_runs_and_events_go_to_postgresql_when_the_storage_url_is_set(tmp_path, dagster_database, monkeypatch):
    monkeypatch.setenv("NEXGEN_DAGSTER_STORAGE_URL", dagster_database)
    home = ensure_dagster_home(tmp_path / "dagster_home", Settings.from_env(os.environ))

    @dg.asset
    def daily_sales() -> int:
        return 3

    instance = dg.DagsterInstance.from_config(str(home))
    result = dg.materialize([daily_sales], instance=instance)
    assert result.success
    instance.dispose()

    reopened = dg.DagsterInstance.from_config(str(home))
    assert type(reopened.run_storage).__name__ == "PostgresRunStorage"
    assert reopened.get_run_by_id(result.run_id).is_success
    assert reopened.get_latest_materialization_event(dg.AssetKey("daily_sales")) is not None
    reopened.dispose()
    engine = sa.create_engine(dagster_database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == 1
    engine.dispose()


def test_a_pool_slot_held_by_a_run_that_died_is_freed_by_run_monitoring(tmp_path):
    from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration

    home = ensure_dagster_home(tmp_path / "dagster_home", Settings.from_env({}))
    instance = dg.DagsterInstance.from_config(str(home))
    seconds = instance.run_monitoring_settings["free_slots_after_run_end_seconds"]
    storage = instance.event_log_storage
    run = instance.create_run_for_job(dg.GraphDefinition("publish").to_job(), run_id=str(uuid.uuid4()))
    storage.set_concurrency_slots("warehouse", 1)
    assert storage.claim_concurrency_slot("warehouse", run.run_id, "ingestion_audit").is_claimed
    instance.report_run_failed(run, "the run's process was killed during a publish")
    waiting_run = str(uuid.uuid4())
    assert not storage.claim_concurrency_slot("warehouse", waiting_run, "ingestion_audit").is_claimed, (
        "the dead run still holds the slot"
    )

    time.sleep(seconds + 1)
    workspace = types.SimpleNamespace(instance=instance)
    list(execute_concurrency_slots_iteration(workspace, logging.getLogger("test")))

    assert storage.claim_concurrency_slot("warehouse", waiting_run, "ingestion_audit").is_claimed
