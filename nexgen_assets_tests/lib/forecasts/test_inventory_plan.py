import datetime as dt

import pandas as pd
import pytest

from nexgen_assets.lib.forecasts.inventory_plan import plan_inventory

AS_OF = dt.date(2025, 6, 30)


def _forecast(series: dict[str, float], days: int = 28, spread: float = 2.0) -> pd.DataFrame:
    rows = []
    for product, level in series.items():
        for k in range(1, days + 1):
            rows.append(("S1", product, AS_OF + dt.timedelta(days=k), max(0.0, level - spread), level, level + spread))
    return pd.DataFrame(rows, columns=["store_id", "product_id", "date", "p10", "p50", "p90"])


def _stock(values: dict[str, float], lead: float | None = 5) -> pd.DataFrame:
    return pd.DataFrame({"store_id": "S1", "product_id": list(values), "as_of": AS_OF,
                         "stock_on_hand": list(values.values()), "lead_time_days": lead})


def test_plan_numbers_and_statuses():
    plan = plan_inventory(_stock({"OK": 60, "LOW": 25, "OUT": 3, "FULL": 5000}),
                          _forecast({"OK": 4, "LOW": 4, "OUT": 4, "FULL": 4}), service_level=0.95)
    plan = plan.set_index("product_id")
    assert plan.loc["OK", "lead_demand"] == pytest.approx(20.0)
    sd = 4 / 2.5631
    assert plan.loc["OK", "safety_stock"] == pytest.approx(1.6449 * sd * 5 ** 0.5, rel=1e-3)
    assert plan.loc["OK", "reorder_point"] == pytest.approx(20.0 + plan.loc["OK", "safety_stock"], rel=1e-6)
    assert plan.loc["OK", "days_of_cover"] == pytest.approx(15.0)
    assert plan.loc["OK", "status"] == "ok" and plan.loc["OK", "suggested_order"] == 0
    assert plan.loc["LOW", "status"] == "reorder"
    assert plan.loc["LOW", "suggested_order"] == pytest.approx(
        -(-(48.0 + plan.loc["LOW", "safety_stock"] - 25) // 1))
    assert plan.loc["OUT", "status"] == "stockout risk"
    assert plan.loc["OUT", "stockout_date"] == AS_OF + dt.timedelta(days=1)
    assert plan.loc["FULL", "status"] == "overstock" and pd.isna(plan.loc["FULL", "stockout_date"])


def test_missing_lead_time_uses_the_default_and_zero_demand_has_no_cover_figure():
    plan = plan_inventory(_stock({"DEAD": 10}, lead=None), _forecast({"DEAD": 0.0}, spread=0.0), default_lead_time=9)
    row = plan.iloc[0]
    assert row["lead_time_days"] == 9 and pd.isna(row["days_of_cover"]) and row["status"] == "overstock"


def test_bad_service_level_is_named():
    with pytest.raises(ValueError, match="service_level"):
        plan_inventory(_stock({"A": 1}), _forecast({"A": 1}), service_level=1.2)
