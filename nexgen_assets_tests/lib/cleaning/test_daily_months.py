import datetime as dt
import random

import pandas as pd
import pytest

from nexgen_assets.lib.cleaning.daily import aggregate_daily
from nexgen_assets.lib.cleaning.daily_months import MonthlyDaily
from nexgen_assets.lib.ingestion.source_db import Batch
from nexgen_assets.lib.storage.lake import partition_dir, pinned_folders, remove_folder, replace_parquet, replace_partitions
from nexgen_assets.lib.storage.monthly import months_between, stored_months

LINES = (
    "order_id string, order_ts timestamp, order_date date, store_id string, product_id string, "
    "quantity double, unit_price double, promo int, revenue double, source_file string, extra string"
)
STOCK = "snapshot_date date, store_id string, product_id string, stock_on_hand double, source_file string"


def _lines(source, start, days, series, seed, price=2.0):
    """Order lines of `series` (store, product) over `days` days from `start`; some days without a sale."""
    rng = random.Random(seed)
    rows = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        for store, product in series:
            if rng.random() < 0.3:
                continue
            quantity = float(rng.choice([1, 2, 3, -1]))
            unit = price + rng.choice([0.0, 0.5])
            ts = dt.datetime.combine(day, dt.time(9 + rng.randrange(8)))
            rows.append((f"{source}-{offset}-{store}-{product}", ts, day, store, product, quantity, unit,
                         rng.choice([0, 0, 1]), quantity * unit, source, None))
    return rows


def _stock(source, days, series):
    return [(day, store, product, float(level), source) for day, level in days for store, product in series]


class Lake:
    def __init__(self, spark, root):
        self.spark, self.root = spark, root

    def land(self, table, key, rows, schema):
        replace_parquet(self.spark.createDataFrame(rows, schema), partition_dir(self.root / table, key), owner=key)

    def drop(self, table, key):
        remove_folder(partition_dir(self.root / table, key))

    def full_rebuild(self) -> pd.DataFrame:
        clean = self.spark.read.parquet(*[str(f) for f in pinned_folders(self.root / "clean_sales")])
        stock_dir = self.root / "raw_inventory"
        inventory = self.spark.read.parquet(*[str(f) for f in pinned_folders(stock_dir)]) if stock_dir.exists() else None
        return _sorted(aggregate_daily(clean, inventory).toPandas())

    def monthly(self) -> pd.DataFrame:
        folders = stored_months(self.root / "daily_sales").values()
        return _sorted(self.spark.read.parquet(*[str(f) for f in folders]).toPandas())


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)


def _assert_same(monthly: pd.DataFrame, full: pd.DataFrame) -> None:
    assert len(monthly) == len(full)
    pd.testing.assert_frame_equal(monthly[full.columns], full, check_dtype=False, rtol=1e-9)


A, B, C = ("S1", "P1"), ("S1", "P2"), ("S2", "P1")
JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def test_each_refresh_rebuilds_only_what_changed_and_equals_a_full_rebuild(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    daily = MonthlyDaily(spark, tmp_path)
    lake.land("clean_sales", "jan.csv", _lines("jan.csv", JAN, 31, [A, B], 1), LINES)
    lake.land("clean_sales", "feb.csv", _lines("feb.csv", FEB, 29, [A, B, C], 2), LINES)
    lake.land("raw_inventory", "stock.csv", _stock("stock.csv", [(JAN, 9), (dt.date(2024, 2, 10), 0)], [A, C]), STOCK)

    first = daily.refresh()
    assert first.full and first.rebuilt == ["2024-01", "2024-02"]
    _assert_same(lake.monthly(), lake.full_rebuild())

    lake.land("clean_sales", "mar-01.csv", _lines("mar-01.csv", MAR, 3, [A], 3), LINES)
    new_days = daily.refresh()
    assert new_days.rebuilt == ["2024-03"], "February was complete: only the new month is built"
    _assert_same(lake.monthly(), lake.full_rebuild())

    again = daily.refresh()
    assert again.rebuilt == [] and again.rows_written == 0

    late = _lines("late-jan.csv", dt.date(2024, 1, 20), 5, [C], 4, price=7.0)
    lake.land("clean_sales", "late-jan.csv", late, LINES)
    late_refresh = daily.refresh()
    assert late_refresh.rebuilt[0] == "2024-01" and late_refresh.changed_sources == 1
    assert "2024-02" in late_refresh.rebuilt, "the series that now starts in January carries its price into February"
    _assert_same(lake.monthly(), lake.full_rebuild())

    lake.land("clean_sales", "feb.csv", _lines("feb.csv", FEB, 29, [A, B], 5), LINES)
    lake.land("raw_inventory", "stock-feb.csv", _stock("stock-feb.csv", [(dt.date(2024, 2, 20), 4)], [B]), STOCK)
    assert daily.refresh().rebuilt[0] == "2024-02"
    _assert_same(lake.monthly(), lake.full_rebuild())

    lake.drop("clean_sales", "mar-01.csv")
    shrunk = daily.refresh()
    assert shrunk.removed == ["2024-03"] and shrunk.removed_sources == 1
    assert sorted(stored_months(tmp_path / "daily_sales")) == ["2024-01", "2024-02"]
    _assert_same(lake.monthly(), lake.full_rebuild())

    incremental = lake.monthly()
    assert daily.refresh(full=True).full
    _assert_same(lake.monthly(), incremental)


def test_source_database_upserts_and_deletions_are_applied_within_their_month(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    daily = MonthlyDaily(spark, tmp_path)
    early = Batch("order_lines", None, "2024-02-28T12:00:00").key
    later = Batch("order_lines", "2024-02-28T12:00:00", "2024-03-02T09:00:00").key
    january = _lines(early, JAN, 31, [A, B], 6)
    last_line = _lines(early, dt.date(2024, 2, 3), 1, [A], 7)[0]
    lake.land("clean_sales", early, january + [last_line], LINES)
    daily.refresh()
    deleted = (*last_line[:-2], later, '{"nexgen_deleted":"1"}')
    updated = (*january[0][:5], 99.0, *january[0][6:-2], later, None)
    lake.land("clean_sales", later, [deleted, updated], LINES)

    refreshed = daily.refresh()

    monthly = lake.monthly()
    assert monthly["date"].max() < FEB, "the deleted line no longer makes February a sales month"
    assert refreshed.removed == ["2024-02"]
    _assert_same(monthly, lake.full_rebuild())


def test_a_daily_table_written_whole_is_replaced_by_months(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.land("clean_sales", "jan.csv", _lines("jan.csv", JAN, 40, [A], 8), LINES)
    replace_parquet(spark.range(3), tmp_path / "daily_sales")

    refreshed = MonthlyDaily(spark, tmp_path).refresh()

    assert refreshed.full and refreshed.rebuilt == ["2024-01", "2024-02"]
    _assert_same(lake.monthly(), lake.full_rebuild())


def test_replace_partitions_swaps_in_each_value_and_leaves_the_others(spark, tmp_path):
    table = tmp_path / "t"
    replace_parquet(spark.createDataFrame([(1,)], "v int"), partition_dir(table, "keep"), owner="keep")
    frame = spark.createDataFrame([(1, "a b"), (2, "a b"), (3, "c")], "v int, key string")

    written = replace_partitions(frame, table, "key")

    assert written == {"a b": 2, "c": 1}
    assert sorted(p.name for p in table.iterdir() if not p.name.startswith("_")) == ["part=a%20b", "part=c", "part=keep"]
    assert spark.read.parquet(*[str(f) for f in pinned_folders(table)]).count() == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".split")], "the split is moved, not left behind"


@pytest.mark.parametrize(("first", "last", "count"), [("2023-11", "2024-02", 4), ("2024-02", "2024-02", 1)])
def test_months_between_counts_across_years(first, last, count):
    months = months_between(first, last)
    assert len(months) == count and months[0] == first and months[-1] == last
