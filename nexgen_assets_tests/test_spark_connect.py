"""A real Spark Connect server: fenced in (loopback, token, clean environment, dies with its parent), used for Pandera checks
and for frames collected to pandas and saved as Parquet (as models and tables are).

Clients run in their own processes: a Spark Connect client switches pyspark into connect
mode for the whole process, which the suite's local session must not share. Two servers
start, since each costs a JVM: one in this process (found again, then stopped) and one
started by a child process that stands in for `nexgen dev` with secrets in its environment.
The tests on the second share it; the last of them kills its parent.
"""

import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from nexgen_assets import spark_connect
from nexgen_assets.spark_connect import TOKEN_VARIABLE

CLIENT = """
import json, os, sys, tempfile
import pandas as pd
from pyspark.sql import SparkSession
from nexgen_assets.lib.storage.collect import collect_pandas
from nexgen_assets.lib.quality.spark_checks import validate_spark_table
from nexgen_assets.lib.quality.schemas import DailySalesSchema
from nexgen_assets_tests.lib.quality.test_spark_checks import COLUMNS, _row

session = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
good = validate_spark_table(DailySalesSchema, session.createDataFrame([_row(1, 3.0), _row(2, 0.0)], COLUMNS), "t")
bad = validate_spark_table(
    DailySalesSchema, session.createDataFrame([_row(1, -4.0), _row(2, -1.0), _row(3, 2.0)], COLUMNS), "t"
)
collected = collect_pandas(session.createDataFrame([_row(1, 3.0)], COLUMNS))
with tempfile.TemporaryDirectory() as folder:
    collected.to_parquet(os.path.join(folder, "saved.parquet"), index=False)
    saved = len(pd.read_parquet(os.path.join(folder, "saved.parquet")))
print(json.dumps({"remote": type(session).__module__, "good": good.passed, "bad": bad.passed,
                  "errors": {e["column"]: e["failing_rows"] for e in bad.errors},
                  "collected_attrs": list(collected.attrs), "saved_rows": saved}))
"""

PARENT = """
import json, sys, time
from pathlib import Path
from nexgen_assets import spark_connect

state = Path(sys.argv[1])
url = spark_connect.start(state, port=int(sys.argv[2]), master="local[1]")
server = spark_connect.running_server(state)
print(json.dumps({"url": url, "pid": server.process.pid, "token": server.token}), flush=True)
time.sleep(3600)
"""

PARENT_SECRETS = {
    "NEXGEN_WAREHOUSE_URL": "postgresql://etl:warehouse-pw-1@db/nexgen",
    "NEXGEN_SOURCE_DB_URL": "mssql+pyodbc://etl:source-pw-2@erp/orders",
    "SPARK_HISTORY_SECRET": "spark-secret-3",
    "DEPLOY_API_TOKEN": "deploy-token-4",
}

reads_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")


@dataclass
class ChildsServer:
    parent: subprocess.Popen
    url: str
    pid: int
    token: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def _stopped(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def _stopped_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _stopped(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _listening_sockets(pid: int) -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """(address, port) of every TCP socket pid listens on, from /proc; IPv4-mapped IPv6 is read as IPv4."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    sockets = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state, inode = row.split()[1], row.split()[3], row.split()[9]
            if state != "0A" or inode not in inodes:
                continue
            hex_address, hex_port = local.split(":")
            raw = bytes.fromhex(hex_address)
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            address = ipaddress.ip_address(packed)
            sockets.append((getattr(address, "ipv4_mapped", None) or address, int(hex_port, 16)))
    return sockets


def _client(url: str, token: str | None) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != TOKEN_VARIABLE}
    if token is not None:
        env[TOKEN_VARIABLE] = token
    return subprocess.run([sys.executable, "-c", CLIENT, url], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def childs_server(tmp_path_factory):
    """A server started by a child process whose environment holds database URLs and other secrets."""
    state = tmp_path_factory.mktemp("child") / "spark"
    env = {**{k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}, **PARENT_SECRETS}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(state), str(spark_connect.spare_port())],
                              env=env, stdout=subprocess.PIPE, text=True)
    server = None
    try:
        started = parent.stdout.readline()
        assert started, "the child did not start a server"
        fields = json.loads(started)
        server = ChildsServer(parent, fields["url"], fields["pid"], fields["token"],
                              state / "logs" / "spark-connect-server.out")
        yield server
    finally:
        parent.kill()
        parent.wait()
        if server is not None:
            _stopped_within(server.pid, 60)


def test_the_server_environment_is_an_allow_list_plus_the_token():
    parent = {"PATH": "/usr/bin", "HOME": "/home/etl", "JAVA_HOME": "/opt/jdk", "LC_ALL": "C.UTF-8",
              "SPARK_CONF_DIR": "/etc/spark", "NEXGEN_SPARK_DRIVER_MEMORY": "2g", "NEXGEN_HOME": "/srv/nexgen",
              "SPARK_REMOTE": "sc://elsewhere", "AWS_SECRET_ACCESS_KEY": "k", TOKEN_VARIABLE: "old", **PARENT_SECRETS}
    env = spark_connect.server_environment("fresh", parent)
    assert {"PATH", "HOME", "JAVA_HOME", "LC_ALL", "SPARK_CONF_DIR", "NEXGEN_SPARK_DRIVER_MEMORY"} <= set(env)
    assert not {"NEXGEN_HOME", "SPARK_REMOTE", "AWS_SECRET_ACCESS_KEY", *PARENT_SECRETS} & set(env)
    assert env[TOKEN_VARIABLE] == "fresh" and env["PYSPARK_PYTHON"] == sys.executable


@pytest.mark.parametrize(("bind", "dial"), [("127.0.0.1", "localhost"), ("0.0.0.0", "localhost"), ("::", "localhost"),
                                            ("10.1.2.3", "10.1.2.3")])
def test_local_clients_dial_localhost_unless_the_server_binds_one_other_address(bind, dial):
    assert spark_connect.client_host(bind) == dial


def test_a_port_already_taken_is_reported_not_mistaken_for_the_server(tmp_path):
    port = spark_connect.spare_port()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", port))
        taken.listen()
        with pytest.raises(RuntimeError, match=f"port {port} is taken by another program"):
            spark_connect.start(tmp_path / "spark", port=port, master="local[1]")


def test_a_second_start_finds_the_running_server_and_stop_ends_it(tmp_path):
    port = spark_connect.spare_port()
    state = tmp_path / "spark"
    url = spark_connect.start(state, port=port, master="local[1]")
    server = spark_connect.running_server(state)
    try:
        assert url == f"sc://localhost:{port}" and spark_connect.is_listening(port)
        assert spark_connect.start(state, port=port) == url and spark_connect.running_server(state) is server
        assert server.token not in repr(server)
    finally:
        spark_connect.stop(state)
    assert server.process.poll() is not None and server.watchdog.poll() is not None
    assert not spark_connect.is_listening(port) and spark_connect.running_server(state) is None
    assert "Spark Connect server started" in (state / "logs" / "spark-connect-server.out").read_text()


def test_only_a_client_holding_the_token_gets_in(childs_server):
    for token in (None, "not-" + childs_server.token):
        refused = _client(childs_server.url, token)
        assert refused.returncode != 0 and "UNAUTHENTICATED" in refused.stderr, refused.stderr[-3000:]
    result = _client(childs_server.url, childs_server.token)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["remote"].startswith("pyspark.sql.connect")
    assert outcome["good"] is True and outcome["bad"] is False
    assert outcome["errors"]["stock_on_hand"] == 2
    assert outcome["collected_attrs"] == [] and outcome["saved_rows"] == 1


@reads_proc
def test_the_server_listens_on_loopback_only(childs_server):
    sockets = _listening_sockets(childs_server.pid)
    assert childs_server.port in {port for _, port in sockets}
    assert all(address.is_loopback for address, _ in sockets), sockets


@reads_proc
def test_no_secret_of_the_parent_reaches_the_server_and_its_token_stays_off_its_command_line(childs_server):
    entries = Path(f"/proc/{childs_server.pid}/environ").read_text(errors="replace").split("\0")
    environ = dict(entry.split("=", 1) for entry in entries if "=" in entry)
    assert not set(PARENT_SECRETS) & set(environ)
    assert not [value for value in environ.values() if any(secret in value for secret in PARENT_SECRETS.values())]
    assert environ[TOKEN_VARIABLE] == childs_server.token, "the token reaches the server by its environment"
    assert childs_server.token not in Path(f"/proc/{childs_server.pid}/cmdline").read_text(errors="replace")
    assert childs_server.token not in childs_server.log.read_text(errors="replace")


@reads_proc
def test_the_server_stops_when_its_parent_is_killed(childs_server):
    """Last of the tests on the child's server: it ends it."""
    childs_server.parent.send_signal(signal.SIGKILL)
    childs_server.parent.wait()
    assert _stopped_within(childs_server.pid, 45), "the server outlived its killed parent"
    deadline = time.monotonic() + 30
    while spark_connect.is_listening(childs_server.port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not spark_connect.is_listening(childs_server.port), "the JVM's last threads closed the port"


RESTARTED = """
import os, sys, time
from pathlib import Path
from nexgen_assets import spark_connect
from nexgen_assets.resources.spark import SESSION_CHECK_INTERVAL_S, NexgenSparkResource, spark_config
from nexgen_assets.settings import Settings

state, port = Path(sys.argv[1]), int(sys.argv[2])
url = spark_connect.start(state, port=port, master="local[1]")
token = spark_connect.running_server(state).token
os.environ[spark_connect.TOKEN_VARIABLE] = token
resource = NexgenSparkResource(spark_config=spark_config(Settings.from_env({}), url))
resource.setup_for_execution(None)
first = resource.spark_session
print("before", first.range(3).count())
spark_connect.running_server(state).process.kill()
spark_connect.running_server(state) is None or time.sleep(1)
spark_connect.start(state, port=port, master="local[1]", token=token)
time.sleep(SESSION_CHECK_INTERVAL_S + 0.5)
second = resource.spark_session
print("after", second.range(4).count(), "new session" if second is not first else "same session")
second.stop()
spark_connect.stop(state)
"""


def test_after_its_server_is_started_again_with_the_same_token_the_resource_hands_out_a_new_session(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", RESTARTED, str(tmp_path / "spark"), str(spark_connect.spare_port())],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "before 3" in done.stdout and "after 4 new session" in done.stdout, done.stdout
