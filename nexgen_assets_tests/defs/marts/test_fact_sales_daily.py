"""daily_sales by month down to the warehouse (SQLite and PostgreSQL): a new file publishes only the months it
touched, and the warehouse copy always equals the lake."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nexgen_assets.resources import WarehouseResource
from nexgen_assets_tests.conftest import pg_url
from nexgen_assets_tests.defs.conftest import by_key
from nexgen_assets_tests.lib.cleaning.test_daily_months import FEB, JAN, LINES, MAR, A, B, C, Lake, _lines

KEY = ["store_id", "product_id", "date"]


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request, tmp_path) -> WarehouseResource:
    if request.param == "sqlite":
        return WarehouseResource(url=f"sqlite:///{tmp_path / 'wh.db'}")
    return WarehouseResource(url=pg_url(request.getfixturevalue("pg_schema")))


def _refresh(instance, resources, warehouse) -> dict:
    result = dg.materialize(
        by_key(["daily_sales", "fact_sales_daily"]),
        selection=dg.AssetSelection.assets("daily_sales", "fact_sales_daily"),
        instance=instance,
        resources={**resources, "warehouse": warehouse},
    )
    assert result.success
    return {
        key.path[-1]: {name: value.value for name, value in metadata.items()}
        for key, metadata in ((m.asset_key, m.metadata) for m in result.asset_materializations_for_node("fact_sales_daily"))
    }["fact_sales_daily"]


def _same_as_lake(warehouse, lake: Lake) -> None:
    published = warehouse.read_table("fact_sales_daily").sort_values(KEY).reset_index(drop=True)
    expected = lake.monthly()
    published["date"] = pd.to_datetime(published["date"]).dt.date
    assert len(published) == len(expected)
    pd.testing.assert_frame_equal(published[KEY + ["quantity", "revenue"]], expected[KEY + ["quantity", "revenue"]],
                                  check_dtype=False)


def test_a_new_month_publishes_that_month_only(resources, warehouse, spark):
    instance = dg.DagsterInstance.ephemeral()
    lake = Lake(spark, Path(resources["lake"].root))
    lake.land("clean_sales", "jan.csv", _lines("jan.csv", JAN, 31, [A, B], 1), LINES)
    lake.land("clean_sales", "feb.csv", _lines("feb.csv", FEB, 29, [A, B, C], 2), LINES)

    first = _refresh(instance, resources, warehouse)
    assert first["months_published"] == 2 and first["rows_deleted"] is None
    _same_as_lake(warehouse, lake)

    lake.land("clean_sales", "mar.csv", _lines("mar.csv", MAR, 10, [A, C], 3), LINES)
    second = _refresh(instance, resources, warehouse)
    assert second["months_published"] == 1 and second["rows_deleted"] == 0
    assert second["rows_written"] == 3 * 10, "three live series run to the new last day"
    _same_as_lake(warehouse, lake)

    lake.drop("clean_sales", "mar.csv")
    third = _refresh(instance, resources, warehouse)
    assert third["months_removed"] == 1 and third["rows_deleted"] == 30 and third["rows_written"] == 0
    _same_as_lake(warehouse, lake)
