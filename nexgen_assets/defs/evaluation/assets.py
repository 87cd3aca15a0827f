"""Every model backtested on the same rolling origins, and the leaderboard that ranks them."""

import time

import dagster as dg
import pandas as pd
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.backtest import run_backtest
from nexgen_assets.lib.extract import history_of, recent_features
from nexgen_assets.lib.intervals import cross_conformal, quantile_table
from nexgen_assets.lib.leaderboard import leaderboard_chart
from nexgen_assets.lib.metrics import error_sums, summarize
from nexgen_assets.lib.model_zoo import MODELS, build_model
from nexgen_assets.resources import LakeResource, ModelStoreResource

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
