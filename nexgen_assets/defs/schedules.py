"""Schedules: weekly retraining and the daily forecast refresh, cron configurable."""

import dagster as dg

from nexgen_assets.defs import jobs
from nexgen_assets.settings import current

settings = current()

retrain_schedule = dg.ScheduleDefinition(
    name="retrain_schedule",
    job=jobs.retrain_job,
    cron_schedule=settings.retrain_cron,
    execution_timezone=settings.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrain every model, backtest them and promote a champion (default: Sundays 03:00).",
)

forecast_refresh_schedule = dg.ScheduleDefinition(
    name="forecast_refresh_schedule",
    job=jobs.forecast_job,
    cron_schedule=settings.forecast_cron,
    execution_timezone=settings.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the forecast from the serving champion (default: daily 05:00).",
)
