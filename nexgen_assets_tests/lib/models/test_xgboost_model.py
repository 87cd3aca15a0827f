"""XGBoost on a small synthetic panel: finds each series' level, trains on warm rows only."""

import pandas as pd
import pytest

from nexgen_assets.lib.features.feature_table import all_feature_columns
from nexgen_assets.lib.grain import MODEL_SPANS
from nexgen_assets.lib.models.inputs import future_of, history_of
from nexgen_assets.lib.models.tabular import CATEGORICAL
from nexgen_assets.lib.models.xgboost_model import XGBoostForecaster
from nexgen_assets_tests.lib.conftest import FAST, feature_panel


def test_learned_models_find_the_level_of_each_series():
    panel = feature_panel(days=300)
    history, future = history_of(panel), future_of(panel)
    forecast = XGBoostForecaster(**FAST["xgboost"]).fit(history, panel[~panel["is_future"]]).predict(history, future)
    by_series = pd.Series(forecast).groupby(future["product_id"].to_numpy()).mean()
    assert by_series["P5"] > 3 * by_series["P0"]


def test_trains_one_model_per_span_on_rows_with_its_first_lag_capped_at_max_rows():
    panel = feature_panel(series=2, days=60)
    observed = panel[~panel["is_future"]]
    model = XGBoostForecaster(n_estimators=5).fit(history_of(panel), observed)
    assert [(first, last) for first, last, *_ in model.spans] == list(MODEL_SPANS)
    assert model.training_rows == sum(2 * (60 - last) for _, last in MODEL_SPANS)
    assert model.params["n_estimators"] == 5
    assert set(model.feature_names()) == {*all_feature_columns(), *CATEGORICAL}
    capped = XGBoostForecaster(n_estimators=5, max_rows=60).fit(history_of(panel), observed)
    assert capped.training_rows == 60


def test_each_horizon_is_served_by_its_span_model():
    """A spike in the last observed week moves the forecast of the first span only: later spans cannot see it."""
    panel = feature_panel(series=2, days=120)
    observed = panel[~panel["is_future"]]
    model = XGBoostForecaster(**FAST["xgboost"]).fit(history_of(panel), observed)
    future = future_of(panel)
    horizon = (pd.to_datetime(future["date"]) - pd.Timestamp(max(observed["date"]))).dt.days.to_numpy()
    spiked = future.copy()
    week_lags = [c for c in all_feature_columns() if c.endswith("_l7") or c in ("lag_7", "lag_14")]
    spiked.loc[horizon <= 7, week_lags] = spiked.loc[horizon <= 7, week_lags] * 10 + 50
    base, moved = model.predict(history_of(panel), future), model.predict(history_of(panel), spiked)
    assert (moved[horizon <= 7] > base[horizon <= 7]).mean() > 0.5
    assert (moved[horizon > 7] == base[horizon > 7]).all()


def test_rows_beyond_the_horizon_are_refused():
    panel = feature_panel(series=1, days=80)
    model = XGBoostForecaster(n_estimators=3).fit(history_of(panel), panel[~panel["is_future"]])
    late = future_of(panel).assign(date=lambda f: pd.to_datetime(f["date"]) + pd.Timedelta(days=28))
    with pytest.raises(ValueError, match="1 to 28 days"):
        model.predict(history_of(panel), late)


def test_predicting_before_fitting_is_a_clear_error():
    panel = feature_panel(series=1, days=60)
    with pytest.raises(RuntimeError, match="xgboost model is not fitted"):
        XGBoostForecaster().predict(history_of(panel), future_of(panel))
