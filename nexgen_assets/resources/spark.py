"""The Spark session every Spark asset shares: dagster-pyspark's resource with settings for a small machine."""

import dagster as dg
from dagster_pyspark import PySparkResource

from nexgen_assets.settings import Settings


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
    return config


class NexgenSparkResource(PySparkResource):
    """dagster-pyspark's session, with Spark's own logging quietened to `log_level`."""

    log_level: str = "ERROR"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        context_ = getattr(self.spark_session, "sparkContext", None)
        if context_ is not None and not self.spark_config.get("spark.remote"):
            context_.setLogLevel(self.log_level)


def spark_resource(settings: Settings) -> PySparkResource:
    return NexgenSparkResource(spark_config=spark_config(settings), log_level=settings.spark_log_level)
