"""Shared by the library tests: warehouse fixtures (SQLite and the live PostgreSQL), a known small star,
and a small synthetic feature panel with fast model settings for the model and backtest tests."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.daily import DAILY_FLAGS
from nexgen_assets.lib.evaluation.live_accuracy import forecasts_with_actuals, score_points
from nexgen_assets.lib.features.feature_table import DEMAND_LAGS, LAGS, ROLLING_WINDOWS, all_feature_columns
from nexgen_assets.lib.marts.dimensions import date_dimension
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.conftest import pg_engine

D0 = dt.date(2025, 1, 1)
DAYS = 60


def _facts() -> pd.DataFrame:
    rows = []
    for k in range(DAYS):
        day = D0 + dt.timedelta(days=k)
        rows.append(("S1", "P1", day, 2.0, 2.0, 0.0, 20.0, 10.0, 0, 30.0 - k * 0.25, 0))
        rows.append(("S1", "P2", day, 1.0 + k % 2, 1.0 + k % 2, 0.0, 5.0 * (1 + k % 2), 5.0, 0, 0.0, 1))
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "quantity", "units_sold", "units_returned",
                                       "revenue", "avg_price", "promo", "stock_on_hand", "stockout"])


def publish_known_marts(engine) -> pd.DataFrame:
    """Two series of 60 known days, the date dimension and one forecast run; returns the facts."""
    facts = _facts()
    wh.replace_table(engine, "fact_sales_daily", wh.as_flags(facts, DAILY_FLAGS), ("store_id", "product_id", "date"))
    wh.replace_table(engine, "dim_product", pd.DataFrame(
        {"product_id": ["P1", "P2"], "product_name": ["Tea", "Soap"], "category": ["grocery", "household"]}))
    wh.replace_table(engine, "dim_date", date_dimension(D0, D0 + dt.timedelta(days=120)), ("date",))
    forecast = pd.DataFrame({"forecast_run_id": "r1", "model_name": "xgboost", "model_version": "v1",
                             "forecast_origin": D0 + dt.timedelta(days=49),
                             "store_id": "S1", "product_id": "P1",
                             "date": [D0 + dt.timedelta(days=50 + h) for h in range(20)], "horizon": list(range(1, 21)),
                             "mean": 2.5, "p10": 1.0, "p50": 2.5, "p90": 4.0,
                             "created_at": dt.datetime(2025, 2, 19, 5, 0)})
    wh.replace_table(engine, "fact_forecast", forecast)
    levels = forecast[["forecast_run_id", "date", "horizon", "mean", "p10", "p50", "p90"]].assign(
        level="total", store_id="All", category="All")
    wh.replace_table(engine, "fact_forecast_levels", levels)
    wh.replace_table(engine, "fact_forecast_accuracy", score_points(forecasts_with_actuals(engine)))
    plan = pd.DataFrame({"store_id": ["S1", "S1"], "product_id": ["P1", "P2"], "status": ["ok", "stockout risk"]})
    wh.replace_table(engine, "fact_inventory_plan", plan, ("store_id", "product_id"))
    return facts


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A warehouse engine: embedded SQLite, then a throw-away schema of the live PostgreSQL."""
    if request.param == "sqlite":
        yield wh.make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
        return
    schema = request.getfixturevalue("pg_schema")
    engine = pg_engine(schema)
    yield engine
    engine.dispose()


H = 28


def feature_panel(series: int = 6, days: int = 200, seed: int = 0) -> pd.DataFrame:
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
        for col in all_feature_columns():
            f[col] = 0.0
        for lag in DEMAND_LAGS:
            for extra in LAGS:
                f[f"lag_{lag + extra}"] = q.shift(lag + extra)
            for w in ROLLING_WINDOWS:
                f[f"rmean_{w}_l{lag}"] = q.shift(lag).rolling(w, min_periods=1).mean()
        f["day_of_week"] = dates.dayofweek + 1
        f["is_weekend"] = (dates.dayofweek >= 5).astype(int)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


FAST = {
    "seasonal_naive": {},
    "xgboost": {"n_estimators": 60},
    "random_forest": {"n_estimators": 20},
    "lstm": {"epochs": 2, "units": 8, "dense_units": 8, "max_windows": 400},
    "ets": {},
    "theta": {},
    "croston": {},
}


SALES_HEADER = "order_id,order_ts,store_id,product_id,quantity,unit_price,promo,channel\n"
GOOD_LINE = "A1,2024-03-01T10:00:00,S1,P1,2,3.50,0,web\n"
