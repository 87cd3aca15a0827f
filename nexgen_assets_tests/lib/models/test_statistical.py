import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.grain import HORIZON_DAYS
from nexgen_assets.lib.models.statistical import CrostonForecaster, ETSForecaster, ThetaForecaster

ORIGIN = dt.date(2024, 6, 30)
MODELS = [ETSForecaster, ThetaForecaster, CrostonForecaster]


def _series(store, product, values, end=ORIGIN):
    days = [end - dt.timedelta(days=len(values) - 1 - i) for i in range(len(values))]
    return pd.DataFrame({"store_id": store, "product_id": product, "date": days, "quantity": np.asarray(values, dtype=float)})


def _weekly(weeks, weekday=2.0, weekend=8.0, end=ORIGIN, seed=0):
    """Sales that are `weekend` on Saturday and Sunday and `weekday` otherwise, with a little noise."""
    days = pd.date_range(end=end, periods=7 * weeks)
    level = np.where(days.dayofweek >= 5, weekend, weekday)
    return np.round(level + np.random.default_rng(seed).normal(0, 0.3, len(days)), 2)


def _slow_mover(days, seed=1):
    """One unit every 4 to 6 days."""
    values, day = np.zeros(days), 0
    rng = np.random.default_rng(seed)
    while day < days:
        values[day] = 1.0
        day += int(rng.integers(4, 7))
    return values


def _history():
    return pd.concat([
        _series("S1", "P1", _weekly(16)),
        _series("S2", "P1", 40 + _weekly(12, seed=2)),
        _series("S1", "P2", _slow_mover(150)),
    ], ignore_index=True)


def _future(history, days=HORIZON_DAYS):
    last = max(history["date"])
    keys = history[["store_id", "product_id"]].drop_duplicates()
    dates = pd.DataFrame({"date": [last + dt.timedelta(days=k) for k in range(1, days + 1)]})
    return keys.merge(dates, how="cross")


@pytest.mark.parametrize("model_class", MODELS)
def test_forecasts_follow_the_rows_of_future_and_are_non_negative(model_class):
    history = _history()
    future = _future(history).sample(frac=1.0, random_state=3).reset_index(drop=True)
    future["price"] = 1.0
    forecast = model_class().fit(history).predict(history, future)
    assert forecast.dtype == np.float64 and forecast.shape == (len(future),)
    assert np.isfinite(forecast).all() and (forecast >= 0).all()
    big = (future["store_id"] == "S2").to_numpy()
    assert forecast[big].min() > 30 and forecast[~big].max() < 15
    ordered = future.sort_values(["store_id", "product_id", "date"])
    assert np.array_equal(model_class().fit(history).predict(history, ordered), forecast[ordered.index.to_numpy()])


def test_a_falling_series_is_clipped_at_zero_not_forecast_negative():
    falling = np.linspace(30, 1, 60) + np.random.default_rng(4).normal(0, 0.2, 60)
    history = _series("S1", "P1", falling)
    forecast = ThetaForecaster().fit(history).predict(history, _future(history))
    assert forecast[0] > 0 and forecast[-1] == 0.0 and (forecast >= 0).all()


def test_ets_keeps_the_weekly_pattern():
    history = _series("S1", "P1", _weekly(16))
    future = _future(history)
    forecast = ETSForecaster().fit(history).predict(history, future)
    weekend = pd.to_datetime(future["date"]).dt.dayofweek.to_numpy() >= 5
    assert forecast[weekend].min() > 6.0 and forecast[~weekend].max() < 4.0


def test_croston_gives_a_slow_mover_a_low_flat_rate():
    history = _series("S1", "P1", _slow_mover(180))
    forecast = CrostonForecaster().fit(history).predict(history, _future(history))
    assert np.ptp(forecast) == 0.0
    assert 0.15 <= forecast[0] <= 0.25


@pytest.mark.parametrize("model_class", MODELS)
def test_short_and_all_zero_series_get_the_mean_of_their_recent_days(model_class):
    history = pd.concat([
        _history(),
        _series("S3", "SHORT", [1.0, 0.0, 2.0]),
        _series("S3", "ZEROS", np.zeros(40)),
    ], ignore_index=True)
    future = _future(history)
    model = model_class().fit(history)
    forecast = model.predict(history, future)
    product = future["product_id"].to_numpy()
    assert np.all(forecast[product == "SHORT"] == 1.0)
    assert np.all(forecast[product == "ZEROS"] == 0.0)
    assert (model.fallback_series, model.failed_series) == (2, 0)
    alone = model_class().fit(_history()).predict(_history(), _future(_history()))
    assert np.array_equal(forecast[(product != "SHORT") & (product != "ZEROS")], alone)


@pytest.mark.parametrize("model_class", [ETSForecaster, ThetaForecaster])
def test_a_series_the_method_fails_on_falls_back_without_failing_the_others(model_class):
    history = pd.concat([_history(), _series("S3", "TINY", [2.0, 4.0])], ignore_index=True)
    future = _future(history)
    model = model_class(min_history_days=1).fit(history)
    forecast = model.predict(history, future)
    tiny = (future["product_id"] == "TINY").to_numpy()
    assert np.all(forecast[tiny] == 3.0)
    assert (model.fallback_series, model.failed_series) == (1, 1)
    assert forecast[(future["store_id"] == "S2").to_numpy()].min() > 30


def test_a_later_origin_refits_and_the_stored_origin_is_kept():
    history = _history()
    later = pd.concat([history, _series("S1", "P1", np.full(14, 30.0), end=ORIGIN + dt.timedelta(days=14))])
    later = pd.concat([later, _series("S2", "P1", np.full(14, 40.0), end=ORIGIN + dt.timedelta(days=14))])
    later = pd.concat([later, _series("S1", "P2", np.zeros(14), end=ORIGIN + dt.timedelta(days=14))], ignore_index=True)
    model = ETSForecaster().fit(history)
    stored = model.predict(history, _future(history))

    refitted = model.predict(later, _future(later))
    assert np.array_equal(refitted, ETSForecaster().fit(later).predict(later, _future(later)))
    s1_p1_later = ((_future(later)["store_id"] == "S1") & (_future(later)["product_id"] == "P1")).to_numpy()
    s1_p1 = ((_future(history)["store_id"] == "S1") & (_future(history)["product_id"] == "P1")).to_numpy()
    assert refitted[s1_p1_later].mean() > 3 * stored[s1_p1].mean()
    assert model.origin == ORIGIN
    assert np.array_equal(model.predict(history, _future(history)), stored)

    same_origin = history.assign(quantity=history["quantity"] * 10)
    assert np.array_equal(model.predict(same_origin, _future(history)), stored)


def test_series_not_seen_in_history_get_zero():
    history = _history()
    future = pd.concat([_future(history), _future(history).assign(store_id="S9")], ignore_index=True)
    forecast = CrostonForecaster().fit(history).predict(history, future)
    unseen = (future["store_id"] == "S9").to_numpy()
    assert np.all(forecast[unseen] == 0.0) and forecast[~unseen].min() > 0


def test_rows_past_the_horizon_are_a_clear_error():
    history = _history()
    model = ETSForecaster().fit(history)
    with pytest.raises(ValueError, match="horizon of 28 days"):
        model.predict(history, _future(history, HORIZON_DAYS + 1))


@pytest.mark.parametrize("model_class", MODELS)
def test_saves_as_json_and_parquet_without_the_training_data(model_class, tmp_path):
    history = _history()
    model = model_class(n_jobs=1).fit(history)
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast_table.parquet", "state.json"]
    restored = model_class.load(tmp_path)
    assert restored.params == model.params and restored.origin == ORIGIN
    assert (restored.fallback_series, restored.failed_series) == (model.fallback_series, model.failed_series)
    assert np.array_equal(restored.predict(history, _future(history)), model.predict(history, _future(history)))
    frames = [value for value in vars(restored).values() if isinstance(value, pd.DataFrame)]
    assert all("quantity" not in frame.columns and len(frame) == 3 * HORIZON_DAYS for frame in frames)


def test_params_rebuild_the_same_model_and_typos_are_refused():
    model = ThetaForecaster(model=None)
    assert model.clone().params == model.params == {**model.defaults, "model": None}
    with pytest.raises(ValueError, match="unknown parameters \\['season_lenght'\\]"):
        ETSForecaster(season_lenght=7)
    with pytest.raises(ValueError, match="ets: model must be"):
        ETSForecaster(model="XYZ")
    with pytest.raises(ValueError, match="croston: method must be one of"):
        CrostonForecaster(method="holt")


def test_history_with_missing_days_or_no_rows_is_refused():
    history = _history()
    with pytest.raises(ValueError, match="1 series have missing days"):
        ETSForecaster().fit(history.drop(index=5))
    with pytest.raises(ValueError, match="daily_sales is empty"):
        ETSForecaster().fit(history.iloc[0:0])
    with pytest.raises(RuntimeError, match="not fitted"):
        ETSForecaster().predict(history, _future(history))


def test_only_the_last_history_days_are_fitted():
    """A strong weekend peak until a month ago, flat since: a 28-day fit no longer sees the peak."""
    rng = np.random.default_rng(3)
    old = [20.0 if k % 7 in (5, 6) else 2.0 for k in range(301)]
    values = old + list(5.0 + rng.normal(0, 0.3, 28))
    history = _series("S1", "P1", values)
    recent = ETSForecaster(history_days=28).fit(history).predict(history, _future(history))
    whole = ETSForecaster(history_days=365).fit(history).predict(history, _future(history))
    assert np.ptp(recent) < 0.5 * np.ptp(whole)
