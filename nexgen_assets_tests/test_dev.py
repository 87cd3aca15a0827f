"""`nexgen dev` under a service manager: up on loopback, and a SIGTERM stops every process it started."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from nexgen_assets_tests.conftest import process_group


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sigterm_to_nexgen_dev_stops_dagster_its_webserver_daemon_and_code_servers(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXGEN_", "DAGSTER_"))}
    dev = subprocess.Popen(
        [sys.executable, "-m", "nexgen_assets.cli", "dev", "--home", str(tmp_path), "--no-spark-connect",
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert dev.poll() is None, "nexgen dev exited before its UI came up"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "the UI never answered on 127.0.0.1"
                time.sleep(2)
        started = process_group(dev.pid)
        assert len(started) >= 4, "nexgen dev, dagster dev, the webserver and the daemon"

        dev.send_signal(signal.SIGTERM)

        assert dev.wait(timeout=120) == 0
        deadline = time.monotonic() + 60
        while process_group(dev.pid) and time.monotonic() < deadline:
            time.sleep(1)
        assert process_group(dev.pid) == [], "every process nexgen dev started has stopped"
    finally:
        if process_group(dev.pid):
            os.killpg(dev.pid, signal.SIGKILL)
