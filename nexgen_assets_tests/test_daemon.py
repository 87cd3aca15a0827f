"""The real thing: `nexgen dev` (dagster dev, its daemon and a Spark Connect server) picks up a dropped file."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from nexgen_assets import spark_connect
from nexgen_assets_tests.conftest import copy_incoming, process_group

REPO = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 420


def _snapshot(engine, store: str, product: str, day: str) -> tuple[int, float]:
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT COUNT(DISTINCT forecast_run_id) FROM fact_forecast")).scalar_one()
        quantity = conn.execute(
            sa.text("SELECT quantity FROM fact_sales_daily WHERE store_id=:s AND product_id=:p AND date=:d"),
            {"s": store, "p": product, "d": day},
        ).scalar()
    return int(runs), float(quantity or 0.0)


def test_a_dropped_file_reaches_the_warehouse_without_anyone_clicking(small_dataset, tmp_path):
    home = tmp_path / "home"
    (home / "incoming").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env.update(
        NEXGEN_HOME=str(home),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        NEXGEN_LANDING_INTERVAL_SECONDS="5",
        NEXGEN_SPARK_CONNECT_PORT=str(spark_connect.spare_port()),
    )
    copy_incoming(small_dataset, home)
    first = subprocess.run(
        [sys.executable, "-m", "nexgen_assets.cli", "run", "--home", str(home)],
        env={**env, "NEXGEN_SPARK_MASTER": "local[1]"}, capture_output=True, text=True, timeout=900, cwd=REPO,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    engine = sa.create_engine(f"sqlite:///{home / 'warehouse' / 'nexgen.db'}")
    day = json.loads((small_dataset / "truth" / "manifest.json").read_text())["last_landed_date"]
    runs_before, quantity_before = _snapshot(engine, "S001", "P00001", day)

    log = tmp_path / "nexgen_dev.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "nexgen_assets.cli", "dev", "--port", str(spark_connect.spare_port())],
        env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while "Spark Connect server at sc://localhost" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        time.sleep(20)
        dropped = home / "incoming" / "sales_late_export.csv"
        staging = home / "incoming" / ".sales_late_export.csv.tmp"
        staging.write_text(
            f"order_id,order_ts,store_id,product_id,quantity,unit_price\nLATE1,{day}T18:00:00,S001,P00001,400,1.0\n"
        )
        staging.rename(dropped)
        deadline = time.monotonic() + WAIT_SECONDS
        runs, quantity = runs_before, quantity_before
        while time.monotonic() < deadline:
            runs, quantity = _snapshot(engine, "S001", "P00001", day)
            if runs > runs_before and quantity == quantity_before + 400:
                break
            time.sleep(3)
        assert quantity == quantity_before + 400, "fact_sales_daily did not pick up the dropped file in time"
        assert runs == runs_before + 1, "fact_forecast was not refreshed in time"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        stopped_by = time.monotonic() + 60
        while process_group(server.pid) and time.monotonic() < stopped_by:
            time.sleep(1)
        left = process_group(server.pid)
        if left:
            os.killpg(server.pid, signal.SIGKILL)
        assert left == [], "nexgen dev left a process running (webserver, daemon or a code server)"
        spark_connect.stop(home / "spark")
        port, stopped_by = int(env["NEXGEN_SPARK_CONNECT_PORT"]), time.monotonic() + 30
        while spark_connect.is_listening(port) and time.monotonic() < stopped_by:
            time.sleep(1)
        assert not spark_connect.is_listening(port), "the Spark Connect server was left running"

