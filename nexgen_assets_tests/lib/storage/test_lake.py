"""Lake tables: partition folders safe on any file system, whole-table swaps, row counts from footers."""

import datetime as dt

import pandas as pd
import pytest

from nexgen_assets.lib.storage.lake import (
    parquet_batches,
    parquet_row_count,
    partition_dir,
    replace_parquet,
    replace_parquet_frame,
    table_exists,
)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_partition_keys_become_safe_folder_names(tmp_path):
    assert partition_dir(tmp_path, "sales_2025-01.csv") == tmp_path / "part=sales_2025-01.csv"
    assert partition_dir(tmp_path, "db__order_lines__2025-03-01T09:00:00") == (
        tmp_path / "part=db__order_lines__2025-03-01T09_00_00"
    )
    assert partition_dir(tmp_path, "../a b/c").name == "part=.._a_b_c"


def test_spark_table_is_replaced_whole_and_counted(spark, tmp_path):
    target = tmp_path / "lake" / "daily_sales"
    assert not table_exists(target)
    first = spark.createDataFrame([(i, f"S{i}") for i in range(5)], "n int, store_id string")
    assert replace_parquet(first, target) == 5
    assert table_exists(target) and parquet_row_count(target) == 5

    second = spark.createDataFrame([(9, "S9")], "n int, store_id string")
    assert replace_parquet(second, target) == 1
    assert [tuple(r) for r in spark.read.parquet(str(target)).collect()] == [(9, "S9")]
    assert _leftovers(target.parent) == []


def test_a_failed_spark_write_keeps_the_previous_table(spark, tmp_path):
    target = tmp_path / "lake" / "t"
    replace_parquet(spark.createDataFrame([(1,)], "n int"), target)
    broken = spark.createDataFrame([("x",)], "s string").selectExpr("raise_error('boom') AS n")
    with pytest.raises(Exception, match="boom"):
        replace_parquet(broken, target)
    assert parquet_row_count(target) == 1 and _leftovers(target.parent) == []


def test_row_count_skips_hidden_and_underscore_files(tmp_path):
    table = tmp_path / "t"
    (table / "part=a").mkdir(parents=True)
    (table / ".staging").mkdir()
    (table / "_temporary").mkdir()
    pd.DataFrame({"n": [1, 2]}).to_parquet(table / "part=a" / "x.parquet")
    pd.DataFrame({"n": [1, 2, 3]}).to_parquet(table / ".staging" / "x.parquet")
    pd.DataFrame({"n": [1, 2, 3]}).to_parquet(table / "_temporary" / "x.parquet")
    assert parquet_row_count(table) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not table_exists(empty) and table_exists(table)


def test_pandas_frame_is_swapped_in_as_one_file(tmp_path):
    target = tmp_path / "backtest_interval_quantiles"
    assert replace_parquet_frame(pd.DataFrame({"horizon": [1, 2, 3]}), target) == 3
    assert replace_parquet_frame(pd.DataFrame({"horizon": [7]}), target) == 1
    assert [p.name for p in target.iterdir()] == ["data.parquet"]
    assert pd.read_parquet(target / "data.parquet")["horizon"].tolist() == [7]


def test_batches_have_dates_as_dates_and_nullable_integers(tmp_path):
    frame = pd.DataFrame({"date": [dt.date(2025, 1, 1) + dt.timedelta(days=k) for k in range(5)],
                          "units": pd.array([1, None, 3, 4, 5], dtype="Int64"), "quantity": [0.5] * 5})
    replace_parquet_frame(frame, tmp_path / "t")
    batches = list(parquet_batches(tmp_path / "t", rows=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    whole = pd.concat(batches, ignore_index=True)
    assert whole["date"].tolist() == frame["date"].tolist() and isinstance(whole["date"].iat[0], dt.date)
    assert str(whole["units"].dtype) == "Int64" and pd.isna(whole["units"].iat[1]) and whole["units"].iat[4] == 5
    assert whole["quantity"].dtype == "float64"
