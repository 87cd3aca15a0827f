"""Schedules: weekly retraining and the daily forecast refresh, cron configurable."""

import os

import dagster as dg

from nexgen_assets.defs.jobs import forecast_job, retrain_job

retrain_schedule = dg.ScheduleDefinition(
    name="retrain_schedule",
    job=retrain_job,
    cron_schedule=os.environ.get("NEXGEN_RETRAIN_CRON", "0 3 * * 0"),
    execution_timezone=os.environ.get("NEXGEN_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrain every model, backtest them and promote a champion (default: Sundays 03:00).",
)

forecast_refresh_schedule = dg.ScheduleDefinition(
    name="forecast_refresh_schedule",
    job=forecast_job,
    cron_schedule=os.environ.get("NEXGEN_FORECAST_CRON", "0 5 * * *"),
    execution_timezone=os.environ.get("NEXGEN_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the forecast from the serving champion (default: daily 05:00).",
)
