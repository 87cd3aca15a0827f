"""Every model backtested on the same rolling origins, and the leaderboard that ranks them."""

import time

import dagster as dg
import pandas as pd
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.defs.policies import TRANSIENT_RETRY, WAREHOUSE_POOL
from nexgen_assets.lib.evaluation.backtest import backtest_models, scored_windows
from nexgen_assets.lib.evaluation.champion import serving_champion
from nexgen_assets.lib.evaluation.leaderboard import build_leaderboard, leaderboard_chart
from nexgen_assets.lib.evaluation.live_accuracy import (
    ACCURACY_TABLE,
    RESTATEMENT_DAYS,
    RUN_TABLES,
    accuracy_summary,
    expired_runs,
    forecast_runs,
    judge_live_accuracy,
    rescore_accuracy,
    run_error_sums,
)
from nexgen_assets.lib.models.catalog import MODELS, build_model
from nexgen_assets.lib.models.grouped import GLOBAL, with_training_groups
from nexgen_assets.lib.models.inputs import (
    TRAINING_HISTORY_DAYS,
    observed_rows_within,
    sample_series,
    training_extract,
)
from nexgen_assets.resources import LakeResource, ModelStoreResource, WarehouseResource
from nexgen_assets.settings import current

MODELS_ASSETS = [f"{name}_model" for name in MODELS]

class BacktestConfig(dg.Config):
    folds: int = Field(default=3, description="Recent rolling origins, one horizon apart.")
    seasonal_fold: bool = Field(
        default=True,
        description="Also score the weeks one year before the days to forecast (when history allows), so candidates "
        "and intervals are judged on the season ahead.",
    )
    history_days: int = Field(default=TRAINING_HISTORY_DAYS, description="Most recent days of features read.")


def _backtest_output(key: str, description: str) -> dg.AssetSpec:
    """One lake table the backtest writes; every one reads the stored models and the features."""
    return dg.AssetSpec(key, deps=[*MODELS_ASSETS, "sales_features"], kinds={"pandas", "parquet"}, description=description)


@dg.multi_asset(
    specs=[
        _backtest_output(
            "backtest_results",
            "Error sums per model, fold, series and horizon bucket, every model refitted at the same origins.",
        ),
        _backtest_output(
            "backtest_interval_quantiles",
            "q10/q50/q90 of scaled backtest residuals per candidate, level, segment and horizon bucket: "
            "the champion's calibrated p10/p50/p90 at series and aggregate levels.",
        ),
        _backtest_output(
            "backtest_candidate_weights",
            "Weights of every champion candidate per segment and component model (a single model: weight 1).",
        ),
        _backtest_output("backtest_timings", "Fit and predict seconds and training rows per model and fold."),
    ],
    group_name="evaluation",
)
def backtest_results(
    context: dg.AssetExecutionContext,
    config: BacktestConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
):
    """Refit each stored model's parameters at every origin, per store group when it was trained so (the groups
    fitted on Spark's executors), and keep the sums every metric rolls up from; above NEXGEN_BACKTEST_MAX_SERIES
    series, on a fixed sample of them."""
    started = time.perf_counter()
    versions = {name: model_store.latest_version(name) for name in MODELS}
    stored = {name: model_store.metadata(name, v) for name, v in versions.items()}
    templates = {
        name: with_training_groups(
            build_model(name, meta["params"]), meta.get("training_groups", GLOBAL), spark.spark_session
        )
        for name, meta in stored.items()
    }
    series = sample_series(
        lake.read(spark.spark_session, "sales_features"), current().backtest_max_series, config.history_days
    )
    extract = training_extract(series.features, config.history_days, current().training_max_rows)
    scoring = observed_rows_within(
        series.features, scored_windows(extract.history, config.folds, config.seasonal_fold)
    )
    outcome = backtest_models(
        templates, versions, extract.history, extract.feature_rows, config.folds, config.seasonal_fold, scoring
    )
    if len(outcome.origins) < config.folds:
        context.log.warning(f"history allows {len(outcome.origins)} of {config.folds} recent folds; scored what fits")
    rows = lake.write_frame(outcome.sums, "backtest_results")
    yield dg.MaterializeResult(
        asset_key="backtest_results",
        metadata={
            "rows": rows,
            "dagster/row_count": rows,
            "origins": ", ".join(str(o) for o in outcome.origins),
            "folds_used": len(outcome.origins),
            "scored_points": outcome.scored_points,
            **series.metadata(),
            **extract.metadata(),
            "scoring_rows_collected": len(scoring),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    rows = lake.write_frame(outcome.interval_quantiles, "backtest_interval_quantiles")
    yield dg.MaterializeResult(asset_key="backtest_interval_quantiles", metadata={"rows": rows, "dagster/row_count": rows})
    weights = outcome.weight_table()
    rows = lake.write_frame(weights, "backtest_candidate_weights")
    yield dg.MaterializeResult(
        asset_key="backtest_candidate_weights",
        metadata={
            "rows": rows,
            "dagster/row_count": rows,
            "candidates": dg.MetadataValue.md(weights.to_markdown(index=False)),
        },
    )
    seconds = outcome.timings.groupby("model")["seconds"].sum().round(1).to_dict()
    rows = lake.write_frame(outcome.timings, "backtest_timings")
    yield dg.MaterializeResult(
        asset_key="backtest_timings",
        metadata={
            "rows": rows,
            "dagster/row_count": rows,
            "fit_seconds_by_model": dg.MetadataValue.json(seconds),
        },
    )


@dg.asset(
    deps=["backtest_results", "backtest_timings", "backtest_candidate_weights"],
    group_name="evaluation",
    kinds={"pandas", "sql"},
    io_manager_key="warehouse_io_manager",
    metadata={"table": "model_metrics", "primary_key": ["model", "scope"]},
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def model_leaderboard(context: dg.AssetExecutionContext, lake: LakeResource) -> pd.DataFrame:
    """Metrics per candidate (model or blend) over all folds, and per horizon bucket; published as model_metrics."""
    board = build_leaderboard(
        lake.read_frame("backtest_results"), lake.read_frame("backtest_timings"), lake.read_frame("backtest_candidate_weights")
    )
    ranked = board[board["scope"] == "all"]
    context.add_output_metadata(
        {
            "leaderboard": dg.MetadataValue.md(ranked.round(4).to_markdown(index=False)),
            "chart": dg.MetadataValue.md(leaderboard_chart(ranked, "mase")),
            "best_model": str(ranked.iloc[0]["model"]),
            "dagster/row_count": len(board),
        }
    )
    return board


live_accuracy_within_backtest = dg.AssetCheckSpec(
    "live_accuracy_within_backtest",
    asset="forecast_accuracy",
    description="The serving champion's live WAPE is no worse than its backtest WAPE plus the configured margin.",
)


class ForecastAccuracyConfig(dg.Config):
    margin: float = Field(default=0.25, ge=0, description="Allowed relative shortfall of live WAPE vs the backtest.")
    min_points: int = Field(default=200, ge=1, description="Scored points needed before live accuracy is judged.")
    restatement_days: int = Field(
        default=RESTATEMENT_DAYS, ge=0,
        description="Days before the latest actual day in which every pass looks for changed or retracted actuals: "
        "how far back a late file may restate. Older points keep their scores.",
    )
    full_rescore: bool = Field(
        default=False, description="Rescore the whole archive, e.g. after actuals older than the window were restated."
    )
    archive_days: int = Field(
        default=current().forecast_archive_days, ge=0,
        description="Forecast runs whose origin is more than this many days before the newest origin are removed "
        "(never the serving run); 0 = keep all. The default comes from NEXGEN_FORECAST_ARCHIVE_DAYS.",
    )


@dg.asset(
    deps=["sales_forecast", "fact_sales_daily", "champion_model"],
    group_name="evaluation",
    kinds={"pandas", "sql"},
    check_specs=[live_accuracy_within_backtest],
    metadata={"table": "fact_forecast_accuracy"},
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def forecast_accuracy(config: ForecastAccuracyConfig, warehouse: WarehouseResource):
    """Archived forecasts scored against arrived actuals into fact_forecast_accuracy; warns on drift.

    Each pass first removes the runs past the archive's retention, then scores only new runs and the
    points whose actual arrived, changed or went within the restatement window, so its cost follows
    what is new, not the archive's size. Metadata and the check cover the whole table.
    """
    engine, schema = warehouse.engine, warehouse.db_schema
    champion = serving_champion(warehouse.read_table("model_registry"))
    runs = forecast_runs(engine, schema)
    expired = expired_runs(runs, config.archive_days, champion["model_name"], champion["model_version"])
    warehouse.delete_in(RUN_TABLES, "forecast_run_id", expired)
    kept = runs.loc[~runs["forecast_run_id"].isin(expired), "forecast_run_id"]
    scope, deleted, written = rescore_accuracy(engine, config.restatement_days, kept, config.full_rescore, schema)
    sums = run_error_sums(engine, schema)
    verdict = judge_live_accuracy(
        sums, champion["model_name"], champion["model_version"], float(champion["wape"]), config.margin, config.min_points
    )
    by_run = accuracy_summary(sums, ["forecast_run_id", "model_name", "model_version"])
    yield dg.MaterializeResult(
        metadata={
            "table": ACCURACY_TABLE,
            "rescored_from": "all" if scope.since is None else str(scope.since),
            "new_runs": len(scope.runs),
            "rows_deleted": deleted,
            "rows_written": written,
            "runs_expired": len(expired),
            "dagster/row_count": int(sums["n"].sum()),
            "runs_scored": len(by_run),
            "by_run": dg.MetadataValue.md(by_run.round(4).to_markdown(index=False)),
        }
    )
    yield dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=verdict.description,
        metadata={
            "model": f"{champion['model_name']} {champion['model_version']}",
            "live_wape": verdict.live_wape,
            "backtest_wape": verdict.promised_wape,
            "limit": verdict.limit,
            "points": verdict.points,
        },
    )
