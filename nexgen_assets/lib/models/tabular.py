"""What the tree models share: the feature matrix, stable category codes, and one direct model per horizon span.

A span's model (see MODEL_SPANS) is trained on the feature set lagged by the span's
last day and serves only the future rows whose horizon falls in the span, so the
model for the next week reads last week's sales and stays leak-free.

Saved, a span is one estimator file in its library's own safe format (see `suffix`) and
its encoder (columns and category levels) as JSON in state.json.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nexgen_assets.lib.features.feature_table import feature_columns
from nexgen_assets.lib.grain import HORIZON_DAYS, MODEL_SPANS
from nexgen_assets.lib.models.interface import Forecaster, horizon_of

CATEGORICAL = ["store_id", "product_id", "category"]


class TabularEncoder:
    """Turns feature rows into a numeric matrix; category levels are fixed at fit time."""

    def __init__(self, lag: int) -> None:
        self.lag = lag
        self.numeric = feature_columns(lag)
        self.levels: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *CATEGORICAL]

    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        self.levels = {c: sorted(frame[c].dropna().astype(str).unique()) for c in CATEGORICAL}
        return self

    def to_json(self) -> dict[str, Any]:
        return {"lag": self.lag, "numeric": list(self.numeric), "levels": self.levels}

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> TabularEncoder:
        """The encoder as fitted, with the stored columns (not today's feature list) so a stored model reads what it learned."""
        encoder = cls(int(state["lag"]))
        encoder.numeric = [str(c) for c in state["numeric"]]
        encoder.levels = {c: [str(v) for v in state["levels"][c]] for c in CATEGORICAL}
        return encoder

    def transform(self, frame: pd.DataFrame, as_category: bool) -> pd.DataFrame:
        """Numeric features as float32; categories as pandas categoricals or integer codes (-1 unseen)."""
        out = frame[self.numeric].astype("float32")
        for col in CATEGORICAL:
            cat = pd.Categorical(frame[col].astype(str), categories=self.levels[col])
            out[col] = cat if as_category else cat.codes.astype("float32")
        return out


def training_rows(train: pd.DataFrame, lag: int, max_rows: int | None, seed: int) -> pd.DataFrame:
    """Rows with a target and a warm history (first lag known), sampled down to max_rows."""
    usable = train[train["quantity"].notna() & train[f"lag_{lag}"].notna()]
    if max_rows and len(usable) > max_rows:
        usable = usable.sample(n=max_rows, random_state=seed)
    return usable


def non_negative(values: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(values, dtype="float64"), 0.0, None)


class SpanwiseTreeForecaster(Forecaster):
    """A global tree model per horizon span; `max_rows` bounds the training rows of all spans together."""

    label = "tree model"
    reads_feature_rows = True
    suffix: ClassVar[str] = ""
    """File suffix of one span's saved estimator."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.spans: list[tuple[int, int, TabularEncoder, Any]] = []

    @abstractmethod
    def _fit_span(self, encoder: TabularEncoder, rows: pd.DataFrame) -> Any:
        """A fitted estimator for one span's training rows."""

    @abstractmethod
    def _predict_span(self, estimator: Any, encoder: TabularEncoder, rows: pd.DataFrame) -> np.ndarray:
        """Point forecasts of one span's future rows."""

    @abstractmethod
    def _save_estimator(self, estimator: Any, path: Path) -> None:
        """Write one span's estimator to path in a format that loads without running code from the file."""

    @abstractmethod
    def _load_estimator(self, path: Path) -> Any:
        """The estimator `_save_estimator` wrote."""

    def _span_file(self, first: int, last: int) -> str:
        return f"span_{first:02d}_{last:02d}{self.suffix}"

    def _save_state(self, folder: Path) -> dict[str, Any]:
        """One estimator file per span; the spans and their encoders in state.json."""
        if not self.spans:
            raise RuntimeError(f"{self.label} is not fitted")
        spans = []
        for first, last, encoder, estimator in self.spans:
            self._save_estimator(estimator, folder / self._span_file(first, last))
            spans.append({"first": first, "last": last, "encoder": encoder.to_json()})
        return {"spans": spans}

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        self.spans = []
        for span in state["spans"]:
            first, last = int(span["first"]), int(span["last"])
            estimator = self._load_estimator(folder / self._span_file(first, last))
            self.spans.append((first, last, TabularEncoder.from_json(span["encoder"]), estimator))

    def fit(self, history: pd.DataFrame, train: pd.DataFrame) -> SpanwiseTreeForecaster:
        p = self.params
        per_span = p["max_rows"] // len(MODEL_SPANS) if p["max_rows"] else None
        self.spans, self.training_rows = [], 0
        for first, last in MODEL_SPANS:
            rows = training_rows(train, last, per_span, p["seed"])
            if rows.empty:
                raise ValueError(f"{self.label} has no training rows with {last} days of history for horizons {first}-{last}")
            encoder = TabularEncoder(last).fit(rows)
            self.spans.append((first, last, encoder, self._fit_span(encoder, rows)))
            self.training_rows += len(rows)
        return self

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if not self.spans:
            raise RuntimeError(f"{self.label} is not fitted")
        horizon = horizon_of(future, max(pd.to_datetime(history["date"])))
        if len(horizon) and (horizon.min() < 1 or horizon.max() > HORIZON_DAYS):
            raise ValueError(f"{self.label} forecasts 1 to {HORIZON_DAYS} days after the last history day; "
                             f"got horizons {horizon.min()} to {horizon.max()}")
        out = np.zeros(len(future))
        for first, last, encoder, estimator in self.spans:
            in_span = (horizon >= first) & (horizon <= last)
            if in_span.any():
                out[in_span] = self._predict_span(estimator, encoder, future[in_span])
        return non_negative(out)

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for *_, encoder, _ in self.spans:
            names += [c for c in encoder.columns if c not in names]
        return names
