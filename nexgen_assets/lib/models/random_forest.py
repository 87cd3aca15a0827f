"""Global Random Forest (scikit-learn), bounded in memory by depth, leaf size and max_samples.

Stored with skops, which rebuilds only types it is told to trust: scikit-learn's estimators
and NumPy arrays by default, plus the tree structure in TRUSTED_TYPES. A file needing any
other type is refused before it is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nexgen_assets.lib.models.tabular import SpanwiseTreeForecaster, TabularEncoder

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestRegressor

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
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
"""Types a stored forest may hold beyond what skops trusts by default (the compiled tree of each estimator)."""


class RandomForestForecaster(SpanwiseTreeForecaster):
    """Averaged deep trees per horizon span, on bootstrap samples of at most `max_samples` rows each."""

    name = "random_forest"
    label = "random forest"
    suffix = ".skops"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})

    def _fit_span(self, encoder: TabularEncoder, rows: pd.DataFrame) -> RandomForestRegressor:
        p = self.params
        from sklearn.ensemble import RandomForestRegressor

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

    def _save_estimator(self, estimator: RandomForestRegressor, path: Path) -> None:
        import skops.io as sio

        sio.dump(estimator, path)

    def _load_estimator(self, path: Path) -> RandomForestRegressor:
        import skops.io as sio
        from sklearn.ensemble import RandomForestRegressor

        """The forest, after checking the file asks for no type outside skops' defaults and TRUSTED_TYPES."""
        unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
        if unexpected:
            raise ValueError(f"random forest file {path.name} needs untrusted types {unexpected}; refusing to load it")
        forest = sio.load(path, trusted=TRUSTED_TYPES)
        if not isinstance(forest, RandomForestRegressor):
            raise ValueError(f"random forest file {path.name} holds a {type(forest).__name__}, not a RandomForestRegressor")
        return forest


def _matrix(encoder: TabularEncoder, rows: pd.DataFrame) -> np.ndarray:
    return encoder.transform(rows, as_category=False).fillna(-1.0).to_numpy()
