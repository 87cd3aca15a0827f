"""`nexgen run` killed (SIGKILL) at seeded random points during a burst of files, then run again.

Whatever was interrupted (a Spark write, a warehouse publish, a run holding the warehouse
pool's slot), the pass after the restart must count every file exactly once.
"""

import datetime as dt
import json
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

from nexgen_assets.demo.generator import GeneratorConfig, generate

REPO = Path(__file__).resolve().parents[1]
BURST = 12
HISTORY = GeneratorConfig(
    stores=1, products=2, days=110, holdout_days=7, seed=3, start=dt.date(2024, 9, 1), defect_rate=0.0, formats=("csv",)
)


def _nexgen_run(home: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nexgen_assets.cli", "run", "--home", str(home)],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True,
    )


def test_a_pass_killed_at_random_points_counts_every_file_once_after_restart(tmp_path):
    generated = generate(tmp_path / "generated", HISTORY)
    home = tmp_path / "home"
    incoming = home / "incoming"
    incoming.mkdir(parents=True)
    for path in generated.incoming.iterdir():
        (incoming / path.name).write_bytes(path.read_bytes())
    last_day = json.loads((generated.truth / "manifest.json").read_text())["last_landed_date"]
    burst_units = {}
    for i in range(BURST):
        units = i + 1
        (incoming / f"sales_burst_{i:02d}.csv").write_text(
            "order_id,order_ts,store_id,product_id,quantity,unit_price\n"
            f"BURST{i},{last_day}T20:00:00,S001,P00001,{units},1.0\n"
        )
        burst_units[f"sales_burst_{i:02d}.csv"] = units
    past = time.time() - 60
    for path in incoming.iterdir():
        os.utime(path, (past, past))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env.update(NEXGEN_SPARK_MASTER="local[1]", DAGSTER_HOME=str(home / "dagster_home"))

    rng = random.Random(20261124)
    kills = [rng.uniform(15, 35), rng.uniform(30, 70)]
    for delay in kills:
        run = _nexgen_run(home, env)
        time.sleep(delay)
        assert run.poll() is None, f"the pass ended before the kill at {delay:.0f}s: {run.stdout.read()[-2000:]}"
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()

    final = subprocess.run(
        [sys.executable, "-m", "nexgen_assets.cli", "run", "--home", str(home)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
    )

    assert final.returncode == 0, f"kills at {kills}: {final.stdout[-2000:]}{final.stderr[-3000:]}"
    engine = sa.create_engine(f"sqlite:///{home / 'warehouse' / 'nexgen.db'}")
    with engine.connect() as conn:
        log = pd.read_sql("SELECT source_file, rows_accepted FROM ingestion_log", conn)
        daily = pd.read_sql("SELECT store_id, product_id, date, quantity FROM fact_sales_daily", conn)
    sales_files = sorted(p.name for p in incoming.iterdir() if p.name.startswith("sales_"))
    assert sorted(log["source_file"]) == sales_files, "one ingestion_log row per file, none twice"
    burst_log = log[log["source_file"].isin(list(burst_units))]
    assert (burst_log["rows_accepted"] == 1).all()

    oracle = pd.read_parquet(generated.truth / "oracle.parquet")
    landed = oracle[oracle["date"] <= dt.date.fromisoformat(last_day)]
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    merged = landed.merge(daily, on=["store_id", "product_id", "date"], how="left", suffixes=("_truth", ""))
    merged["quantity"] = merged["quantity"].fillna(0)
    last = (merged["date"] == dt.date.fromisoformat(last_day)) & (merged["product_id"] == "P00001")
    assert (merged.loc[~last, "quantity"] == merged.loc[~last, "quantity_truth"]).all()
    assert merged.loc[last, "quantity"].item() == merged.loc[last, "quantity_truth"].item() + sum(burst_units.values())

    instance = dg.DagsterInstance.from_config(str(home / "dagster_home"))
    stuck = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    assert stuck == [], "no run is left in progress by the killed passes"
