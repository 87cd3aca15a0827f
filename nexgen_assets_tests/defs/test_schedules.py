"""Schedules: the weekly retrain and the daily forecast ask for the right job at the configured time."""

import datetime as dt

import dagster as dg

from nexgen_assets.definitions import defs
from nexgen_assets.defs.schedules import forecast_refresh_schedule, retrain_schedule


def _request(schedule: dg.ScheduleDefinition, at: dt.datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(scheduled_execution_time=at)
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1
    return requests[0]


def test_retrain_runs_the_retrain_job_on_sunday_mornings():
    assert retrain_schedule.cron_schedule == "0 3 * * 0" and retrain_schedule.execution_timezone == "UTC"
    assert retrain_schedule.job_name == "retrain_job"
    request = _request(retrain_schedule, dt.datetime(2025, 3, 2, 3, 0, tzinfo=dt.UTC))
    assert request.tags["dagster/schedule_name"] == "retrain_schedule"
    retrain = {k.path[-1] for k in defs.resolve_job_def("retrain_job").asset_layer.executable_asset_keys}
    assert {"xgboost_model", "backtest_results", "champion_model", "sales_forecast"} <= retrain
    assert not retrain & {"raw_sales", "clean_sales", "daily_sales"}


def test_forecast_refresh_runs_only_the_forecast_every_morning():
    assert forecast_refresh_schedule.cron_schedule == "0 5 * * *"
    assert forecast_refresh_schedule.job_name == "forecast_job"
    _request(forecast_refresh_schedule, dt.datetime(2025, 3, 3, 5, 0, tzinfo=dt.UTC))
    forecast = {k.path[-1] for k in defs.resolve_job_def("forecast_job").asset_layer.executable_asset_keys}
    assert forecast == {"sales_forecast"}
