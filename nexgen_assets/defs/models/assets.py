"""Trained forecasting models, one asset per model, each stored with a version.

Global models (XGBoost, Random Forest, LSTM) learn from every series at once; the
statistical ones (ETS, Theta, an intermittent-demand method) are fitted per series.
Every asset is the same step: read recent features, fit, store with metadata.
NEXGEN_TRAINING_GROUPS other than `global` fits one copy of each model per store group
on Spark's executors (see lib/models/grouped.py); the grouping is kept in the metadata.
"""

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.catalog import build_model
from nexgen_assets.lib.models.inputs import TRAINING_HISTORY_DAYS
from nexgen_assets.lib.models.lstm import DEFAULTS as LSTM_DEFAULTS
from nexgen_assets.lib.models.random_forest import DEFAULTS as FOREST_DEFAULTS
from nexgen_assets.lib.models.seasonal_naive import DEFAULTS as NAIVE_DEFAULTS
from nexgen_assets.lib.models.statistical import COMMON_DEFAULTS, CROSTON_DEFAULTS, ETS_DEFAULTS, THETA_DEFAULTS
from nexgen_assets.lib.models.training import train_model
from nexgen_assets.lib.models.xgboost_model import DEFAULTS as XGBOOST_DEFAULTS
from nexgen_assets.resources import LakeResource, ModelStoreResource
from nexgen_assets.settings import current

_history_days = Field(default=TRAINING_HISTORY_DAYS, description="Most recent days of features read for training.")
_series_history_days = Field(
    default=COMMON_DEFAULTS["history_days"],
    description="Most recent days each series is fitted on, here and in the backtest (a year holds the weekly pattern's drift).",
)


class SeasonalNaiveConfig(dg.Config):
    season: int = Field(default=NAIVE_DEFAULTS["season"], description="Season length in days.")


class XGBoostConfig(dg.Config):
    n_estimators: int = Field(default=XGBOOST_DEFAULTS["n_estimators"], description="Boosting rounds per horizon span.")
    learning_rate: float = Field(default=XGBOOST_DEFAULTS["learning_rate"], description="Shrinkage per round.")
    max_depth: int = Field(default=XGBOOST_DEFAULTS["max_depth"], description="Depth of each tree.")
    max_rows: int = Field(default=XGBOOST_DEFAULTS["max_rows"], description="Training rows sampled at most, all spans together.")
    history_days: int = _history_days


class RandomForestConfig(dg.Config):
    n_estimators: int = Field(default=FOREST_DEFAULTS["n_estimators"], description="Trees per horizon span.")
    max_depth: int = Field(default=FOREST_DEFAULTS["max_depth"], description="Depth limit of each tree (memory bound).")
    max_samples: int = Field(
        default=FOREST_DEFAULTS["max_samples"], description="Rows drawn for each tree (memory and time bound)."
    )
    min_samples_leaf: int = Field(default=FOREST_DEFAULTS["min_samples_leaf"], description="Smallest leaf.")
    history_days: int = _history_days


class LSTMConfig(dg.Config):
    window: int = Field(default=LSTM_DEFAULTS["window"], description="Days of history the network reads.")
    units: int = Field(default=LSTM_DEFAULTS["units"], description="LSTM units.")
    epochs: int = Field(default=LSTM_DEFAULTS["epochs"], description="Epochs at most (early stopping on a validation split).")
    max_windows: int = Field(default=LSTM_DEFAULTS["max_windows"], description="Training windows sampled at most (memory bound).")
    history_days: int = _history_days


class ETSConfig(dg.Config):
    season_length: int = Field(default=ETS_DEFAULTS["season_length"], description="Season length in days.")
    model: str = Field(default=ETS_DEFAULTS["model"], description="Error, trend and season letters; Z lets AICc choose.")
    history_days: int = _series_history_days


class ThetaConfig(dg.Config):
    season_length: int = Field(default=THETA_DEFAULTS["season_length"], description="Season length in days.")
    history_days: int = _series_history_days


class CrostonConfig(dg.Config):
    method: str = Field(
        default=CROSTON_DEFAULTS["method"], description="Intermittent-demand method: adida, imapa or croston_sba."
    )
    history_days: int = _series_history_days


def model_asset(name: str, config_type: type[dg.Config], kinds: set[str], description: str) -> dg.AssetsDefinition:
    """The asset `<name>_model`: fit the model on recent features and store it with its parameters and timings.

    `history_days` is a model parameter for the per-series models (they trim history
    themselves, also in the backtest) and only the read window for the global ones.
    """

    @dg.asset(name=f"{name}_model", deps=["sales_features"], group_name="models", kinds=kinds, description=description)
    def _model(
        context: dg.AssetExecutionContext,
        config: config_type,
        spark: PySparkResource,
        lake: LakeResource,
        model_store: ModelStoreResource,
    ) -> dg.MaterializeResult:
        settings = config.model_dump()
        history_days = settings.get("history_days", HORIZON_DAYS)
        known = build_model(name).params
        params = {k: v for k, v in settings.items() if k in known}
        features = lake.read(spark.spark_session, "sales_features")
        trained = train_model(
            build_model(name, params), features, history_days, current().training_max_rows, current().training_groups
        )
        stored = model_store.save(name, trained.model, trained.metadata)
        context.log.info(f"stored {name} {stored.version} ({trained.model.training_rows} rows, {trained.seconds}s)")
        return dg.MaterializeResult(
            metadata={
                "model_version": stored.version,
                "artifact_path": str(stored.path),
                "manifest_sha256": stored.manifest_sha256,
                "training_rows": trained.model.training_rows,
                "training_seconds": trained.seconds,
                "trained_through": trained.metadata["trained_through"],
                "params": dg.MetadataValue.json(trained.model.params),
                "training_groups": trained.metadata["training_groups"],
                "features": ", ".join(trained.model.feature_names()),
                **trained.extract,
            }
        )

    return _model


seasonal_naive_model = model_asset(
    "seasonal_naive", SeasonalNaiveConfig, {"pandas", "python"},
    "The baseline: each day repeats the same weekday of the last observed week.",
)
xgboost_model = model_asset(
    "xgboost", XGBoostConfig, {"xgboost", "pandas"},
    "Global gradient-boosted trees over all series, one direct model per horizon span.",
)
random_forest_model = model_asset(
    "random_forest", RandomForestConfig, {"scikitlearn", "pandas"},
    "Global Random Forest over all series, one per horizon span, bounded by depth and samples per tree.",
)
lstm_model = model_asset(
    "lstm", LSTMConfig, {"tensorflow", "keras"},
    "Global LSTM on sampled windows: the last weeks of a series in, the whole horizon out.",
)
ets_model = model_asset(
    "ets", ETSConfig, {"statsforecast", "pandas"},
    "Exponential smoothing (AutoETS) per series with a weekly season: the statistical peer to beat.",
)
theta_model = model_asset(
    "theta", ThetaConfig, {"statsforecast", "pandas"},
    "Dynamic optimized Theta per series on weekly-deseasonalised sales.",
)
croston_model = model_asset(
    "croston", CrostonConfig, {"statsforecast", "pandas"},
    "An intermittent-demand method (ADIDA) per series for slow movers with many days without a sale.",
)
