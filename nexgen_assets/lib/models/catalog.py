"""Every forecasting model by name, so stored parameters can rebuild the same model anywhere."""

from __future__ import annotations

from typing import Any

from nexgen_assets.lib.models.interface import Forecaster
from nexgen_assets.lib.models.lstm import LSTMForecaster
from nexgen_assets.lib.models.random_forest import RandomForestForecaster
from nexgen_assets.lib.models.seasonal_naive import SeasonalNaiveForecaster
from nexgen_assets.lib.models.statistical import CrostonForecaster, ETSForecaster, ThetaForecaster
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster

BASELINE = "seasonal_naive"
MODELS: dict[str, type[Forecaster]] = {
    "seasonal_naive": SeasonalNaiveForecaster,
    "xgboost": XGBoostForecaster,
    "random_forest": RandomForestForecaster,
    "lstm": LSTMForecaster,
    "ets": ETSForecaster,
    "theta": ThetaForecaster,
    "croston": CrostonForecaster,
}


def build_model(name: str, params: dict[str, Any] | None = None) -> Forecaster:
    """An unfitted model; ValueError names the unknown model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](**(params or {}))
