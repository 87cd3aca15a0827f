"""Global gradient-boosted trees (XGBoost) on the leak-free feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.lib.models.tabular import TabularEncoder, non_negative, training_rows

DEFAULTS = {
    "horizon": HORIZON_DAYS,
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


class XGBoostForecaster(Forecaster):
    """One booster for every series and horizon (squared error: it scored best on RMSE and bias)."""

    name = "xgboost"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})
        self.encoder = TabularEncoder(self.params["horizon"])
        self.booster: xgb.XGBRegressor | None = None

    def fit(self, history: pd.DataFrame, train: pd.DataFrame) -> XGBoostForecaster:
        p = self.params
        rows = training_rows(train, p["horizon"], p["max_rows"], p["seed"])
        self.encoder.fit(rows)
        extra = {"tweedie_variance_power": p["tweedie_variance_power"]} if p["objective"] == "reg:tweedie" else {}
        self.booster = xgb.XGBRegressor(
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
        self.booster.fit(self.encoder.transform(rows, as_category=True), target)
        self.training_rows = len(rows)
        return self

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("xgboost model is not fitted")
        return non_negative(self.booster.predict(self.encoder.transform(future, as_category=True)))

    def feature_names(self) -> list[str]:
        return self.encoder.columns
