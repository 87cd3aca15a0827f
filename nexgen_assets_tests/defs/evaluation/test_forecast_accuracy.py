"""Live accuracy with a real warehouse: archived forecasts meet actuals, drift raises a warning."""

import datetime as dt

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from nexgen_assets.definitions import all_assets

D0 = dt.date(2025, 3, 1)


def _publish(warehouse, p50_error: float) -> pd.DataFrame:
    """Two series with 40 days of actuals and one 28-day forecast run made 20 days before the last actual."""
    rng = np.random.default_rng(3)
    days = [D0 + dt.timedelta(days=k) for k in range(40)]
    sales = pd.DataFrame(
        [(s, "P1", d, float(q)) for s in ("S1", "S2") for d, q in zip(days, rng.poisson(10, 40), strict=True)],
        columns=["store_id", "product_id", "date", "quantity"],
    )
    warehouse.replace_table("fact_sales_daily", sales, ("store_id", "product_id", "date"))
    origin = days[19]
    future = [origin + dt.timedelta(days=h) for h in range(1, 29)]
    actual = sales.set_index(["store_id", "date"])["quantity"]
    forecast = pd.DataFrame(
        [("run1", "xgboost", "v1", origin, s, "P1", d, h + 1) for s in ("S1", "S2") for h, d in enumerate(future)],
        columns=["forecast_run_id", "model_name", "model_version", "forecast_origin",
                 "store_id", "product_id", "date", "horizon"],
    )
    keys = zip(forecast["store_id"], forecast["date"], strict=True)
    forecast["p50"] = [actual.get(key, 10.0) + p50_error for key in keys]
    forecast["mean"] = forecast["p50"]
    forecast["p10"] = forecast["p50"] - 3
    forecast["p90"] = forecast["p50"] + 3
    warehouse.replace_rows("fact_forecast", forecast, ["forecast_run_id"])
    registry = pd.DataFrame([{"registry_id": "r0", "model_name": "xgboost", "model_version": "v1", "wape": 0.1,
                              "promoted_at": dt.datetime(2025, 3, 1)}])
    warehouse.replace_table("model_registry", registry)
    return sales


def _materialize(resources, margin: float = 0.25):
    return dg.materialize(
        [a for a in all_assets if "forecast_accuracy" in {k.path[-1] for k in a.keys}],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"forecast_accuracy": {"config": {"margin": margin, "min_points": 20}}}},
        raise_on_error=False,
    )


def test_points_with_actuals_are_scored_and_good_accuracy_passes(resources):
    warehouse = resources["warehouse"]
    _publish(warehouse, p50_error=0.5)

    result = _materialize(resources)

    assert result.success
    table = warehouse.read_table("fact_forecast_accuracy")
    assert len(table) == 2 * 20 and table["horizon"].between(1, 20).all()
    assert table["abs_error"].tolist() == [0.5] * 40 and table["in_interval"].astype(bool).all()
    check = next(iter(result.get_asset_check_evaluations()))
    assert check.passed and check.check_name == "live_accuracy_within_backtest"


def test_drift_beyond_the_margin_warns_without_failing_the_run(resources):
    warehouse = resources["warehouse"]
    sales = _publish(warehouse, p50_error=4.0)

    result = _materialize(resources, margin=0.25)

    assert result.success
    check = next(iter(result.get_asset_check_evaluations()))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    scored = sales[sales["date"] > D0 + dt.timedelta(days=19)]
    live = 4.0 * len(scored) / scored["quantity"].sum()
    assert check.metadata["live_wape"].value == pytest.approx(live)
    assert "worse than the backtest's 0.100 plus 25% (0.125)" in check.description
