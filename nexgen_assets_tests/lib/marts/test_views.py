"""Dashboard views on a small known dataset, live on PostgreSQL and SQLite; T-SQL split and checked."""


import pandas as pd
import pytest
import sqlalchemy as sa

from nexgen_assets.lib.marts.views import VIEWS, apply_views, statements, view_script
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets_tests.lib.conftest import D0, DAYS, publish_known_marts


def _query(engine, view):
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"SELECT * FROM {view}"), conn)


def test_views_return_the_expected_numbers(engine):
    facts = publish_known_marts(engine)
    assert apply_views(engine) == list(VIEWS)
    assert apply_views(engine) == list(VIEWS)

    trend = _query(engine, "vw_sales_trend")
    assert len(trend) == DAYS
    assert trend["revenue"].sum() == pytest.approx(facts["revenue"].sum())
    assert trend.loc[pd.to_datetime(trend["date"]) == pd.Timestamp(D0), "quantity"].iat[0] == 3.0
    new_year = trend.loc[pd.to_datetime(trend["date"]) == pd.Timestamp(D0), ["holiday", "holiday_type"]].iloc[0]
    assert tuple(new_year) == ("New Year's Day", "public_holiday")

    top = _query(engine, "vw_top_products").sort_values("revenue_rank")
    assert top["product_id"].tolist() == ["P1", "P2"] and top["revenue"].iat[0] == 20.0 * DAYS
    assert top["product_name"].tolist() == ["Tea", "Soap"]

    stock = _query(engine, "vw_stock_monitoring").set_index("product_id")
    last = facts[facts["date"] == facts["date"].max()].set_index("product_id")
    assert stock.loc["P1", "stock_on_hand"] == last.loc["P1", "stock_on_hand"]
    assert stock.loc["P1", "avg_daily_quantity"] == pytest.approx(2.0)
    assert stock.loc["P1", "days_of_cover"] == pytest.approx(last.loc["P1", "stock_on_hand"] / 2.0)
    assert stock.loc["P2", "stockout"] == 1

    kpi = _query(engine, "vw_kpi_cards").iloc[0]
    days = pd.to_datetime(facts["date"])
    end = days.max()
    recent = facts[days > end - pd.Timedelta(days=28)]
    previous = facts[(days > end - pd.Timedelta(days=56)) & (days <= end - pd.Timedelta(days=28))]
    assert kpi["total_revenue"] == pytest.approx(facts["revenue"].sum())
    assert kpi["total_quantity"] == pytest.approx(facts["quantity"].sum())
    assert kpi["revenue_last_28_days"] == pytest.approx(recent["revenue"].sum())
    assert kpi["revenue_previous_28_days"] == pytest.approx(previous["revenue"].sum())

    versus = _query(engine, "vw_forecast_vs_actual")
    assert len(versus) == 20
    assert versus["actual_quantity"].notna().sum() == DAYS - 50
    assert set(versus.loc[versus["actual_quantity"].notna(), "actual_quantity"]) == {2.0}

    accuracy = _query(engine, "vw_forecast_accuracy").set_index("horizon_bucket").sort_index()
    assert accuracy["points"].to_dict() == {"h01-07": 7, "h08-14": 3}
    assert accuracy["mae"].tolist() == pytest.approx([0.5, 0.5]) and accuracy["rmse"].tolist() == pytest.approx([0.5, 0.5])
    assert accuracy["bias"].tolist() == pytest.approx([0.5, 0.5]) and accuracy["wape"].tolist() == pytest.approx([0.25, 0.25])
    assert accuracy["coverage_p10_p90"].tolist() == pytest.approx([1.0, 1.0])


def test_the_latest_run_view_holds_only_the_newest_run_so_p50_is_not_double_counted(engine):
    publish_known_marts(engine)
    archive = wh.read_table(engine, "fact_forecast")
    older = archive.assign(forecast_run_id="r0", created_at=pd.Timestamp("2025-02-18 05:00"), p50=100.0)
    wh.replace_rows(engine, "fact_forecast", older, ["forecast_run_id"])
    apply_views(engine)
    latest = _query(engine, "vw_forecast_latest")
    assert set(latest["forecast_run_id"]) == {"r1"} and latest["p50"].sum() == pytest.approx(archive["p50"].sum())

    newer = archive.assign(forecast_run_id="r2", created_at=pd.Timestamp("2025-02-20 05:00"), p50=1.0)
    wh.replace_rows(engine, "fact_forecast", newer, ["forecast_run_id"])
    latest = _query(engine, "vw_forecast_latest")
    assert set(latest["forecast_run_id"]) == {"r2"} and latest["p50"].sum() == pytest.approx(len(archive))
    assert len(_query(engine, "fact_forecast")) == 3 * len(archive)


def test_tsql_script_splits_into_one_view_per_batch():
    parts = statements(view_script("mssql").read_text(), "mssql")
    assert len(parts) == len(VIEWS)
    for part, view in zip(parts, VIEWS, strict=True):
        assert part.startswith(f"CREATE OR ALTER VIEW dbo.{view} AS")
    assert all("DATEADD(day, -28, last_day.d)" in p for p in parts if "last_day" in p)


def test_unknown_dialect_is_named():
    with pytest.raises(ValueError, match="oracle"):
        view_script("oracle")
