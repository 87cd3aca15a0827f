"""Dashboard views on a small known dataset, live on PostgreSQL and SQLite; T-SQL split and checked."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from nexgen_assets.lib import warehouse as wh
from nexgen_assets.lib.calendar import date_dimension
from nexgen_assets.lib.views import VIEWS, apply_views, statements, view_script
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


def _publish(engine):
    facts = _facts()
    wh.replace_table(engine, "fact_sales_daily", facts, ("store_id", "product_id", "date"))
    wh.replace_table(engine, "dim_product", pd.DataFrame(
        {"product_id": ["P1", "P2"], "product_name": ["Tea", "Soap"], "category": ["grocery", "household"]}))
    wh.replace_table(engine, "dim_date", date_dimension(D0, D0 + dt.timedelta(days=120)), ("date",))
    forecast = pd.DataFrame({"forecast_run_id": "r1", "model_name": "xgboost", "forecast_origin": D0 + dt.timedelta(days=49),
                             "store_id": "S1", "product_id": "P1",
                             "date": [D0 + dt.timedelta(days=50 + h) for h in range(20)], "horizon": list(range(1, 21)),
                             "p10": 1.0, "p50": 2.5, "p90": 4.0})
    wh.replace_table(engine, "fact_forecast", forecast)
    return facts


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        yield wh.make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
        return
    schema = request.getfixturevalue("pg_schema")
    engine = pg_engine(schema)
    yield engine
    engine.dispose()


def _query(engine, view):
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"SELECT * FROM {view}"), conn)


def test_views_return_the_expected_numbers(engine):
    facts = _publish(engine)
    assert apply_views(engine) == list(VIEWS)
    assert apply_views(engine) == list(VIEWS)

    trend = _query(engine, "vw_sales_trend")
    assert len(trend) == DAYS
    assert trend["revenue"].sum() == pytest.approx(facts["revenue"].sum())
    assert trend.loc[pd.to_datetime(trend["date"]) == pd.Timestamp(D0), "quantity"].iat[0] == 3.0

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


def test_tsql_script_splits_into_one_view_per_batch():
    parts = statements(view_script("mssql").read_text(), "mssql")
    assert len(parts) == len(VIEWS)
    for part, view in zip(parts, VIEWS, strict=True):
        assert part.startswith(f"CREATE OR ALTER VIEW dbo.{view} AS")
    assert all("DATEADD(day, -28, last_day.d)" in p for p in parts if "last_day" in p)


def test_unknown_dialect_is_named():
    with pytest.raises(ValueError, match="oracle"):
        view_script("oracle")
