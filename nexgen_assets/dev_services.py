"""`nexgen dev` keeps its services up: `dagster dev` (webserver, daemon, code server) and the Spark Connect server.

`dagster dev` stops all its services when its daemon or webserver dies, and the Spark
Connect server can die on its own (out of memory, killed). Either one is started again,
the Spark server on the same port with the same token, so the environment the runs
inherit stays valid. Runs that were in flight are failed by run monitoring and retried;
files whose runs failed are requested again by the landing sensor. Restarts that come
too close together are a crash loop: it is reported and `nexgen dev` stops.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nexgen_assets import spark_connect

STOP_TIMEOUT_S = 60
"""How long `dagster dev` gets to stop its webserver, daemon and code servers before it is killed."""

POLL_S = 2
"""How often the services are checked."""

MAX_RESTARTS = 5
RESTART_WINDOW_S = 600
"""More than MAX_RESTARTS restarts of one service within RESTART_WINDOW_S is a crash loop."""

RESTART_DELAY_S = 3


@dataclass(frozen=True)
class SparkServerSpec:
    """Where the Spark Connect server runs and the token its clients already hold."""

    state_dir: Path
    port: int
    host: str
    token: str


def default_interrupts() -> None:
    """In the child before exec: SIGINT and SIGTERM at their defaults, even if this process was started with
    them ignored (`nohup`, a shell's `&`), so `dagster dev` installs its own handlers and shuts down cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Restarts:
    """Restart times of one service; `allowed()` is False once they come too close together."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def allowed(self, now: float) -> bool:
        while self.times and now - self.times[0] > RESTART_WINDOW_S:
            self.times.popleft()
        if len(self.times) >= MAX_RESTARTS:
            return False
        self.times.append(now)
        return True


class DevServices:
    """Runs `dagster dev` (and watches the Spark Connect server) until asked to stop; restarts what dies."""

    def __init__(self, command: list[str], env: dict[str, str], spark: SparkServerSpec | None,
                 say: Callable[[str], None]) -> None:
        self.command, self.env, self.spark, self.say = command, env, spark, say
        self.stopping: list[int] = []
        self.dagster: subprocess.Popen | None = None
        self.dagster_restarts, self.spark_restarts = Restarts(), Restarts()

    def request_stop(self, signum: int, _frame=None) -> None:
        """Ctrl-C or a service manager's SIGTERM: ask `dagster dev` to shut its services down in order."""
        self.stopping.append(signum)
        if self.dagster is not None and self.dagster.poll() is None:
            self.dagster.send_signal(signal.SIGINT)

    def run(self) -> int:
        """0 when stopped on request; otherwise the exit code of the crash loop that ended it."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        while True:
            self.dagster = subprocess.Popen(self.command, env=self.env, preexec_fn=default_interrupts)
            code = self._watch()
            if self.stopping:
                return 0
            if not self.dagster_restarts.allowed(time.monotonic()):
                self.say(f"dagster dev stopped (exit code {code}) {MAX_RESTARTS} times within "
                         f"{RESTART_WINDOW_S // 60} minutes; giving up")
                return code or 1
            self.say(f"dagster dev stopped unexpectedly (exit code {code}); starting it again")
            time.sleep(RESTART_DELAY_S)
            if self.stopping:
                return 0

    def _watch(self) -> int:
        """Wait for `dagster dev` to end, restarting the Spark server meanwhile; kill it if a stop takes too long."""
        deadline = None
        while True:
            try:
                return self.dagster.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                pass
            if self.stopping:
                deadline = deadline or time.monotonic() + STOP_TIMEOUT_S
                if time.monotonic() > deadline:
                    self.dagster.kill()
            elif self.spark is not None and spark_connect.running_server(self.spark.state_dir) is None:
                self._restart_spark()

    def _restart_spark(self) -> None:
        spark = self.spark
        if not self.spark_restarts.allowed(time.monotonic()):
            self.say(f"the Spark Connect server stopped {MAX_RESTARTS} times within {RESTART_WINDOW_S // 60} "
                     f"minutes; stopping (log: {spark.state_dir / 'logs'})")
            self.request_stop(signal.SIGTERM)
            return
        self.say(f"the Spark Connect server on port {spark.port} stopped unexpectedly; starting it again")
        try:
            spark_connect.start(spark.state_dir, port=spark.port, host=spark.host, token=spark.token)
        except RuntimeError as error:
            self.say(f"the Spark Connect server did not start again: {error}")
