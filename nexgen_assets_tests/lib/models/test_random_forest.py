"""Random Forest on a small synthetic panel: finds each series' level, survives unseen series."""

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.grain import HORIZON_DAYS, MODEL_SPANS
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.random_forest import RandomForestForecaster
from nexgen_assets_tests.lib.conftest import FAST, feature_panel


def test_learned_models_find_the_level_of_each_series():
    panel = feature_panel(days=300)
    history, future = history_of(panel), future_of(panel)
    forecast = (
        RandomForestForecaster(**FAST["random_forest"]).fit(history, panel[~panel["is_future"]]).predict(history, future)
    )
    by_series = pd.Series(forecast).groupby(future["product_id"].to_numpy()).mean()
    assert by_series["P5"] > 3 * by_series["P0"]


def test_trains_on_warm_rows_and_forecasts_a_series_it_has_not_seen():
    panel = feature_panel(series=2, days=60)
    observed = panel[~panel["is_future"]]
    full = RandomForestForecaster(n_estimators=5).fit(history_of(panel), observed)
    assert full.training_rows == sum(2 * (60 - last) for _, last in MODEL_SPANS)
    model = RandomForestForecaster(n_estimators=5, max_rows=60).fit(history_of(panel), observed)
    assert model.training_rows == 60 and [forest.max_samples for *_, forest in model.spans] == [20, 20, 20]
    future = future_of(panel).assign(store_id="S_NEW", product_id="P_NEW")
    forecast = model.predict(history_of(panel), future)
    assert forecast.shape == (len(future),) and np.isfinite(forecast).all() and (forecast >= 0).all()
    assert len(history_of(panel)) == 2 * 60 and len(future) == 2 * HORIZON_DAYS


def test_predicting_before_fitting_is_a_clear_error():
    panel = feature_panel(series=1, days=60)
    with pytest.raises(RuntimeError, match="random forest is not fitted"):
        RandomForestForecaster().predict(history_of(panel), future_of(panel))
