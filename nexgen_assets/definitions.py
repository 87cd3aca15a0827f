"""The NEX GEN code location: every asset, check, job and resource in one Definitions object."""

import dagster as dg

from nexgen_assets.defs.cleaning import assets as cleaning_assets
from nexgen_assets.defs.cleaning import checks as cleaning_checks
from nexgen_assets.defs.evaluation import assets as evaluation_assets
from nexgen_assets.defs.features import assets as features_assets
from nexgen_assets.defs.features import checks as features_checks
from nexgen_assets.defs.forecasts import assets as forecasts_assets
from nexgen_assets.defs.ingestion import assets as ingestion_assets
from nexgen_assets.defs.jobs import (
    REFRESH_TAG,
    forecast_job,
    inventory_file_job,
    refresh_job,
    retrain_job,
    sales_file_job,
    sales_file_refresh_job,
)
from nexgen_assets.defs.marts import assets as marts_assets
from nexgen_assets.defs.models import assets as models_assets
from nexgen_assets.defs.models import champion as champion_assets
from nexgen_assets.defs.schedules import forecast_refresh_schedule, retrain_schedule
from nexgen_assets.defs.sensors import sales_landing_sensor, source_db_sensor
from nexgen_assets.resources import build_resources

ASSET_MODULES = [
    ingestion_assets,
    cleaning_assets,
    features_assets,
    models_assets,
    evaluation_assets,
    champion_assets,
    forecasts_assets,
    marts_assets,
]
CHECK_MODULES = [cleaning_checks, features_checks]

all_assets = dg.load_assets_from_modules(ASSET_MODULES)
all_asset_checks = dg.load_asset_checks_from_modules(CHECK_MODULES)


automation_sensor = dg.AutomationConditionSensorDefinition(
    "nexgen_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    run_tags={REFRESH_TAG: "true"},
    description="Refreshes clean tables, features, marts and forecasts after new data (eager conditions).",
)


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """Definitions with the given resources (tests) or the embedded defaults.

    Runs execute their steps in one process: one Spark session (one JVM) per run instead
    of one per step, which is what keeps a file's refresh fast on a small machine.
    """
    return dg.Definitions(
        assets=all_assets,
        asset_checks=all_asset_checks,
        jobs=[sales_file_job, sales_file_refresh_job, inventory_file_job, refresh_job, retrain_job, forecast_job],
        sensors=[sales_landing_sensor, source_db_sensor, automation_sensor],
        schedules=[retrain_schedule, forecast_refresh_schedule],
        resources=resources if resources is not None else build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
