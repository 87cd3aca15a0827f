"""Trained forecasting models, one asset per model, each a global model stored with a version."""

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.catalog import build_model
from nexgen_assets.lib.models.inputs import TRAINING_HISTORY_DAYS
from nexgen_assets.lib.models.lstm import DEFAULTS as LSTM_DEFAULTS
from nexgen_assets.lib.models.random_forest import DEFAULTS as FOREST_DEFAULTS
from nexgen_assets.lib.models.seasonal_naive import DEFAULTS as NAIVE_DEFAULTS
from nexgen_assets.lib.models.training import train_model
from nexgen_assets.lib.models.xgboost_model import DEFAULTS as XGBOOST_DEFAULTS
from nexgen_assets.resources import LakeResource, ModelStoreResource


def train_and_store(
    context: dg.AssetExecutionContext,
    name: str,
    params: dict,
    history_days: int,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Fit one model on the recent feature rows and save it with its parameters and timings."""
    trained = train_model(build_model(name, params), lake.read(spark.spark_session, "sales_features"), history_days)
    stored = model_store.save(name, trained.model, trained.metadata)
    context.log.info(f"stored {name} {stored.version} ({trained.model.training_rows} rows, {trained.seconds}s)")
    return dg.MaterializeResult(
        metadata={
            "model_version": stored.version,
            "artifact_path": str(stored.path),
            "training_rows": trained.model.training_rows,
            "training_seconds": trained.seconds,
            "trained_through": trained.metadata["trained_through"],
            "params": dg.MetadataValue.json(trained.model.params),
            "features": ", ".join(trained.model.feature_names()),
        }
    )


_model_asset = dict(deps=["sales_features"], group_name="models")
_history_days = Field(default=TRAINING_HISTORY_DAYS, description="Most recent days of features read for training.")


class SeasonalNaiveConfig(dg.Config):
    season: int = Field(default=NAIVE_DEFAULTS["season"], description="Season length in days.")


@dg.asset(kinds={"pandas", "python"}, **_model_asset)
def seasonal_naive_model(
    context: dg.AssetExecutionContext,
    config: SeasonalNaiveConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """The baseline: each day repeats the same weekday of the last observed week."""
    return train_and_store(context, "seasonal_naive", config.model_dump(), HORIZON_DAYS, spark, lake, model_store)


class XGBoostConfig(dg.Config):
    n_estimators: int = Field(default=XGBOOST_DEFAULTS["n_estimators"], description="Boosting rounds.")
    learning_rate: float = Field(default=XGBOOST_DEFAULTS["learning_rate"], description="Shrinkage per round.")
    max_depth: int = Field(default=XGBOOST_DEFAULTS["max_depth"], description="Depth of each tree.")
    max_rows: int = Field(default=XGBOOST_DEFAULTS["max_rows"], description="Training rows sampled at most (memory bound).")
    history_days: int = _history_days


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
    return train_and_store(context, "xgboost", params, config.history_days, spark, lake, model_store)


class RandomForestConfig(dg.Config):
    n_estimators: int = Field(default=FOREST_DEFAULTS["n_estimators"], description="Trees in the forest.")
    max_depth: int = Field(default=FOREST_DEFAULTS["max_depth"], description="Depth limit of each tree (memory bound).")
    max_samples: int = Field(
        default=FOREST_DEFAULTS["max_samples"], description="Rows drawn for each tree (memory and time bound)."
    )
    min_samples_leaf: int = Field(default=FOREST_DEFAULTS["min_samples_leaf"], description="Smallest leaf.")
    history_days: int = _history_days


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
    return train_and_store(context, "random_forest", params, config.history_days, spark, lake, model_store)


class LSTMConfig(dg.Config):
    window: int = Field(default=LSTM_DEFAULTS["window"], description="Days of history the network reads.")
    units: int = Field(default=LSTM_DEFAULTS["units"], description="LSTM units.")
    epochs: int = Field(default=LSTM_DEFAULTS["epochs"], description="Epochs at most (early stopping on a validation split).")
    max_windows: int = Field(default=LSTM_DEFAULTS["max_windows"], description="Training windows sampled at most (memory bound).")
    history_days: int = _history_days


@dg.asset(kinds={"tensorflow", "keras"}, **_model_asset)
def lstm_model(
    context: dg.AssetExecutionContext,
    config: LSTMConfig,
    spark: PySparkResource,
    lake: LakeResource,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    """Global LSTM on sampled windows: the last weeks of a series in, the whole horizon out."""
    params = config.model_dump(exclude={"history_days"})
    return train_and_store(context, "lstm", params, config.history_days, spark, lake, model_store)
