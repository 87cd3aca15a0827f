"""The hostile corpus lands as one burst under `nexgen dev` while its daemon, its Spark Connect server
and a warehouse publish are killed (SIGKILL) at seeded random points.

`nexgen dev` starts what died again; run monitoring fails the runs that lost their process and
Dagster retries them. When everything has settled, every file must be counted exactly once:
good data complete to the unit in the warehouse, every bad file refused, rejected row by row with
its reasons or failed alone naming itself, and rows read = accepted + rejected for every file.
"""

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from nexgen_assets import spark_connect
from nexgen_assets.defs.partitions import inventory_files, sales_files
from nexgen_assets.defs.sensors import run_failure
from nexgen_assets.demo.generator import GeneratorConfig, generate
from nexgen_assets_tests.conftest import POSTGRES_URL, pg_url, process_group
from nexgen_assets_tests.hostile_corpus import LEAK_MARKER, land_corpus

REPO = Path(__file__).resolve().parents[1]
GOOD = GeneratorConfig(
    stores=1, products=3, days=100, holdout_days=7, seed=8, start=dt.date(2024, 9, 1), defect_rate=0.0, formats=("csv",)
)
SETTLE_SECONDS = 900
SEED = 20261124


def _processes(marker: str) -> list[int]:
    """Live processes whose command line contains `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in command and int(entry) != os.getpid():
                found.append(int(entry))
    return found


def _kill_one(marker: str, what: str) -> int:
    pids = _processes(marker)
    assert len(pids) == 1, f"expected one {what}, found {pids}"
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


def _kill_a_publish(admin: sa.Engine, schema: str, seconds: float) -> int:
    """SIGKILL a process in the middle of publishing ingestion_log; returns its pid.

    The test holds a lock that conflicts with the publish lock, so the next publisher stops inside
    its open transaction, its rows staged, waiting; its session names its process (`nexgen pid N`).
    """
    waiting = sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT l.granted AND c.relname = 'ingestion_log' AND n.nspname = :schema "
        "AND a.application_name LIKE 'nexgen pid %' LIMIT 1"
    )
    deadline = time.monotonic() + seconds
    while not sa.inspect(admin).has_table("ingestion_log", schema=schema):
        assert time.monotonic() < deadline, "ingestion_log was never published"
        time.sleep(1)
    with admin.connect() as holder, holder.begin() as transaction:
        holder.execute(sa.text(f'LOCK TABLE "{schema}".ingestion_log IN SHARE MODE'))
        with admin.connect() as probe:
            while (name := probe.execute(waiting, {"schema": schema}).scalar()) is None:
                assert time.monotonic() < deadline, "no publish of ingestion_log came"
                time.sleep(0.2)
        pid = int(name.rsplit(" ", 1)[1])
        os.kill(pid, signal.SIGKILL)
        transaction.rollback()
    return pid


def _wait_for(log: Path, text: str, seconds: float, since: int = 0) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace")[since:]:
        assert time.monotonic() < deadline, f"no '{text}' in the log: {log.read_text()[-3000:]}"
        time.sleep(1)


def _unfinished_runs(instance: dg.DagsterInstance) -> list:
    busy = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    return instance.get_run_records(dg.RunsFilter(statuses=busy), limit=5)


def test_a_hostile_burst_under_the_daemon_survives_killed_services_and_counts_every_file_once(
    tmp_path, pg_schema, spark, monkeypatch
):
    generated = generate(tmp_path / "generated", GOOD)
    home = tmp_path / "home"
    incoming = home / "incoming"
    incoming.mkdir(parents=True)
    good_files = sorted(p.name for p in generated.incoming.iterdir() if p.name.startswith(("sales_", "inventory_")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    port = spark_connect.spare_port()
    env.update(
        NEXGEN_HOME=str(home),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        NEXGEN_LANDING_INTERVAL_SECONDS="5",
        NEXGEN_SPARK_CONNECT_PORT=str(port),
        NEXGEN_WAREHOUSE_URL=pg_url(pg_schema),
    )
    log = tmp_path / "nexgen_dev.log"
    dev = subprocess.Popen(
        [sys.executable, "-m", "nexgen_assets.cli", "dev", "--port", str(spark_connect.spare_port())],
        env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    admin = sa.create_engine(POSTGRES_URL)
    rng = random.Random(SEED)
    try:
        _wait_for(log, "Spark Connect server at sc://localhost", 120)
        _wait_for(log, "Instance is configured with the following daemons", 120)
        for name in good_files:
            (incoming / name).write_bytes((generated.incoming / name).read_bytes())
        first_sales = next(n for n in good_files if n.startswith("sales_"))
        kinds = land_corpus(incoming, tmp_path / "outside", generated.incoming / first_sales)
        landed = time.monotonic()

        time.sleep(rng.uniform(15, 30))
        _kill_one("dagster._daemon run", "Dagster daemon")
        _wait_for(log, "dagster dev stopped unexpectedly", 120)
        restarted = len(log.read_text(errors="replace"))
        _wait_for(log, "Instance is configured with the following daemons", 180, since=restarted)

        time.sleep(rng.uniform(5, 20))
        _kill_one(f"spark.connect.grpc.binding.port={port}", "Spark Connect server")
        _wait_for(log, "Spark Connect server on port", 60)

        time.sleep(rng.uniform(0, 10))
        _kill_a_publish(admin, pg_schema, 300)

        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
        expected = _expected_outcomes(kinds, good_files)
        warehouse = sa.create_engine(pg_url(pg_schema))
        truth = _landed_truth(generated)
        deadline = landed + SETTLE_SECONDS
        while True:
            state = _settled(instance, warehouse, expected, truth)
            if state is None:
                break
            assert time.monotonic() < deadline, f"not settled after {SETTLE_SECONDS}s: {state}\n{log.read_text()[-3000:]}"
            time.sleep(5)
    finally:
        _stop(dev, port, home)
        admin.dispose()

    _assert_outcomes(instance, warehouse, kinds, good_files, home, spark, monkeypatch, env)


def _expected_outcomes(kinds, good_files: list[str]) -> dict[str, set[str]]:
    by = {o: {n for k in kinds if k.outcome == o for n in k.files} for o in ("rows", "failed", "refused", "duplicate")}
    by["rows"] |= set(good_files)
    return by


def _landed_truth(generated) -> pd.DataFrame:
    import json

    last_day = dt.date.fromisoformat(json.loads((generated.truth / "manifest.json").read_text())["last_landed_date"])
    oracle = pd.read_parquet(generated.truth / "oracle.parquet")
    return oracle[oracle["date"] <= last_day][["store_id", "product_id", "date", "quantity"]]


def _ingested(instance: dg.DagsterInstance) -> set[str]:
    done = set()
    for partitions, asset in ((sales_files, "ingestion_log"), (inventory_files, "raw_inventory")):
        keys = instance.get_dynamic_partitions(partitions.name)
        done |= {
            key for key in keys
            if instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]),
                                               limit=1).records
        }
    return done


def _settled(instance, warehouse, expected, truth) -> str | None:
    """None once every file has its outcome, no run is left to do and fact_sales_daily equals the truth."""
    missing = expected["rows"] - _ingested(instance)
    if missing:
        return f"{len(missing)} files not ingested yet, e.g. {sorted(missing)[:3]}"
    for name in expected["failed"]:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": name}), limit=1)
        if not runs or runs[0].dagster_run.status != dg.DagsterRunStatus.FAILURE:
            return f"{name} has not failed yet"
    if busy := _unfinished_runs(instance):
        return f"runs still to finish: {[r.dagster_run.job_name for r in busy]}"
    if not sa.inspect(warehouse).has_table("fact_sales_daily"):
        return "no fact_sales_daily yet"
    with warehouse.connect() as conn:
        daily = pd.read_sql("SELECT store_id, product_id, date, quantity FROM fact_sales_daily", conn)
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    merged = truth.merge(daily, on=["store_id", "product_id", "date"], how="left", suffixes=("_truth", ""))
    off = merged[merged["quantity"].fillna(0) != merged["quantity_truth"]]
    return f"{len(off)} good days differ from the truth" if len(off) else None


def _assert_outcomes(instance, warehouse, kinds, good_files, home, spark, monkeypatch, env) -> None:
    from nexgen_assets.resources import build_resources

    expected = _expected_outcomes(kinds, good_files)
    partitions = set(instance.get_dynamic_partitions(sales_files.name)) | set(
        instance.get_dynamic_partitions(inventory_files.name)
    )
    assert partitions == expected["rows"] | expected["failed"], "refused and duplicate files never become partitions"
    for kind in (k for k in kinds if k.outcome == "failed"):
        (name,) = kind.files
        run = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": name}), limit=1)[0].dagster_run
        failure = run_failure(instance, run.run_id)
        assert failure.file_at_fault and name in failure.line and kind.message in failure.line, (kind.kind, failure)

    with warehouse.connect() as conn:
        ingestion_log = pd.read_sql("SELECT * FROM ingestion_log", conn)
        rejects = pd.read_sql("SELECT source_file, reason FROM sales_rejects", conn)
    assert ingestion_log["source_file"].is_unique
    assert set(ingestion_log["source_file"]) == {n for n in expected["rows"] if not n.startswith("inventory_")}
    assert (ingestion_log["rows_read"] == ingestion_log["rows_accepted"] + ingestion_log["rows_rejected"]).all()
    counted = rejects.groupby("source_file").size().reindex(ingestion_log["source_file"], fill_value=0)
    assert (counted.to_numpy() == ingestion_log["rows_rejected"].to_numpy()).all(), "each reject is kept once"

    for key, value in env.items():
        if key.startswith("NEXGEN_"):
            monkeypatch.setenv(key, value)
    lake = build_resources(home)["lake"]
    clean = lake.read(spark, "clean_sales").toPandas()
    per_file = clean.groupby("source_file").size()
    accepted = ingestion_log.set_index("source_file")["rows_accepted"]
    assert per_file.reindex(accepted.index, fill_value=0).equals(accepted.astype(per_file.dtype)), "lake rows once"
    inventory, inventory_rejects = lake.read(spark, "raw_inventory").toPandas(), lake.read(spark, "inventory_rejects").toPandas()
    for kind in (k for k in kinds if k.outcome == "rows"):
        names = list(kind.files)
        if names[0].startswith("inventory_"):
            got = int(inventory["source_file"].isin(names).sum())
            reasons = inventory_rejects[inventory_rejects["source_file"].isin(names)]["reason"].value_counts()
        else:
            got = int(accepted[names].sum())
            reasons = rejects[rejects["source_file"].isin(names)]["reason"].value_counts()
        assert (got, reasons.to_dict()) == (kind.accepted, kind.reasons), kind.kind
    for table in ("raw_sales", "clean_sales", "sales_rejects"):
        frame = lake.read(spark, table).toPandas().astype(str)
        assert not frame.apply(lambda c: c.str.contains(LEAK_MARKER)).any().any(), table
    assert _unfinished_runs(instance) == []


def _stop(dev: subprocess.Popen, port: int, home: Path) -> None:
    os.killpg(dev.pid, signal.SIGTERM)
    try:
        dev.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(dev.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while process_group(dev.pid) and time.monotonic() < deadline:
        time.sleep(1)
    left = process_group(dev.pid)
    if left:
        os.killpg(dev.pid, signal.SIGKILL)
    assert left == [], "nexgen dev left a process running (webserver, daemon or a code server) after SIGTERM"
    deadline = time.monotonic() + 30
    while spark_connect.is_listening(port) and time.monotonic() < deadline:
        time.sleep(1)
    for pid in _processes(f"spark.connect.grpc.binding.port={port}"):
        os.kill(pid, signal.SIGKILL)
