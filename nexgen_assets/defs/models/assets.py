"""Trained forecasting models, one asset per model, each a global model stored with a version."""

import time

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.models.catalog import build_model
from nexgen_assets.lib.models.inputs import history_of, recent_features
from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.resources import LakeResource, ModelStoreResource


def train_and_store(
    context: dg.AssetExecutionContext,
    model: Forecaster,
    history_days: int,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Fit on the recent feature rows and save the model with its parameters and timings."""
    extract = recent_features(lake.read(spark.spark_session, "sales_features"), history_days)
    history = history_of(extract)
    train = extract[~extract["is_future"].astype(bool)]
    started = time.perf_counter()
    model.fit(history, train)
    seconds = round(time.perf_counter() - started, 2)
    last_date = str(max(history["date"]))
    stored = model_store.save(
        model.name,
        model,
        {
            "params": model.params,
            "training_rows": model.training_rows,
            "training_seconds": seconds,
            "features": model.feature_names(),
            "trained_through": last_date,
            "history_days": history_days,
        },
    )
    context.log.info(f"stored {model.name} {stored.version} ({model.training_rows} rows, {seconds}s)")
    return dg.MaterializeResult(
        metadata={
            "model_version": stored.version,
            "artifact_path": str(stored.path),
            "training_rows": model.training_rows,
            "training_seconds": seconds,
            "trained_through": last_date,
            "params": dg.MetadataValue.json(model.params),
            "features": ", ".join(model.feature_names()),
        }
    )


_model_asset = dict(deps=["sales_features"], group_name="models")


class SeasonalNaiveConfig(dg.Config):
    season: int = Field(default=7, description="Season length in days.")


@dg.asset(kinds={"pandas", "python"}, **_model_asset)
def seasonal_naive_model(
    context: dg.AssetExecutionContext,
    config: SeasonalNaiveConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """The baseline: each day repeats the same weekday of the last observed week."""
    return train_and_store(
        context, build_model("seasonal_naive", {"season": config.season}), 28, spark, lake, model_store
    )


class XGBoostConfig(dg.Config):
    n_estimators: int = Field(default=300, description="Boosting rounds.")
    learning_rate: float = Field(default=0.06, description="Shrinkage per round.")
    max_depth: int = Field(default=8, description="Depth of each tree.")
    max_rows: int = Field(default=1_000_000, description="Training rows sampled at most (memory bound).")
    history_days: int = Field(default=730, description="Most recent days of features read for training.")


@dg.asset(kinds={"xgboost", "pandas"}, **_model_asset)
def xgboost_model(
    context: dg.AssetExecutionContext,
    config: XGBoostConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Global gradient-boosted trees over all series."""
    params = config.model_dump(exclude={"history_days"})
    return train_and_store(context, build_model("xgboost", params), config.history_days, spark, lake, model_store)


class RandomForestConfig(dg.Config):
    n_estimators: int = Field(default=80, description="Trees in the forest.")
    max_depth: int = Field(default=16, description="Depth limit of each tree (memory bound).")
    max_samples: int = Field(default=40_000, description="Rows drawn for each tree (memory and time bound).")
    min_samples_leaf: int = Field(default=5, description="Smallest leaf.")
    history_days: int = Field(default=730, description="Most recent days of features read for training.")


@dg.asset(kinds={"scikitlearn", "pandas"}, **_model_asset)
def random_forest_model(
    context: dg.AssetExecutionContext,
    config: RandomForestConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Global Random Forest over all series, bounded by depth and samples per tree."""
    params = config.model_dump(exclude={"history_days"})
    return train_and_store(
        context, build_model("random_forest", params), config.history_days, spark, lake, model_store
    )


class LSTMConfig(dg.Config):
    window: int = Field(default=56, description="Days of history the network reads.")
    units: int = Field(default=64, description="LSTM units.")
    epochs: int = Field(default=12, description="Epochs at most (early stopping on a validation split).")
    max_windows: int = Field(default=24_000, description="Training windows sampled at most (memory bound).")
    history_days: int = Field(default=730, description="Most recent days of history read for training.")


@dg.asset(kinds={"tensorflow", "keras"}, **_model_asset)
def lstm_model(
    context: dg.AssetExecutionContext,
    config: LSTMConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Global LSTM on sampled windows: the last weeks of a series in, the next 28 days out."""
    params = config.model_dump(exclude={"history_days"})
    return train_and_store(context, build_model("lstm", params), config.history_days, spark, lake, model_store)
