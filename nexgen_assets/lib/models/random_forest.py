"""Global Random Forest (scikit-learn), bounded in memory by depth, leaf size and max_samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from nexgen_assets.lib.models.tabular import SpanwiseTreeForecaster, TabularEncoder

DEFAULTS = {
    "n_estimators": 40,
    "max_depth": 16,
    "min_samples_leaf": 5,
    "max_features": 0.5,
    "max_samples": 40_000,
    "max_rows": 400_000,
    "n_jobs": 2,
    "seed": 7,
}


class RandomForestForecaster(SpanwiseTreeForecaster):
    """Averaged deep trees per horizon span, on bootstrap samples of at most `max_samples` rows each."""

    name = "random_forest"
    label = "random forest"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})

    def _fit_span(self, encoder: TabularEncoder, rows: pd.DataFrame) -> RandomForestRegressor:
        p = self.params
        forest = RandomForestRegressor(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"],
            max_samples=min(p["max_samples"], len(rows)),
            n_jobs=p["n_jobs"],
            random_state=p["seed"],
        )
        return forest.fit(_matrix(encoder, rows), rows["quantity"].to_numpy())

    def _predict_span(self, estimator: RandomForestRegressor, encoder: TabularEncoder, rows: pd.DataFrame) -> np.ndarray:
        return estimator.predict(_matrix(encoder, rows))


def _matrix(encoder: TabularEncoder, rows: pd.DataFrame) -> np.ndarray:
    return encoder.transform(rows, as_category=False).fillna(-1.0).to_numpy()
