"""The `nexgen` command as a user runs it: a fresh process, its own Dagster home."""

import os
import subprocess
import sys


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
    assert (tmp_path / "dagster_home").is_dir()
