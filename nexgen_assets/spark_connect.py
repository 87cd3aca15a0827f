"""A long-lived local Spark Connect server, so runs skip starting a JVM of their own.

Each Dagster run is a new process; in local mode it starts its own Spark driver (a JVM)
and pays for a cold start on every landed file. With this server running, runs point
NEXGEN_SPARK_MASTER at sc://localhost:<port> and reuse one warm driver. The server is
Spark's own (sbin/start-connect-server.sh from the pyspark package); its logs and pid
file live under $NEXGEN_HOME/spark.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyspark

from nexgen_assets.resources import spark_config

DEFAULT_PORT = 15002
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


def url(port: int = DEFAULT_PORT) -> str:
    return f"sc://localhost:{port}"


def is_listening(port: int = DEFAULT_PORT) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(state_dir: Path, port: int = DEFAULT_PORT, master: str = "local[*]", timeout: float = 90) -> str:
    """Start the server (or find it already running) and return its sc:// URL."""
    if is_listening(port):
        return url(port)
    state_dir.mkdir(parents=True, exist_ok=True)
    settings = spark_config(master)
    command = [str(_spark_home() / "sbin" / "start-connect-server.sh"), "--master", master,
               "--conf", f"spark.connect.grpc.binding.port={port}"]
    for key in SERVER_SETTINGS:
        command += ["--conf", f"{key}={settings[key]}"]
    result = subprocess.run(command, env=_environment(state_dir), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Spark Connect server did not start: {result.stderr.strip() or result.stdout.strip()}")
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"Spark Connect server not listening on port {port} after {timeout:.0f}s; logs in {state_dir}")
        time.sleep(0.5)
    return url(port)


def stop(state_dir: Path) -> None:
    """Stop the server started with the same state folder (nothing happens if none runs)."""
    subprocess.run([str(_spark_home() / "sbin" / "stop-connect-server.sh")], env=_environment(state_dir),
                   capture_output=True, text=True)
