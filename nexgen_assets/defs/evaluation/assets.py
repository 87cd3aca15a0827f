"""Every model backtested on the same rolling origins, and the leaderboard that ranks them."""

import time

import dagster as dg
import pandas as pd
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.evaluation.backtest import run_backtest
from nexgen_assets.lib.evaluation.champion import serving_champion
from nexgen_assets.lib.evaluation.intervals import cross_conformal, quantile_table
from nexgen_assets.lib.evaluation.leaderboard import leaderboard_chart
from nexgen_assets.lib.evaluation.live_accuracy import accuracy_summary, forecasts_with_actuals, judge_live_accuracy, score_points
from nexgen_assets.lib.evaluation.metrics import error_sums, summarize
from nexgen_assets.lib.models.catalog import MODELS, build_model
from nexgen_assets.lib.models.inputs import history_of, recent_features
from nexgen_assets.resources import LakeResource, ModelStoreResource, WarehouseResource

DETAIL = ["model", "model_version", "fold", "store_id", "product_id", "horizon_bucket"]


class BacktestConfig(dg.Config):
    folds: int = Field(default=3, description="Rolling origins, one horizon apart.")
    horizon: int = Field(default=28, description="Days ahead scored at each origin.")
    history_days: int = Field(default=730, description="Most recent days of features read.")


@dg.asset(
    deps=["seasonal_naive_model", "xgboost_model", "random_forest_model", "lstm_model", "sales_features"],
    group_name="evaluation",
    kinds={"pandas", "parquet"},
)
def backtest_results(
    context: dg.AssetExecutionContext,
    config: BacktestConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Refit each stored model's parameters at every origin; error sums per model, fold, series and horizon bucket."""
    started = time.perf_counter()
    extract = recent_features(lake.read(spark.spark_session, "sales_features"), config.history_days)
    extract = extract[~extract["is_future"].astype(bool)]
    history = history_of(extract)
    versions, templates = {}, {}
    for name in MODELS:
        versions[name] = model_store.latest_version(name)
        templates[name] = build_model(name, model_store.metadata(name, versions[name])["params"])
    scored, timings = run_backtest(templates, history, extract, config.horizon, config.folds)
    with_intervals = cross_conformal(scored)
    with_intervals["model_version"] = with_intervals["model"].map(versions)
    sums = error_sums(with_intervals, DETAIL)
    lake.write_frame(sums, "backtest_results")
    lake.write_frame(quantile_table(scored), "backtest_interval_quantiles")
    lake.write_frame(timings, "backtest_timings")
    seconds = timings.groupby("model")["seconds"].sum().round(1).to_dict()
    origins = sorted(timings["origin"].unique())
    if len(origins) < config.folds:
        context.log.warning(f"history allows {len(origins)} of {config.folds} folds; scored what fits")
    return dg.MaterializeResult(
        metadata={
            "origins": ", ".join(str(o) for o in origins),
            "folds_used": len(origins),
            "rows": len(sums),
            "scored_points": len(scored),
            "fit_seconds_by_model": dg.MetadataValue.json(seconds),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )


@dg.asset(
    deps=["backtest_results"],
    group_name="evaluation",
    kinds={"pandas", "sql"},
    io_manager_key="warehouse_io_manager",
    metadata={"table": "model_metrics", "primary_key": ["model", "scope"]},
)
def model_leaderboard(context: dg.AssetExecutionContext, lake: LakeResource) -> pd.DataFrame:
    """Metrics per model over all folds, and per horizon bucket; published as model_metrics."""
    sums = lake.read_frame("backtest_results")
    timings = lake.read_frame("backtest_timings")
    overall = summarize(sums, ["model", "model_version"]).assign(scope="all")
    by_bucket = summarize(sums, ["model", "model_version", "horizon_bucket"])
    by_bucket["scope"] = by_bucket.pop("horizon_bucket")
    board = pd.concat([overall, by_bucket], ignore_index=True)
    fit = timings.groupby("model")["seconds"].mean().rename("fit_seconds_per_fold").reset_index()
    board = board.merge(fit, on="model", how="left")
    board["rank"] = board.groupby("scope")["mase"].rank(method="first").astype(int)
    board = board.sort_values(["scope", "rank"]).reset_index(drop=True)
    ranked = board[board["scope"] == "all"]
    context.add_output_metadata(
        {
            "leaderboard": dg.MetadataValue.md(ranked.round(4).to_markdown(index=False)),
            "chart": dg.MetadataValue.md(leaderboard_chart(ranked, "mase")),
            "best_model": str(ranked.iloc[0]["model"]),
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


@dg.asset(
    deps=["sales_forecast", "fact_sales_daily", "champion_model"],
    group_name="evaluation",
    kinds={"pandas", "sql"},
    check_specs=[live_accuracy_within_backtest],
    automation_condition=dg.AutomationCondition.eager(),
)
def forecast_accuracy(config: ForecastAccuracyConfig, warehouse: WarehouseResource):
    """Archived forecasts scored against arrived actuals, published as fact_forecast_accuracy; warns on drift."""
    scored = score_points(forecasts_with_actuals(warehouse.engine, warehouse.db_schema))
    champion = serving_champion(warehouse.read_table("model_registry"))
    verdict = judge_live_accuracy(
        scored, champion["model_name"], champion["model_version"], float(champion["wape"]), config.margin, config.min_points
    )
    rows = warehouse.replace_table(
        "fact_forecast_accuracy", scored, primary_key=("forecast_run_id", "store_id", "product_id", "date"), indexes=[("date",)]
    )
    by_run = accuracy_summary(scored, ["forecast_run_id", "model_name", "model_version"])
    yield dg.MaterializeResult(
        metadata={
            "table": "fact_forecast_accuracy",
            "rows_written": rows,
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
