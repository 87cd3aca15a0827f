"""Resources of the code location, built from the settings with embedded defaults."""

from pathlib import Path

import dagster as dg

from nexgen_assets.resources.exports import ExportsResource
from nexgen_assets.resources.lake import LakeResource, LandingZoneResource
from nexgen_assets.resources.model_store import ModelStoreResource
from nexgen_assets.resources.source_db import SourceDatabaseResource
from nexgen_assets.resources.spark import spark_config, spark_resource
from nexgen_assets.resources.warehouse import WarehouseIOManager, WarehouseResource
from nexgen_assets.settings import SOURCE_DB_URL_VARIABLE, WAREHOUSE_URL_VARIABLE, Settings

__all__ = [
    "ExportsResource",
    "LakeResource",
    "LandingZoneResource",
    "ModelStoreResource",
    "SourceDatabaseResource",
    "WarehouseIOManager",
    "WarehouseResource",
    "build_resources",
    "pin_folders",
    "spark_config",
    "spark_resource",
]


def build_resources(home: Path | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Every resource the assets need, from the settings (read now unless given), rooted at home if given."""
    settings = settings or Settings.from_env()
    if home is not None:
        settings = settings.with_home(home)
    warehouse = WarehouseResource(
        url=dg.EnvVar(WAREHOUSE_URL_VARIABLE) if settings.warehouse_url else settings.embedded_warehouse_url
    )
    return {
        "spark": spark_resource(settings),
        "landing": LandingZoneResource(
            incoming_dir=str(settings.incoming), mappings_dir=str(settings.mappings), staging_dir=str(settings.staging)
        ),
        "lake": LakeResource(root=settings.lake),
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "source_db": SourceDatabaseResource(
            url=dg.EnvVar(SOURCE_DB_URL_VARIABLE) if settings.source_db_url else None,
            table=settings.source_db_table,
            watermark_column=settings.source_db_watermark,
            overlap_seconds=settings.source_db_overlap_seconds,
            deleted_column=settings.source_db_deleted_column,
        ),
        "model_store": ModelStoreResource(root=settings.model_store),
        "exports": ExportsResource(
            folder=settings.exports,
            sql_server=settings.powerbi_server,
            database=settings.powerbi_database,
            mode=settings.powerbi_mode,
        ),
    }


FOLDER_RESOURCES = ("landing", "lake", "model_store", "exports")


def pin_folders(resources: dict[str, object]) -> dict[str, object]:
    """The same resources, with those that hold folders fixed: a run's config cannot point them elsewhere.

    The landing zone, lake, model store and exports are where the platform reads and
    writes files; they come from the settings of the deployment, never from the launchpad.
    """
    return {
        key: dg.ResourceDefinition.hardcoded_resource(value, f"{type(value).__name__} (folders from the settings)")
        if key in FOLDER_RESOURCES and isinstance(value, dg.ConfigurableResource)
        else value
        for key, value in resources.items()
    }
