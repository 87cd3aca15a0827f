"""Random Forest on a small synthetic panel: finds each series' level, survives unseen series, loads only trusted types."""

import fractions

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

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


def test_a_stored_forest_needing_a_type_outside_the_allowlist_is_refused(tmp_path):
    panel = feature_panel(series=1, days=60)
    model = RandomForestForecaster(n_estimators=2, n_jobs=1).fit(history_of(panel), panel[~panel["is_future"]])
    model.save(tmp_path)
    assert RandomForestForecaster.load(tmp_path).spans[0][3].n_estimators == 2
    forest = model.spans[0][3]
    forest.smuggled_ = fractions.Fraction(1, 3)
    sio.dump(forest, tmp_path / "span_01_07.skops")
    with pytest.raises(ValueError, match=r"span_01_07.skops needs untrusted types \['fractions.Fraction'\]"):
        RandomForestForecaster.load(tmp_path)
