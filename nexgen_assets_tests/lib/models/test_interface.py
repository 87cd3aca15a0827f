"""The forecaster interface: horizons counted from the origin, clones unfitted with the same parameters, saved as JSON."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.models.interface import Forecaster, horizon_of


class _Mean(Forecaster):
    name = "mean"

    def fit(self, history, train):
        self.level = float(history["quantity"].mean())
        self.training_rows = len(history)
        return self

    def predict(self, history, future):
        return np.full(len(future), self.level)

    def _save_state(self, folder):
        return {"level": self.level}

    def _load_state(self, folder, state):
        self.level = state["level"]


class _Other(_Mean):
    name = "other"


def test_horizon_counts_days_after_the_origin():
    future = pd.DataFrame({"date": [dt.date(2025, 1, 2), dt.date(2025, 1, 29), dt.date(2025, 1, 1)]})
    assert horizon_of(future, dt.date(2025, 1, 1)).tolist() == [1, 28, 0]
    assert horizon_of(future.assign(date=pd.to_datetime(future["date"])), pd.Timestamp("2024-12-31")).tolist() == [2, 29, 1]


def test_clone_is_unfitted_with_the_same_parameters():
    fitted = _Mean(alpha=0.5).fit(pd.DataFrame({"quantity": [1.0, 3.0]}), None)
    assert fitted.training_rows == 2 and fitted.predict(None, pd.DataFrame({"x": [0, 0]})).tolist() == [2.0, 2.0]
    twin = fitted.clone()
    assert type(twin) is _Mean and twin is not fitted
    assert twin.params == {"alpha": 0.5} and twin.training_rows == 0 and not hasattr(twin, "level")
    assert twin.feature_names() == ["quantity"]


def test_a_model_must_implement_fit_and_predict():
    with pytest.raises(TypeError, match="abstract"):
        Forecaster()


def test_save_writes_name_params_rows_and_state_as_json_and_load_restores_them(tmp_path):
    fitted = _Mean(alpha=0.5).fit(pd.DataFrame({"quantity": [1.0, 3.0]}), None)
    fitted.save(tmp_path)
    assert json.loads((tmp_path / "state.json").read_text()) == {
        "model": "mean", "params": {"alpha": 0.5}, "training_rows": 2, "level": 2.0}
    restored = _Mean.load(tmp_path)
    assert type(restored) is _Mean and restored.params == {"alpha": 0.5} and restored.training_rows == 2
    assert restored.predict(None, pd.DataFrame({"x": [0]})).tolist() == [2.0]
    with pytest.raises(ValueError, match="holds a 'mean' model, not 'other'"):
        _Other.load(tmp_path)
