"""Every model on one small synthetic panel: fits, predicts the right rows, survives a round trip."""

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.evaluation.backtest import fold_origins, run_backtest, split_at
from nexgen_assets.lib.features.feature_table import feature_columns
from nexgen_assets.lib.models.catalog import MODELS, build_model
from nexgen_assets.lib.models.inputs import future_of, history_of

H = 28


def _panel(series: int = 6, days: int = 200, seed: int = 0) -> pd.DataFrame:
    """A feature table like sales_features: weekly pattern, level per series, lags computed in pandas."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days + H)
    frames = []
    for s in range(series):
        level = 2.0 + 3 * s
        weekly = 1 + 0.5 * (dates.dayofweek >= 5)
        qty = rng.poisson(level * weekly).astype(float)
        qty[days:] = np.nan
        f = pd.DataFrame({"store_id": f"S{s % 2}", "product_id": f"P{s}", "category": "c", "date": dates.date,
                          "quantity": qty, "is_future": np.arange(days + H) >= days})
        q = pd.Series(qty)
        for col in feature_columns(H):
            f[col] = 0.0
        for extra in (0, 7, 14, 21, 28, 336):
            f[f"lag_{H + extra}"] = q.shift(H + extra)
        for w in (7, 28, 56, 182):
            f[f"rmean_{w}_l{H}"] = q.shift(H).rolling(w, min_periods=1).mean()
        f["day_of_week"] = dates.dayofweek + 1
        f["is_weekend"] = (dates.dayofweek >= 5).astype(int)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


FAST = {
    "seasonal_naive": {},
    "xgboost": {"n_estimators": 60},
    "random_forest": {"n_estimators": 20},
    "lstm": {"epochs": 2, "units": 8, "dense_units": 8, "max_windows": 400},
}


@pytest.mark.parametrize("name", list(MODELS))
def test_model_fits_predicts_and_pickles(name):
    panel = _panel()
    history, future = history_of(panel), future_of(panel)
    model = build_model(name, FAST[name]).fit(history, panel[~panel["is_future"]])
    forecast = model.predict(history, future)
    assert forecast.shape == (len(future),)
    assert np.isfinite(forecast).all() and (forecast >= 0).all()
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict(history, future), forecast, rtol=1e-5)
    assert model.training_rows > 0


@pytest.mark.parametrize("name", ["xgboost", "random_forest"])
def test_learned_models_find_the_level_of_each_series(name):
    panel = _panel(days=300)
    history, future = history_of(panel), future_of(panel)
    forecast = build_model(name, FAST[name]).fit(history, panel[~panel["is_future"]]).predict(history, future)
    by_series = pd.Series(forecast).groupby(future["product_id"].to_numpy()).mean()
    assert by_series["P5"] > 3 * by_series["P0"]


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown model 'prophet'"):
        build_model("prophet")


def test_folds_share_origins_and_never_train_on_the_scored_days():
    panel = _panel()
    observed = panel[~panel["is_future"]]
    history = history_of(panel)
    last = max(history["date"])
    origins = fold_origins(last, H, 3)
    assert origins == [last - dt.timedelta(days=84), last - dt.timedelta(days=56), last - dt.timedelta(days=28)]
    past, train, future = split_at(history, observed, origins[0], H)
    assert max(past["date"]) == origins[0] and max(train["date"]) == origins[0]
    assert min(future["date"]) == origins[0] + dt.timedelta(days=1)
    assert max(future["date"]) == origins[0] + dt.timedelta(days=H)
    models = {n: build_model(n, FAST[n]) for n in ("seasonal_naive", "xgboost")}
    scored, timings = run_backtest(models, history, observed, H, 3)
    assert set(scored.groupby("model")["fold"].nunique()) == {3}
    keys = {
        name: sorted(zip(g["fold"], g["store_id"], g["product_id"], g["date"], strict=True))
        for name, g in scored.groupby("model")
    }
    assert keys["seasonal_naive"] == keys["xgboost"]
    assert scored["horizon"].between(1, H).all() and len(timings) == 6


def test_short_history_uses_the_folds_that_fit_and_names_the_shortfall():
    panel = _panel(days=100)
    observed = panel[~panel["is_future"]]
    models = {"seasonal_naive": build_model("seasonal_naive")}
    scored, _ = run_backtest(models, history_of(panel), observed, H, 3)
    assert scored["fold"].nunique() == 1
    tiny = _panel(days=60)
    with pytest.raises(ValueError, match="at least 84 days of history; daily_sales has 60"):
        run_backtest(models, history_of(tiny), tiny[~tiny["is_future"]], H, 3)
