"""XGBoost on a small synthetic panel: finds each series' level, trains on warm rows only."""

import pandas as pd
import pytest

from nexgen_assets.lib.features.feature_table import feature_columns
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.tabular import CATEGORICAL
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster
from nexgen_assets_tests.lib.conftest import FAST, H, feature_panel


def test_learned_models_find_the_level_of_each_series():
    panel = feature_panel(days=300)
    history, future = history_of(panel), future_of(panel)
    forecast = XGBoostForecaster(**FAST["xgboost"]).fit(history, panel[~panel["is_future"]]).predict(history, future)
    by_series = pd.Series(forecast).groupby(future["product_id"].to_numpy()).mean()
    assert by_series["P5"] > 3 * by_series["P0"]


def test_trains_on_rows_with_a_known_first_lag_capped_at_max_rows():
    panel = feature_panel(series=2, days=60)
    observed = panel[~panel["is_future"]]
    model = XGBoostForecaster(n_estimators=5).fit(history_of(panel), observed)
    assert model.training_rows == 2 * (60 - H)
    assert model.params["n_estimators"] == 5 and model.params["horizon"] == H
    assert model.feature_names() == [*feature_columns(H), *CATEGORICAL]
    capped = XGBoostForecaster(n_estimators=5, max_rows=50).fit(history_of(panel), observed)
    assert capped.training_rows == 50


def test_predicting_before_fitting_is_a_clear_error():
    panel = feature_panel(series=1, days=60)
    with pytest.raises(RuntimeError, match="xgboost model is not fitted"):
        XGBoostForecaster().predict(history_of(panel), future_of(panel))
