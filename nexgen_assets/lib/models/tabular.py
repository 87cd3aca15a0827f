"""Shared encoding for the tree models: the feature matrix and stable category codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexgen_assets.lib.features.feature_table import feature_columns

CATEGORICAL = ["store_id", "product_id", "category"]


class TabularEncoder:
    """Turns feature rows into a numeric matrix; category levels are fixed at fit time."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self.numeric = feature_columns(horizon)
        self.levels: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *CATEGORICAL]

    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        self.levels = {c: sorted(frame[c].dropna().astype(str).unique()) for c in CATEGORICAL}
        return self

    def transform(self, frame: pd.DataFrame, as_category: bool) -> pd.DataFrame:
        """Numeric features as float32; categories as pandas categoricals or integer codes (-1 unseen)."""
        out = frame[self.numeric].astype("float32")
        for col in CATEGORICAL:
            cat = pd.Categorical(frame[col].astype(str), categories=self.levels[col])
            out[col] = cat if as_category else cat.codes.astype("float32")
        return out


def training_rows(train: pd.DataFrame, horizon: int, max_rows: int | None, seed: int) -> pd.DataFrame:
    """Rows with a target and a warm history (first lag known), sampled down to max_rows."""
    usable = train[train["quantity"].notna() & train[f"lag_{horizon}"].notna()]
    if max_rows and len(usable) > max_rows:
        usable = usable.sample(n=max_rows, random_state=seed)
    return usable


def non_negative(values: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(values, dtype="float64"), 0.0, None)
