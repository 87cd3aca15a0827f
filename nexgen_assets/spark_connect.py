"""A long-lived local Spark Connect server, so runs skip starting a JVM of their own.

Each Dagster run is a new process; in local mode it starts its own Spark driver (a JVM)
and pays for a cold start on every landed file. With this server running, runs point
NEXGEN_SPARK_MASTER at sc://localhost:<port> and reuse one warm driver. The server is
Spark's own (sbin/start-connect-server.sh from the pyspark package); its logs and pid
file live under $NEXGEN_HOME/spark.
"""

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyspark

from nexgen_assets.resources import spark_config
from nexgen_assets.settings import current

SERVER_SETTINGS = (
    "spark.sql.session.timeZone",
    "spark.driver.memory",
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.enabled",
    "spark.sql.execution.arrow.pyspark.enabled",
    "spark.sql.sources.partitionOverwriteMode",
    "spark.ui.enabled",
)


def _spark_home() -> Path:
    return Path(pyspark.__file__).resolve().parent


def _environment(state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(_spark_home()),
        SPARK_LOG_DIR=str(state_dir / "logs"),
        SPARK_PID_DIR=str(state_dir / "pid"),
        SPARK_IDENT_STRING="nexgen",
        PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", sys.executable),
    )
    return env


def url(port: int) -> str:
    return f"sc://localhost:{port}"


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def spare_port() -> int:
    """A free port below the OS's ephemeral range, so no port Spark itself picks can take it first."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        if not is_listening(port):
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def _server_log(state_dir: Path) -> str:
    logs = sorted((state_dir / "logs").glob("*SparkConnectServer*.out"), key=lambda p: p.stat().st_mtime)
    return logs[-1].read_text(errors="replace") if logs else ""


def start(state_dir: Path, port: int, master: str = "local[*]", timeout: float = 90) -> str:
    """Start the server (or find the one this state folder already runs) and return its sc:// URL.

    Success is read from the server's log, not from the port alone: another program on
    the port, or a bind failure, is reported instead of being mistaken for the server.
    """
    if is_listening(port):
        if "Spark Connect server started" in _server_log(state_dir):
            return url(port)
        raise RuntimeError(f"port {port} is taken by another program: set NEXGEN_SPARK_CONNECT_PORT to a free one")
    state_dir.mkdir(parents=True, exist_ok=True)
    settings = spark_config(current(), master)
    command = [str(_spark_home() / "sbin" / "start-connect-server.sh"), "--master", master,
               "--conf", f"spark.connect.grpc.binding.port={port}"]
    for key in SERVER_SETTINGS:
        command += ["--conf", f"{key}={settings[key]}"]
    result = subprocess.run(command, env=_environment(state_dir), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Spark Connect server did not start: {result.stderr.strip() or result.stdout.strip()}")
    deadline = time.monotonic() + timeout
    while True:
        log = _server_log(state_dir)
        if "Error starting Spark Connect server" in log:
            stop(state_dir)
            reason = next((line for line in log.splitlines() if "Exception" in line), "see the log")
            raise RuntimeError(f"Spark Connect server failed on port {port}: {reason.strip()} (logs in {state_dir / 'logs'})")
        if "Spark Connect server started" in log and is_listening(port):
            return url(port)
        if time.monotonic() > deadline:
            raise RuntimeError(f"Spark Connect server not started on port {port} after {timeout:.0f}s; logs in {state_dir}")
        time.sleep(0.5)


def stop(state_dir: Path) -> None:
    """Stop the server started with the same state folder (nothing happens if none runs)."""
    subprocess.run([str(_spark_home() / "sbin" / "stop-connect-server.sh")], env=_environment(state_dir),
                   capture_output=True, text=True)
