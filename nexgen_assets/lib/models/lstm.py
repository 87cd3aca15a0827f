"""A global sequence model (Keras 3 LSTM) that reads the last weeks of a series and emits the horizon.

Each training example is a window of one series: `window` days of scaled quantity
(with the weekday and promo of each day) in, the next `horizon` days out, scaled by the
window's mean so fast and slow sellers share one network. Windows are sampled, which
bounds memory and time whatever the number of series.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nexgen_assets.lib.grain import HORIZON_DAYS, SERIES_KEYS
from nexgen_assets.lib.models.interface import Forecaster, horizon_of

DEFAULTS = {
    "horizon": HORIZON_DAYS,
    "window": 56,
    "units": 64,
    "dense_units": 64,
    "epochs": 12,
    "batch_size": 256,
    "learning_rate": 0.003,
    "windows_per_series": 60,
    "max_windows": 24_000,
    "validation_share": 0.1,
    "seed": 7,
}
NETWORK_FILE = "network.keras"


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    return keras


def series_matrix(history: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pd.DatetimeIndex]:
    """Series keys, a (series x day) quantity matrix zero-filled from the first to the last day, and the days."""
    frame = history[[*SERIES_KEYS, "date", "quantity"]].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    days = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    wide = frame.pivot_table(index=SERIES_KEYS, columns="date", values="quantity", aggfunc="sum").reindex(
        columns=days
    )
    keys = wide.index.to_frame(index=False)
    return keys, wide.fillna(0.0).to_numpy(dtype="float32"), days


def _left_pad(values: np.ndarray, days: pd.DatetimeIndex, length: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Zero days before the first sale, so a short history still fills a window."""
    if values.shape[1] >= length:
        return values, days
    pad = np.zeros((values.shape[0], length - values.shape[1]), dtype="float32")
    return np.concatenate([pad, values], axis=1), pd.date_range(end=days[-1], periods=length, freq="D")


class LSTMForecaster(Forecaster):
    name = "lstm"

    def __init__(self, **params) -> None:
        super().__init__(**{**DEFAULTS, **params})
        self.network = None
        self.history_epochs = 0

    def _build(self, n_seq_features: int, n_static: int):
        keras = _keras()
        p = self.params
        seq_in = keras.Input(shape=(p["window"], n_seq_features), name="sequence")
        static_in = keras.Input(shape=(n_static,), name="static")
        encoded = keras.layers.LSTM(p["units"])(seq_in)
        joined = keras.layers.Concatenate()([encoded, static_in])
        hidden = keras.layers.Dense(p["dense_units"], activation="relu")(joined)
        out = keras.layers.Dense(p["horizon"], activation="softplus")(hidden)
        model = keras.Model([seq_in, static_in], out)
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss="mse")
        return model

    def fit(self, history: pd.DataFrame, train: pd.DataFrame | None = None) -> LSTMForecaster:
        keras = _keras()
        p = self.params
        keras.utils.set_random_seed(p["seed"])
        rng = np.random.default_rng(p["seed"])
        _, values, days = series_matrix(history)
        window, horizon = p["window"], p["horizon"]
        if values.shape[1] <= horizon:
            raise ValueError(f"lstm needs more than {horizon} days of history, got {values.shape[1]}")
        values, days = _left_pad(values, days, window + horizon)
        last_end = values.shape[1] - horizon - 1
        per_series = min(p["windows_per_series"], max(1, p["max_windows"] // max(1, values.shape[0])))
        rows = np.repeat(np.arange(values.shape[0]), per_series)
        ends = rng.integers(window - 1, last_end + 1, size=len(rows))
        idx = ends[:, None] + np.arange(-window + 1, 1)[None, :]
        seq = values[rows[:, None], idx]
        target = values[rows[:, None], ends[:, None] + np.arange(1, horizon + 1)[None, :]]
        scale = seq.mean(axis=1) + 0.1
        dow = days.dayofweek.to_numpy()
        x_seq = np.concatenate([(seq / scale[:, None])[..., None], np.eye(7, dtype="float32")[dow[idx]]], axis=2)
        x_static = np.concatenate(
            [np.eye(7, dtype="float32")[(dow[ends] + 1) % 7], np.log1p(scale)[:, None]], axis=1
        )
        y = target / scale[:, None]
        self.network = self._build(x_seq.shape[2], x_static.shape[1])
        stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        fitted = self.network.fit(
            [x_seq.astype("float32"), x_static.astype("float32")],
            y.astype("float32"),
            epochs=p["epochs"],
            batch_size=p["batch_size"],
            validation_split=p["validation_share"],
            callbacks=[stop],
            verbose=0,
            shuffle=True,
        )
        self.history_epochs = len(fitted.history["loss"])
        self.training_rows = len(rows)
        return self

    def predict(self, history: pd.DataFrame, future: pd.DataFrame) -> np.ndarray:
        if self.network is None:
            raise RuntimeError("lstm is not fitted")
        p = self.params
        keys, values, days = series_matrix(history)
        window = p["window"]
        values, days = _left_pad(values, days, window)
        end = values.shape[1] - 1
        seq = values[:, end - window + 1 : end + 1]
        scale = seq.mean(axis=1) + 0.1
        dow = days.dayofweek.to_numpy()
        x_seq = np.concatenate(
            [(seq / scale[:, None])[..., None], np.repeat(np.eye(7, dtype="float32")[dow[-window:]][None], len(seq), 0)],
            axis=2,
        )
        x_static = np.concatenate(
            [np.repeat(np.eye(7, dtype="float32")[[(dow[end] + 1) % 7]], len(seq), 0), np.log1p(scale)[:, None]],
            axis=1,
        )
        out = self.network.predict([x_seq.astype("float32"), x_static.astype("float32")], verbose=0) * scale[:, None]
        wide = pd.DataFrame(out, columns=np.arange(1, p["horizon"] + 1))
        long = pd.concat([keys, wide], axis=1).melt(id_vars=SERIES_KEYS, var_name="horizon", value_name="forecast")
        long["horizon"] = long["horizon"].astype(int)
        rows = future[SERIES_KEYS].copy()
        rows["horizon"] = horizon_of(future, days[-1])
        merged = rows.merge(long, on=[*SERIES_KEYS, "horizon"], how="left")
        return np.clip(merged["forecast"].fillna(0.0).to_numpy(dtype="float64"), 0.0, None)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        """The network as a Keras 3 .keras file (architecture as JSON, weights as HDF5; no Lambda layers)."""
        if self.network is None:
            raise RuntimeError("lstm is not fitted")
        self.network.save(str(folder / NETWORK_FILE))
        return {"history_epochs": self.history_epochs}

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        """Loaded in Keras' safe mode (no deserialised Python code) and uncompiled: predicting needs no optimizer."""
        self.network = _keras().models.load_model(str(folder / NETWORK_FILE), compile=False, safe_mode=True)
        self.history_epochs = int(state["history_epochs"])
