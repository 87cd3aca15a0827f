"""The Spark session every Spark asset shares: dagster-pyspark's resource with settings for a small machine."""

import os
import sys
import time

import dagster as dg
from dagster_pyspark import PySparkResource
from dagster_pyspark.resources import spark_session_from_config
from pydantic import PrivateAttr

from nexgen_assets.settings import Settings

ENGINE_DOWN_CONDITIONS = ("NO_ACTIVE_SESSION", "SESSION_CLOSED", "SESSION_NOT_FOUND", "CONNECT_URL_NOT_SET")
ENGINE_DOWN_TYPES = ("SparkConnectGrpcException", "RetriesExceeded", "Py4JNetworkError", "_InactiveRpcError")
ENGINE_DOWN_TEXT = ("SparkContext was shut down", "stopped SparkContext", "Connection refused", "UNAVAILABLE")


def engine_unavailable(error: BaseException) -> bool:
    """Is this the Spark engine itself gone (a restarted Spark Connect server, a lost driver) rather than a
    file Spark cannot read? Such an error is worth a retry; the file's own errors are not."""
    seen: BaseException | None = error
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        condition = getattr(seen, "getCondition", lambda: None)() or ""
        if type(seen).__name__ in ENGINE_DOWN_TYPES or any(c in condition for c in ENGINE_DOWN_CONDITIONS):
            return True
        if any(text in str(seen) for text in (*ENGINE_DOWN_TEXT, *ENGINE_DOWN_CONDITIONS)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


SESSION_CHECK_INTERVAL_S = 2.0
"""How often a remote session is checked before it is handed out (one config round trip)."""


def spark_config(settings: Settings, master: str | None = None) -> dict[str, str]:
    """Spark settings for a small machine; the master comes from NEXGEN_SPARK_MASTER (sc:// for Spark Connect).

    A Spark Connect server's token stays out of this config (Dagster shows resource config in
    its UI): pyspark's client reads it from SPARK_CONNECT_AUTHENTICATE_TOKEN, set by `nexgen dev`.
    """
    master = master or settings.spark_master
    config = {
        "spark.app.name": "nexgen",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }
    if master.startswith("sc://"):
        config["spark.remote"] = master
    else:
        config["spark.master"] = master
    if master.startswith("local"):
        _pin_local_worker_python()
    return config


def _pin_local_worker_python() -> None:
    """Local Python workers (applyInPandas, as models per store group use) run PYSPARK_PYTHON, read by the driver
    when its session starts (not from the session's config); unset, that is whatever `python3` is on PATH, which
    may lack this project's packages. Unless the environment chose one, they run this interpreter, as the Spark
    Connect server's do (spark_connect.server_environment)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


class NexgenSparkResource(PySparkResource):
    """dagster-pyspark's session, with Spark's own logging quietened to `log_level`.

    A Spark Connect session dies with its server; when `nexgen dev` has started the server
    again, the next step (or the retry of the failed one) gets a new session instead of the dead one.
    """

    log_level: str = "ERROR"
    _checked_at: float = PrivateAttr(default=0.0)

    @property
    def spark_session(self):
        session = self._spark_session
        if self.spark_config.get("spark.remote") and time.monotonic() - self._checked_at > SESSION_CHECK_INTERVAL_S:
            session = self._live_remote_session(session)
            self._checked_at = time.monotonic()
        return session

    def _live_remote_session(self, session):
        """The session, or a new one when its server no longer knows it (the server was started again)."""
        try:
            session.conf.get("spark.sql.session.timeZone")
            return session
        except Exception as error:
            if not engine_unavailable(error):
                raise
        try:
            session.stop()
        except Exception as error:
            if not engine_unavailable(error):
                raise
        self._spark_session = spark_session_from_config(self.spark_config)
        return self._spark_session

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        context_ = getattr(self.spark_session, "sparkContext", None)
        if context_ is not None and not self.spark_config.get("spark.remote"):
            context_.setLogLevel(self.log_level)


def spark_resource(settings: Settings) -> PySparkResource:
    return NexgenSparkResource(spark_config=spark_config(settings), log_level=settings.spark_log_level)
