"""Live accuracy with a real warehouse (SQLite and PostgreSQL): archived forecasts meet actuals, a second pass
scores only what is new, old runs leave the archive, drift raises a warning."""

import datetime as dt

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from nexgen_assets.definitions import all_assets
from nexgen_assets.lib.evaluation.live_accuracy import forecasts_with_actuals, score_points
from nexgen_assets.resources import WarehouseResource
from nexgen_assets_tests.conftest import pg_url

D0 = dt.date(2025, 3, 1)
RUN_KEY = ["forecast_run_id", "store_id", "product_id", "date"]


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request, tmp_path) -> WarehouseResource:
    """The warehouse alone (forecast_accuracy needs nothing else): embedded SQLite, then the live PostgreSQL."""
    if request.param == "sqlite":
        return WarehouseResource(url=f"sqlite:///{tmp_path / 'wh.db'}")
    return WarehouseResource(url=pg_url(request.getfixturevalue("pg_schema")))


def _publish_sales(warehouse, days: int) -> pd.DataFrame:
    """Two series with `days` days of actuals (the same first days whatever `days` is)."""
    rng = np.random.default_rng(3)
    quantity = rng.poisson(10, (2, 100)).astype(float)
    sales = pd.DataFrame(
        [(s, "P1", D0 + dt.timedelta(days=k), quantity[i, k]) for i, s in enumerate(("S1", "S2")) for k in range(days)],
        columns=["store_id", "product_id", "date", "quantity"],
    )
    warehouse.replace_table("fact_sales_daily", sales, ("store_id", "product_id", "date"), [("date",)])
    return sales


def _publish_run(warehouse, run_id: str, origin_day: int, sales: pd.DataFrame, p50_error: float = 0.5,
                 model_version: str = "v1") -> pd.DataFrame:
    """A 28-day run of both series from day `origin_day`, off the actuals by `p50_error`, and its total level."""
    origin = D0 + dt.timedelta(days=origin_day)
    future = [origin + dt.timedelta(days=h) for h in range(1, 29)]
    actual = sales.set_index(["store_id", "date"])["quantity"]
    forecast = pd.DataFrame(
        [(run_id, "xgboost", model_version, origin, s, "P1", d, h + 1) for s in ("S1", "S2") for h, d in enumerate(future)],
        columns=["forecast_run_id", "model_name", "model_version", "forecast_origin",
                 "store_id", "product_id", "date", "horizon"],
    )
    keys = zip(forecast["store_id"], forecast["date"], strict=True)
    forecast["p50"] = [actual.get(key, 10.0) + p50_error for key in keys]
    forecast["mean"] = forecast["p50"]
    forecast["p10"] = forecast["p50"] - 3
    forecast["p90"] = forecast["p50"] + 3
    forecast["created_at"] = dt.datetime.combine(origin + dt.timedelta(days=1), dt.time(5))
    warehouse.replace_rows("fact_forecast", forecast, ["forecast_run_id"], RUN_KEY, [("date",)])
    levels = forecast.groupby(["forecast_run_id", "date", "horizon"], as_index=False)[["mean", "p10", "p50", "p90"]].sum()
    warehouse.replace_rows("fact_forecast_levels", levels.assign(level="total", store_id="All", category="All"),
                           ["forecast_run_id"])
    return forecast


def _publish(warehouse, p50_error: float) -> pd.DataFrame:
    """40 days of actuals, one run made 20 days before the last actual, and the registry promising WAPE 0.1."""
    sales = _publish_sales(warehouse, 40)
    _publish_run(warehouse, "run1", 19, sales, p50_error)
    registry = pd.DataFrame([{"registry_id": "r0", "model_name": "xgboost", "model_version": "v1", "wape": 0.1,
                              "promoted_at": dt.datetime(2025, 3, 1)}])
    warehouse.replace_table("model_registry", registry)
    return sales


def _materialize(warehouse, margin: float = 0.25, **config):
    return dg.materialize(
        [a for a in all_assets if "forecast_accuracy" in {k.path[-1] for k in a.keys}],
        resources={"warehouse": warehouse},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"forecast_accuracy": {"config": {"margin": margin, "min_points": 20, **config}}}},
        raise_on_error=False,
    )


def _metadata(result) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node("forecast_accuracy")[0].metadata.items()}


def _normal(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(date=pd.to_datetime(frame["date"]), forecast_origin=pd.to_datetime(frame["forecast_origin"]),
                       in_interval=frame["in_interval"].astype(bool))
    return out[sorted(out.columns)].sort_values(RUN_KEY).reset_index(drop=True)


def test_points_with_actuals_are_scored_and_good_accuracy_passes(warehouse):
    _publish(warehouse, p50_error=0.5)

    result = _materialize(warehouse)

    assert result.success
    table = warehouse.read_table("fact_forecast_accuracy")
    assert len(table) == 2 * 20 and table["horizon"].between(1, 20).all()
    assert table["abs_error"].tolist() == [0.5] * 40 and table["in_interval"].astype(bool).all()
    check = next(iter(result.get_asset_check_evaluations()))
    assert check.passed and check.check_name == "live_accuracy_within_backtest"
    assert _metadata(result)["rescored_from"] == "all"


def test_a_second_pass_scores_only_the_new_run_yet_reports_and_judges_every_run(warehouse):
    _publish(warehouse, p50_error=0.5)
    assert _materialize(warehouse).success
    sales = _publish_sales(warehouse, 50)
    _publish_run(warehouse, "run2", 39, sales, p50_error=2.0)

    result = _materialize(warehouse, restatement_days=5)

    metadata = _metadata(result)
    assert metadata["rescored_from"] == str(D0 + dt.timedelta(days=40)) and metadata["new_runs"] == 1
    run1_new_days, run2_days = 2 * 8, 2 * 10
    assert (metadata["rows_written"], metadata["rows_deleted"], metadata["dagster/row_count"]) == (
        run1_new_days + run2_days, 0, 2 * 20 + run1_new_days + run2_days
    )
    assert metadata["runs_scored"] == 2 and "run1" in metadata["by_run"] and "run2" in metadata["by_run"]
    full = score_points(forecasts_with_actuals(warehouse.engine))
    pd.testing.assert_frame_equal(_normal(warehouse.read_table("fact_forecast_accuracy")), _normal(full))
    check = next(iter(result.get_asset_check_evaluations()))
    assert check.metadata["points"].value == len(full) == 2 * 28 + run2_days
    assert check.metadata["live_wape"].value == pytest.approx(full["abs_error"].sum() / full["actual"].sum())


def test_retention_removes_old_runs_and_their_rows_but_never_the_serving_champions(warehouse):
    sales = _publish(warehouse, p50_error=0.5)
    _publish_run(warehouse, "older_v0", 0, sales, model_version="v0")
    _publish_run(warehouse, "old_v0", 5, sales, model_version="v0")
    _publish_run(warehouse, "newest_v0", 45, sales, model_version="v0")
    assert _materialize(warehouse, archive_days=0).success
    assert set(warehouse.read_table("fact_forecast_accuracy")["forecast_run_id"]) == {"run1", "older_v0", "old_v0"}

    result = _materialize(warehouse, archive_days=20)

    assert result.success and _metadata(result)["runs_expired"] == 2
    for table in ("fact_forecast", "fact_forecast_levels", "fact_forecast_accuracy"):
        runs = set(warehouse.read_table(table)["forecast_run_id"])
        assert runs == ({"run1"} if table == "fact_forecast_accuracy" else {"run1", "newest_v0"}), table
    assert _metadata(result)["runs_scored"] == 1


def test_drift_beyond_the_margin_warns_without_failing_the_run(warehouse):
    sales = _publish(warehouse, p50_error=4.0)

    result = _materialize(warehouse, margin=0.25)

    assert result.success
    check = next(iter(result.get_asset_check_evaluations()))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    scored = sales[sales["date"] > D0 + dt.timedelta(days=19)]
    live = 4.0 * len(scored) / scored["quantity"].sum()
    assert check.metadata["live_wape"].value == pytest.approx(live)
    assert "worse than the backtest's 0.100 plus 25% (0.125)" in check.description
