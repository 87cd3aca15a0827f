"""The `nexgen` command as a user runs it: a fresh process, its own Dagster home."""

import json
import os
import subprocess
import sys

import pandas as pd

from nexgen_assets.cli import build_parser


def _nexgen(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "nexgen_assets.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_generate_then_run_reports_and_fails_on_a_bad_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env["NEXGEN_SPARK_MASTER"] = "local[1]"
    generated = _nexgen(
        "generate", "--out", str(tmp_path), "--stores", "1", "--products", "2", "--days", "100",
        "--holdout-days", "7", "--start", "2025-01-01", "--formats", "csv", env=env,
    )
    assert generated.returncode == 0, generated.stderr
    assert "generated 4 sales files" in generated.stdout
    (tmp_path / "incoming" / "sales_zz_bad.csv").write_text("order_id,order_ts\nA,2025-01-01\n")

    run = _nexgen("run", "--home", str(tmp_path), "--summary", env=env)

    assert run.returncode == 1
    assert "FAILED raw_sales [sales_zz_bad.csv]" in run.stderr
    assert "sales_zz_bad.csv: line 1: missing required column(s) product_id, quantity, unit_price" in run.stderr
    assert "registered 9 new file(s), ingested 8" in run.stdout
    assert "fact_sales_daily" in run.stdout and "lake: " in run.stdout
    assert "Parquet marts, dashboard.html)" in run.stdout and "nexgen.pbids" not in run.stdout, "SQLite: no .pbids written"
    assert (tmp_path / "dagster_home").is_dir()
    shown = run.stdout.splitlines()
    assert "[9/9] sales_zz_bad.csv  FAILED raw_sales [sales_zz_bad.csv]" in run.stdout
    assert any(line.startswith("[1/9] ") and " rows, " in line and " rejected, " in line for line in shown)
    assert any(line.startswith("refresh [") and "xgboost_model done, " in line for line in shown)
    assert "DEBUG" not in run.stdout + run.stderr and "Traceback" not in run.stdout + run.stderr
    (log_file,) = (tmp_path / "logs").glob("nexgen-run-*.log")
    assert f"full log: {log_file}" in run.stderr and "STEP_SUCCESS" in log_file.read_text()


def test_generate_shop_profile_takes_only_the_options_given(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    generated = _nexgen("generate", "--profile", "shop", "--products", "20", "--out", str(tmp_path), env=env)

    assert generated.returncode == 0, generated.stderr
    assert "promotions_2024.csv" in generated.stdout and "profile shop" in generated.stdout
    config = json.loads((tmp_path / "truth" / "manifest.json").read_text())["config"]
    assert (config["stores"], config["products"], config["days"], config["holdout_days"]) == (1, 20, 393, 28)
    assert config["closed_days"] == ["new_year", "easter", "christmas"]
    oracle = pd.read_parquet(tmp_path / "truth" / "oracle.parquet")
    assert oracle["product_id"].nunique() == 20 and oracle["store_id"].nunique() == 1
    assert sorted(p.name for p in (tmp_path / "incoming").glob("sales_*")) == [f"sales_2024-{m:02d}.csv" for m in range(1, 13)]
    assert (tmp_path / "incoming" / "promotions_2024.csv").stat().st_size > 0


def test_generate_defaults_to_the_demo_profile_and_names_a_bad_option(tmp_path):
    args = build_parser().parse_args(["generate"])
    assert (args.profile, args.stores, args.products, args.days) == ("demo", None, None, None)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}

    helped = _nexgen("generate", "--help", env=env)
    assert "--profile {demo,shop}" in helped.stdout and "(default: demo 10, shop 1)" in helped.stdout
    rejected = _nexgen("generate", "--profile", "shop", "--demand-scale", "0", "--out", str(tmp_path / "out"), env=env)
    assert rejected.returncode == 2
    assert "demand_scale must be a positive number" in rejected.stderr
    assert not (tmp_path / "out").exists()


def test_version_home_everywhere_and_a_summary_that_cannot_reach_its_warehouse_fails(tmp_path):
    assert build_parser().parse_args(["generate", "--home", "x"]).out == "x"
    assert build_parser().parse_args(["generate", "--out", "y"]).out == "y"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    version = _nexgen("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("nexgen 0.")

    env["NEXGEN_WAREHOUSE_URL"] = "postgresql://nexgen:s3cret@127.0.0.1:1/warehouse"
    summary = _nexgen("summary", "--home", str(tmp_path), env=env)

    assert summary.returncode == 1
    assert "cannot reach the warehouse postgresql+psycopg2://nexgen:***@127.0.0.1:1/warehouse" in summary.stderr
    assert "s3cret" not in summary.stderr + summary.stdout
