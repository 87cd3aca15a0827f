"""Global Random Forest (scikit-learn), bounded in memory by depth, leaf size and max_samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.lib.models.tabular import TabularEncoder, non_negative, training_rows

DEFAULTS = {
    "horizon": HORIZON_DAYS,
    "n_estimators": 80,
    "max_depth": 16,
    "min_samples_leaf": 5,
    "max_features": 0.5,
    "max_samples": 40_000,
    "max_rows": 400_000,
    "n_jobs": 2,
    "seed": 7,
}


class RandomForestForecaster(Forecaster):
    """Averaged deep trees on bootstrap samples of at most `max_samples` rows each."""

    name = "random_forest"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})
        self.encoder = TabularEncoder(self.params["horizon"])
        self.forest: RandomForestRegressor | None = None

    def fit(self, history: pd.DataFrame, train: pd.DataFrame) -> RandomForestForecaster:
        p = self.params
        rows = training_rows(train, p["horizon"], p["max_rows"], p["seed"])
        self.encoder.fit(rows)
        self.forest = RandomForestRegressor(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"],
            max_samples=min(p["max_samples"], len(rows)),
            n_jobs=p["n_jobs"],
            random_state=p["seed"],
        )
        matrix = self.encoder.transform(rows, as_category=False).fillna(-1.0).to_numpy()
        self.forest.fit(matrix, rows["quantity"].to_numpy())
        self.training_rows = len(rows)
        return self

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if self.forest is None:
            raise RuntimeError("random forest is not fitted")
        matrix = self.encoder.transform(future, as_category=False).fillna(-1.0).to_numpy()
        return non_negative(self.forest.predict(matrix))

    def feature_names(self) -> list[str]:
        return self.encoder.columns
