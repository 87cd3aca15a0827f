"""Seconds from a file landing to the refreshed warehouse, under the real Dagster daemon.

    python bench/latency.py [--stores 5 --products 20 --days 400 --drops 3] [--spark-connect]

Builds a NEXGEN_HOME from generated data with `nexgen run`, starts `dagster dev`
(webserver + daemon: landing sensor, automation sensor), then lands one small sales
file at a time and times how long until fact_sales_daily and fact_forecast reflect it.
Prints every drop and the median. With --spark-connect, Spark runs as one long-lived
Spark Connect server (as `make dev` does) instead of a driver started by every run.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nexgen_assets import spark_connect  # noqa: E402
from nexgen_assets.settings import Settings  # noqa: E402


def _state(engine, day: str) -> tuple[int, float]:
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT COUNT(DISTINCT forecast_run_id) FROM fact_forecast")).scalar_one()
        quantity = conn.execute(
            sa.text("SELECT quantity FROM fact_sales_daily WHERE store_id='S001' AND product_id='P00001' AND date=:d"),
            {"d": day},
        ).scalar()
    return int(runs), float(quantity or 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=5)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--drops", type=int, default=3)
    parser.add_argument("--interval", type=int, default=Settings.from_env({}).landing_interval_seconds,
                        help="landing sensor interval in seconds (default: the product's default)")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--spark-connect", action="store_true",
                        help="run Spark as one long-lived Spark Connect server instead of a driver per run")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="nexgen-latency-"))
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env.update(NEXGEN_HOME=str(home), DAGSTER_HOME=str(root / "dagster_home"),
               NEXGEN_LANDING_INTERVAL_SECONDS=str(args.interval))
    if args.spark_connect:
        env["NEXGEN_SPARK_MASTER"] = spark_connect.start(root / "spark", port=spark_connect.spare_port())
        env.update(spark_connect.running_server(root / "spark").client_environment)
        print(f"Spark Connect server at {env['NEXGEN_SPARK_MASTER']}")
    nexgen = [sys.executable, "-m", "nexgen_assets.cli"]
    subprocess.run([*nexgen, "generate", "--out", str(home), "--stores", str(args.stores), "--products",
                    str(args.products), "--days", str(args.days)], env=env, check=True, cwd=REPO)
    started = time.perf_counter()
    subprocess.run([*nexgen, "run", "--home", str(home)], env=env, check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"initial materialization: {time.perf_counter() - started:.0f}s")
    day = json.loads((home / "truth" / "manifest.json").read_text())["last_landed_date"]
    engine = sa.create_engine(f"sqlite:///{home / 'warehouse' / 'nexgen.db'}")

    ui_port = str(spark_connect.spare_port())
    server = subprocess.Popen([sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", ui_port],
                              env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    to_sales, to_forecast = [], []
    try:
        time.sleep(30)
        for drop in range(1, args.drops + 1):
            runs0, quantity0 = _state(engine, day)
            name = f"sales_latency_{drop}.csv"
            staging = home / "incoming" / f".{name}.tmp"
            staging.write_text("order_id,order_ts,store_id,product_id,quantity,unit_price\n"
                               f"LAT{drop},{day}T20:00:00,S001,P00001,{100 + drop},1.0\n")
            landed = time.perf_counter()
            staging.rename(home / "incoming" / name)
            sales_at = forecast_at = None
            while time.perf_counter() - landed < args.timeout and (sales_at is None or forecast_at is None):
                runs, quantity = _state(engine, day)
                now = time.perf_counter() - landed
                if sales_at is None and quantity == quantity0 + 100 + drop:
                    sales_at = now
                if forecast_at is None and runs > runs0:
                    forecast_at = now
                time.sleep(1)
            print(f"drop {drop}: fact_sales_daily after {sales_at:.1f}s, fact_forecast after {forecast_at:.1f}s"
                  if sales_at and forecast_at else f"drop {drop}: timed out ({sales_at}, {forecast_at})")
            if sales_at and forecast_at:
                to_sales.append(sales_at)
                to_forecast.append(forecast_at)
            time.sleep(20)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        if args.spark_connect:
            spark_connect.stop(root / "spark")
    if to_sales:
        print(f"median of {len(to_sales)}: landing -> fact_sales_daily {statistics.median(to_sales):.1f}s, "
              f"landing -> fact_forecast {statistics.median(to_forecast):.1f}s (sensor interval {args.interval}s)")


if __name__ == "__main__":
    main()
