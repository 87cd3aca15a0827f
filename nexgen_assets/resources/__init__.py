"""Resources of the code location and the embedded defaults they fall back to (DESIGN §4)."""


import os
from pathlib import Path

import dagster as dg
from dagster_pyspark import PySparkResource

from nexgen_assets.resources.exports import ExportsResource
from nexgen_assets.resources.lake import LakeResource, LandingZoneResource
from nexgen_assets.resources.model_store import ModelStoreResource
from nexgen_assets.resources.source_db import SourceDatabaseResource
from nexgen_assets.resources.warehouse import WarehouseIOManager, WarehouseResource

__all__ = [
    "ExportsResource",
    "LakeResource",
    "LandingZoneResource",
    "ModelStoreResource",
    "SourceDatabaseResource",
    "WarehouseIOManager",
    "WarehouseResource",
    "build_resources",
    "nexgen_home",
    "spark_resource",
]


def nexgen_home() -> Path:
    """Root of local state: NEXGEN_HOME, or ./data."""
    return Path(os.environ.get("NEXGEN_HOME", "data")).resolve()


def spark_config(master: str | None = None) -> dict[str, str]:
    """Spark settings for a small machine; NEXGEN_SPARK_MASTER points elsewhere (sc:// for Spark Connect)."""
    master = master or os.environ.get("NEXGEN_SPARK_MASTER", "local[*]")
    config = {
        "spark.app.name": "nexgen",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": os.environ.get("NEXGEN_SPARK_SHUFFLE_PARTITIONS", "8"),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": os.environ.get("NEXGEN_SPARK_DRIVER_MEMORY", "4g"),
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


def spark_resource(master: str | None = None) -> PySparkResource:
    return NexgenSparkResource(spark_config=spark_config(master), log_level=os.environ.get("NEXGEN_SPARK_LOG_LEVEL", "ERROR"))


def _warehouse_url(home: Path) -> str | dg.EnvVar:
    if os.environ.get("NEXGEN_WAREHOUSE_URL"):
        return dg.EnvVar("NEXGEN_WAREHOUSE_URL")
    return f"sqlite:///{home / 'warehouse' / 'nexgen.db'}"


def build_resources(home: Path | None = None) -> dict[str, object]:
    """Every resource the assets need, rooted at home (default NEXGEN_HOME)."""
    home = Path(home) if home else nexgen_home()
    warehouse = WarehouseResource(url=_warehouse_url(home))
    return {
        "spark": spark_resource(),
        "landing": LandingZoneResource(incoming_dir=str(home / "incoming"), mappings_dir=str(home / "mappings")),
        "lake": LakeResource(root=os.environ.get("NEXGEN_LAKE", str(home / "lake"))),
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "source_db": SourceDatabaseResource(
            url=dg.EnvVar("NEXGEN_SOURCE_DB_URL") if os.environ.get("NEXGEN_SOURCE_DB_URL") else None,
            table=os.environ.get("NEXGEN_SOURCE_DB_TABLE", "order_lines"),
            watermark_column=os.environ.get("NEXGEN_SOURCE_DB_WATERMARK", "updated_at"),
        ),
        "model_store": ModelStoreResource(root=os.environ.get("NEXGEN_MODEL_STORE", str(home / "models"))),
        "exports": ExportsResource(
            folder=os.environ.get("NEXGEN_EXPORTS", str(home / "exports")),
            sql_server=os.environ.get("NEXGEN_POWERBI_SERVER"),
            database=os.environ.get("NEXGEN_POWERBI_DATABASE"),
            mode=os.environ.get("NEXGEN_POWERBI_MODE", "Import"),
        ),
    }
