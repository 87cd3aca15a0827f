"""Global gradient-boosted trees (XGBoost) on the leak-free feature table; stored as XGBoost's own UBJSON model files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nexgen_assets.lib.models.tabular import SpanwiseTreeForecaster, TabularEncoder

if TYPE_CHECKING:
    import xgboost as xgb

DEFAULTS = {
    "n_estimators": 300,
    "learning_rate": 0.06,
    "max_depth": 8,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "objective": "reg:squarederror",
    "tweedie_variance_power": 1.2,
    "max_rows": 1_000_000,
    "n_jobs": 2,
    "seed": 7,
}


class XGBoostForecaster(SpanwiseTreeForecaster):
    """One booster per horizon span over every series (squared error: the expected value, scored on RMSE)."""

    name = "xgboost"
    label = "xgboost model"
    suffix = ".ubj"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})

    def _fit_span(self, encoder: TabularEncoder, rows: pd.DataFrame) -> xgb.XGBRegressor:
        import xgboost as xgb

        p = self.params
        extra = {"tweedie_variance_power": p["tweedie_variance_power"]} if p["objective"] == "reg:tweedie" else {}
        booster = xgb.XGBRegressor(
            n_estimators=p["n_estimators"],
            learning_rate=p["learning_rate"],
            max_depth=p["max_depth"],
            min_child_weight=p["min_child_weight"],
            subsample=p["subsample"],
            colsample_bytree=p["colsample_bytree"],
            objective=p["objective"],
            tree_method="hist",
            enable_categorical=True,
            max_cat_to_onehot=1,
            n_jobs=p["n_jobs"],
            random_state=p["seed"],
            **extra,
        )
        target = np.clip(rows["quantity"].to_numpy(), 0.0, None)
        return booster.fit(encoder.transform(rows, as_category=True), target)

    def _predict_span(self, estimator: xgb.XGBRegressor, encoder: TabularEncoder, rows: pd.DataFrame) -> np.ndarray:
        return estimator.predict(encoder.transform(rows, as_category=True))

    def _save_estimator(self, estimator: xgb.XGBRegressor, path: Path) -> None:
        estimator.save_model(str(path))

    def _load_estimator(self, path: Path) -> xgb.XGBRegressor:
        import xgboost as xgb

        booster = xgb.XGBRegressor(n_jobs=self.params["n_jobs"])
        booster.load_model(str(path))
        return booster
