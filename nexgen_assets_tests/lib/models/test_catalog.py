"""Every model on one small synthetic panel: fits and predicts the right rows (stored round trips: test_store.py)."""

import numpy as np
import pytest

from nexgen_assets.lib.models.catalog import MODELS, build_model
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets_tests.lib.conftest import FAST, feature_panel


@pytest.mark.parametrize("name", list(MODELS))
def test_model_fits_and_predicts(name):
    panel = feature_panel()
    history, future = history_of(panel), future_of(panel)
    model = build_model(name, FAST[name]).fit(history, panel[~panel["is_future"]])
    forecast = model.predict(history, future)
    assert forecast.shape == (len(future),)
    assert np.isfinite(forecast).all() and (forecast >= 0).all()
    assert model.training_rows > 0


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown model 'prophet'"):
        build_model("prophet")
