"""`nexgen run` refuses a wrong set-up in seconds, with one line that names what to fix."""

import os
import subprocess
import sys
from pathlib import Path

from nexgen_assets import preflight
from nexgen_assets.settings import Settings
from nexgen_assets_tests.conftest import land

REAL_WAREHOUSE = "postgresql://postgres@127.0.0.1:5432/test"


def _settings(home: Path, **environ) -> Settings:
    return Settings.from_env({"NEXGEN_HOME": str(home), **environ})


def test_an_empty_home_says_where_files_go_and_how_to_make_demo_data(tmp_path):
    problem = preflight.check_home(_settings(tmp_path))
    assert f"no sales files in {tmp_path / 'incoming'}" in problem
    assert f"nexgen generate --home {tmp_path}" in problem

    (tmp_path / "incoming").mkdir()
    land(tmp_path / "incoming", "sales_a.csv", "order_id,order_ts,product_id,quantity,unit_price\nA,2025-01-01,P,1,1\n")
    assert preflight.check_home(_settings(tmp_path)) is None


def test_database_urls_are_parsed_their_driver_found_and_their_server_pinged(tmp_path):
    variable = "NEXGEN_WAREHOUSE_URL"
    assert "is not a database URL" in preflight.check_database(variable, "warehouse on the NAS")
    assert "no dialect 'nosuchdb'" in preflight.check_database(variable, "nosuchdb://u:pw@host/db")
    missing = preflight.check_database(variable, "oracle+cx_oracle://u:pw@db.example:1521/sales")
    assert missing.startswith(f"{variable} (db.example, driver oracle+cx_oracle)") and "'cx_Oracle' is not installed" in missing

    unreachable = preflight.check_database(variable, "postgresql://nexgen:s3cret@127.0.0.1:1/warehouse")
    assert unreachable.startswith(f"{variable} (127.0.0.1, driver postgresql+psycopg2): cannot connect to")
    assert "nexgen:***@127.0.0.1:1/warehouse" in unreachable and "s3cret" not in unreachable
    assert "\n" not in unreachable

    assert preflight.check_database(variable, REAL_WAREHOUSE) is None
    assert preflight.check_database(variable, f"sqlite:///{tmp_path / 'w.db'}") is None
    assert preflight.check_database(variable, None) is None


def test_java_must_be_17_or_newer_unless_spark_is_remote(tmp_path):
    assert preflight.check_java(_settings(tmp_path)) is None
    old_java = tmp_path / "bin" / "java"
    old_java.parent.mkdir()
    old_java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    old_java.chmod(0o755)
    assert preflight.java_version(str(old_java)) == 8

    path = os.environ["PATH"]
    try:
        os.environ["PATH"] = str(old_java.parent)
        assert f"{old_java} is Java 8" in preflight.check_java(_settings(tmp_path))
        os.environ["PATH"] = str(tmp_path / "empty")
        assert "none is on PATH" in preflight.check_java(_settings(tmp_path))
        assert preflight.check_java(_settings(tmp_path, NEXGEN_SPARK_MASTER="sc://spark.example:15002")) is None
    finally:
        os.environ["PATH"] = path


def test_too_little_free_disk_is_refused_naming_the_setting(tmp_path):
    assert preflight.check_disk(_settings(tmp_path / "not" / "made" / "yet")) is None
    problem = preflight.check_disk(_settings(tmp_path, NEXGEN_MIN_FREE_DISK_GIB="1e9"))
    assert "NEXGEN_MIN_FREE_DISK_GIB" in problem and "GiB free under" in problem


def _nexgen_run(home: Path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "nexgen_assets.cli", "run", "--home", str(home)],
        capture_output=True, text=True, env=env, timeout=300,
    )


def test_nexgen_run_stops_before_any_spark_work_with_one_line_per_problem(tmp_path):
    empty = _nexgen_run(tmp_path)
    bad_url = _nexgen_run(tmp_path, NEXGEN_WAREHOUSE_URL="postgresql://nexgen:s3cret@127.0.0.1:1/warehouse")
    bad_number = _nexgen_run(tmp_path, NEXGEN_SPARK_SHUFFLE_PARTITIONS="eight")

    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr.strip().splitlines() == [
        f"nexgen run: {preflight.check_home(_settings(tmp_path))}"
    ]
    assert bad_url.returncode == 2 and "Traceback" not in bad_url.stderr and "s3cret" not in bad_url.stderr
    assert "nexgen run: NEXGEN_WAREHOUSE_URL (127.0.0.1, driver postgresql+psycopg2): cannot connect" in bad_url.stderr
    assert bad_number.returncode == 2
    assert bad_number.stderr.strip() == "nexgen run: NEXGEN_SPARK_SHUFFLE_PARTITIONS='eight': expected a whole number"
    assert not (tmp_path / "lake").exists() and not (tmp_path / "spark").exists(), "nothing was built"
