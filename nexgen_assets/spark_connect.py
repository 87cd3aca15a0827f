"""A long-lived local Spark Connect server, so runs skip starting a JVM of their own.

Each Dagster run is a new process; in local mode it starts its own Spark driver (a JVM)
and pays for a cold start on every landed file. With this server running, runs point
NEXGEN_SPARK_MASTER at sc://localhost:<port> and reuse one warm driver. The server is
Spark's own (SparkConnectServer through bin/spark-submit from the pyspark package).

Whoever reaches the server runs code as the platform user, so it is fenced in:
- it binds 127.0.0.1 unless NEXGEN_SPARK_CONNECT_HOST chooses another address; with a
  local master, the driver's own RPC and block manager ports stay on 127.0.0.1 regardless;
- it admits only clients with a random token made for each start. The token travels in
  SPARK_CONNECT_AUTHENTICATE_TOKEN, the variable both Spark's server and pyspark's client
  read, never on a command line (visible in `ps`) and never in the sc:// URL;
- its environment is an allow-list of the parent's, so database URLs and other secrets stay out;
- it runs in the foreground as a child, and a watchdog stops it when the parent dies, even by SIGKILL.
Its log is $NEXGEN_HOME/spark/logs/spark-connect-server.out.
"""

import dataclasses
import ipaddress
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from nexgen_assets.resources import spark_config
from nexgen_assets.settings import Settings, current

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
TOKEN_VARIABLE = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
LOOPBACK = "127.0.0.1"

SERVER_SETTINGS = (
    "spark.sql.session.timeZone",
    "spark.driver.memory",
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.enabled",
    "spark.sql.execution.arrow.pyspark.enabled",
    "spark.sql.sources.partitionOverwriteMode",
    "spark.ui.enabled",
)

PASSED_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "JAVA_HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV",
    "HADOOP_HOME", "HADOOP_CONF_DIR", "YARN_CONF_DIR",
})
PASSED_PREFIXES = ("LC_", "SPARK_", "PYSPARK_")
SPARK_SETTING_VARIABLES = frozenset(
    spec.metadata["variable"] for spec in dataclasses.fields(Settings) if spec.name.startswith("spark_")
)
SECRET_MARKERS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL")
CLIENT_MODE_VARIABLES = frozenset({"SPARK_REMOTE", "SPARK_LOCAL_REMOTE", "SPARK_CONNECT_MODE_ENABLED"})

WATCHDOG = """
import os, signal, sys, time

parent, server = int(sys.argv[1]), int(sys.argv[2])


def running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def send(sig):
    try:
        os.kill(server, sig)
    except ProcessLookupError:
        pass


while os.getppid() == parent and running(server):
    time.sleep(0.5)
if running(server):
    send(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while running(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    if running(server):
        send(signal.SIGKILL)
"""


@dataclass
class SparkConnectServer:
    """A server this process started: its URL, the token clients need, its JVM and the watchdog that ends it."""

    url: str
    token: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    watchdog: subprocess.Popen = field(repr=False)

    @property
    def client_environment(self) -> dict[str, str]:
        """What a client process needs in its environment to be let in (pyspark reads the token from it)."""
        return {TOKEN_VARIABLE: self.token}


_servers: dict[Path, SparkConnectServer] = {}


def _spark_home() -> Path:
    return Path(pyspark.__file__).resolve().parent


def _passed_on(name: str) -> bool:
    if name in CLIENT_MODE_VARIABLES or any(marker in name.upper() for marker in SECRET_MARKERS):
        return False
    return name in PASSED_VARIABLES or name in SPARK_SETTING_VARIABLES or name.startswith(PASSED_PREFIXES)


def server_environment(token: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the allowed part of the parent's (no database URL, no secret) plus its token."""
    environ = os.environ if environ is None else environ
    env = {name: value for name, value in environ.items() if _passed_on(name)}
    env.update(SPARK_HOME=str(_spark_home()), PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", sys.executable))
    env[TOKEN_VARIABLE] = token
    return env


def client_host(bind_host: str) -> str:
    """The host a client on this machine dials: localhost (the only host pyspark sends a token to without TLS),
    unless the server is bound to one non-loopback address."""
    try:
        address = ipaddress.ip_address(bind_host)
    except ValueError:
        return "localhost" if bind_host == "localhost" else bind_host
    return "localhost" if address.is_loopback or address.is_unspecified else bind_host


def is_listening(port: int, host: str = "localhost") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def spare_port() -> int:
    """A free port below the OS's ephemeral range, so no port Spark itself picks can take it first."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        if not is_listening(port):
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def running_server(state_dir: Path) -> SparkConnectServer | None:
    """The server this process started with this state folder, if it still runs."""
    server = _servers.get(Path(state_dir).resolve())
    return server if server is not None and server.process.poll() is None else None


def start(state_dir: Path, port: int, master: str = "local[*]", host: str = LOOPBACK, timeout: float = 90,
          token: str | None = None) -> str:
    """Start the server bound to host:port (or find the one this process runs for this state folder); return its URL.

    Clients also need `running_server(state_dir).client_environment`. Success is read from
    the server's log, not from the port alone: another program on the port, or a bind
    failure, is reported instead of being mistaken for the server. A restart passes the
    token its clients already hold; otherwise a new random one is made. The previous
    start's log is kept beside the new one (`.out.1`).
    """
    state_dir = Path(state_dir).resolve()
    if (server := running_server(state_dir)) is not None:
        return server.url
    stop(state_dir)
    dial = client_host(host)
    if is_listening(port, dial):
        raise RuntimeError(f"port {port} is taken by another program: set NEXGEN_SPARK_CONNECT_PORT to a free one")
    token = token or secrets.token_urlsafe(32)
    settings = spark_config(current(), master)
    command = [str(_spark_home() / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--name", "Spark Connect server",
               "--master", master, "--conf", f"spark.connect.grpc.binding.address={host}",
               "--conf", f"spark.connect.grpc.binding.port={port}"]
    for key in SERVER_SETTINGS:
        command += ["--conf", f"{key}={settings[key]}"]
    if master.startswith("local"):
        command += ["--conf", f"spark.driver.bindAddress={LOOPBACK}", "--conf", f"spark.driver.host={LOOPBACK}"]
    log_path = state_dir / "logs" / "spark-connect-server.out"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists():
        log_path.replace(log_path.with_name(log_path.name + ".1"))
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=server_environment(token), stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(os.getpid()), str(process.pid)],
                                env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    server = SparkConnectServer(url=f"sc://{dial}:{port}", token=token, process=process, watchdog=watchdog)
    _servers[state_dir] = server
    deadline = time.monotonic() + timeout
    while True:
        log_text = log_path.read_text(errors="replace")
        if "Error starting Spark Connect server" in log_text or process.poll() is not None:
            stop(state_dir)
            reason = next((line for line in log_text.splitlines() if "Exception" in line), "see the log")
            raise RuntimeError(f"Spark Connect server failed on port {port}: {reason.strip()} (log: {log_path})")
        if "Spark Connect server started" in log_text and is_listening(port, dial):
            return server.url
        if time.monotonic() > deadline:
            stop(state_dir)
            raise RuntimeError(f"Spark Connect server not started on port {port} after {timeout:.0f}s; log: {log_path}")
        time.sleep(0.5)


def stop(state_dir: Path, timeout: float = 30) -> None:
    """Stop the server this process started with the same state folder (nothing happens if none runs)."""
    server = _servers.pop(Path(state_dir).resolve(), None)
    if server is None:
        return
    for process in (server.process, server.watchdog):
        process.terminate()
    for process in (server.process, server.watchdog):
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
