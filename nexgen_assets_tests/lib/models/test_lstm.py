"""The LSTM's data shaping: a zero-filled series matrix, left padding; clear errors before a fit; safe loading."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.models.lstm import NETWORK_FILE, LSTMForecaster, _keras, _left_pad, series_matrix

D = dt.date(2025, 1, 1)


def _history(rows):
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity"])


def test_series_matrix_zero_fills_missing_days_and_sums_repeated_ones():
    history = _history([
        ("S1", "P1", D, 2.0), ("S1", "P1", D + dt.timedelta(days=3), 5.0),
        ("S2", "P1", D + dt.timedelta(days=1), 1.0), ("S2", "P1", D + dt.timedelta(days=1), 4.0),
    ])
    keys, values, days = series_matrix(history)
    assert keys.to_dict("records") == [{"store_id": "S1", "product_id": "P1"}, {"store_id": "S2", "product_id": "P1"}]
    assert values.dtype == np.float32
    assert values.tolist() == [[2.0, 0.0, 0.0, 5.0], [0.0, 5.0, 0.0, 0.0]]
    assert list(days) == list(pd.date_range(D, periods=4))


def test_short_histories_are_left_padded_with_zero_days():
    values = np.array([[1.0, 2.0]], dtype="float32")
    days = pd.date_range(D, periods=2)
    padded, padded_days = _left_pad(values, days, 5)
    assert padded.tolist() == [[0.0, 0.0, 0.0, 1.0, 2.0]]
    assert padded_days[-1] == days[-1] and len(padded_days) == 5
    same, same_days = _left_pad(values, days, 2)
    assert same is values and same_days is days


def test_predicting_before_fitting_is_a_clear_error():
    history = _history([("S1", "P1", D, 1.0)])
    with pytest.raises(RuntimeError, match="lstm is not fitted"):
        LSTMForecaster().predict(history, history)


def test_a_history_no_longer_than_the_horizon_is_refused():
    history = _history([("S1", "P1", D + dt.timedelta(days=k), 1.0) for k in range(20)])
    with pytest.raises(ValueError, match="lstm needs more than 28 days of history, got 20"):
        LSTMForecaster(horizon=28).fit(history)


def test_a_stored_network_with_python_code_in_it_is_refused(tmp_path):
    """A Lambda layer carries serialised Python; Keras' safe mode refuses it, so a .keras file cannot run code on load."""
    keras = _keras()
    inputs = keras.Input(shape=(3,))
    network = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    network.save(str(tmp_path / NETWORK_FILE))
    (tmp_path / "state.json").write_text(
        '{"model": "lstm", "params": {}, "training_rows": 1, "history_epochs": 1}')
    with pytest.raises(ValueError, match="(?i)unsafe|safe_mode|lambda"):
        LSTMForecaster.load(tmp_path)
