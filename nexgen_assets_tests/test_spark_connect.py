"""A real Spark Connect server: started, used for Pandera checks that must pass and fail, stopped.

The client runs in its own process: a Spark Connect client switches pyspark into connect
mode for the whole process, which the suite's local session must not share.
"""

import json
import socket
import subprocess
import sys

import pytest

from nexgen_assets import spark_connect

CLIENT = """
import json, sys
from pyspark.sql import SparkSession
from nexgen_assets.lib.quality.spark_checks import validate_spark_table
from nexgen_assets.lib.quality.schemas import DailySalesSchema
from nexgen_assets_tests.lib.quality.test_spark_checks import COLUMNS, _row

session = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
good = validate_spark_table(DailySalesSchema, session.createDataFrame([_row(1, 3.0), _row(2, 0.0)], COLUMNS), "t")
bad = validate_spark_table(
    DailySalesSchema, session.createDataFrame([_row(1, -4.0), _row(2, -1.0), _row(3, 2.0)], COLUMNS), "t"
)
print(json.dumps({"remote": type(session).__module__, "good": good.passed, "bad": bad.passed,
                  "errors": {e["column"]: e["failing_rows"] for e in bad.errors}}))
"""


def test_quality_checks_run_over_a_spark_connect_server(tmp_path):
    port = spark_connect.spare_port()
    state = tmp_path / "spark"
    url = spark_connect.start(state, port=port, master="local[1]")
    try:
        assert url == f"sc://localhost:{port}" and spark_connect.is_listening(port)
        assert spark_connect.start(state, port=port) == url, "a second start finds the running server"
        result = subprocess.run([sys.executable, "-c", CLIENT, url], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["remote"].startswith("pyspark.sql.connect")
        assert outcome["good"] is True and outcome["bad"] is False
        assert outcome["errors"]["stock_on_hand"] == 2
    finally:
        spark_connect.stop(state)
    assert (state / "logs").is_dir()


def test_a_port_already_taken_is_reported_not_mistaken_for_the_server(tmp_path):
    port = spark_connect.spare_port()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", port))
        taken.listen()
        with pytest.raises(RuntimeError, match=f"port {port} is taken by another program"):
            spark_connect.start(tmp_path / "spark", port=port, master="local[1]")
