"""Lake tables: partition folders safe on any file system, whole-table swaps, row counts from footers."""

import datetime as dt

import pandas as pd
import pytest

from nexgen_assets.lib.storage.lake import (
    VERSIONS,
    PartitionFolderConflict,
    parquet_batches,
    parquet_row_count,
    partition_dir,
    replace_parquet,
    replace_parquet_frame,
    staged_parquet,
    table_exists,
)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _version_folders(target):
    return [p for p in (target.parent / VERSIONS / target.name).iterdir() if p.is_dir()]


def test_partition_keys_become_safe_folder_names_one_to_one(tmp_path):
    assert partition_dir(tmp_path, "sales_2025-01.csv") == tmp_path / "part=sales_2025-01.csv"
    assert partition_dir(tmp_path, "db__order_lines__2025-03-01T09:00:00") == (
        tmp_path / "part=db__order_lines__2025-03-01T09%3A00%3A00"
    )
    assert partition_dir(tmp_path, "../a b/c").name == "part=..%2Fa%20b%2Fc"
    keys = ["store 12.csv", "store_12.csv", "store%2012.csv", "store?12.csv", "störe 12.csv", "store\u00a012.csv"]
    assert len({partition_dir(tmp_path, k) for k in keys}) == len(keys)


def test_a_partition_folder_with_escapes_reads_back_and_belongs_to_its_key(spark, tmp_path):
    key = "export [1] 50%.csv"
    target = partition_dir(tmp_path / "raw_sales", key)
    frame = spark.createDataFrame([(1, "a")], "n int, s string")
    assert replace_parquet(frame, target, owner=key) == 1
    assert spark.read.parquet(str(target)).count() == 1
    assert spark.read.parquet(str(tmp_path / "raw_sales")).count() == 1
    with pytest.raises(PartitionFolderConflict, match="holds partition"):
        replace_parquet(frame, target, owner="another key.csv")
    assert spark.read.parquet(str(target)).count() == 1


def test_spark_table_is_replaced_whole_and_counted(spark, tmp_path):
    target = tmp_path / "lake" / "daily_sales"
    assert not table_exists(target)
    first = spark.createDataFrame([(i, f"S{i}") for i in range(5)], "n int, store_id string")
    assert replace_parquet(first, target) == 5
    assert table_exists(target) and parquet_row_count(target) == 5

    second = spark.createDataFrame([(9, "S9")], "n int, store_id string")
    assert replace_parquet(second, target) == 1
    assert [tuple(r) for r in spark.read.parquet(str(target)).collect()] == [(9, "S9")]
    assert _leftovers(target.parent) == [] and target.is_symlink() and len(_version_folders(target)) == 2


def test_a_failed_spark_write_keeps_the_previous_table(spark, tmp_path):
    target = tmp_path / "lake" / "t"
    replace_parquet(spark.createDataFrame([(1,)], "n int"), target)
    broken = spark.createDataFrame([("x",)], "s string").selectExpr("raise_error('boom') AS n")
    with pytest.raises(Exception, match="boom"):
        replace_parquet(broken, target)
    assert parquet_row_count(target) == 1 and _leftovers(target.parent) == []
    assert len(_version_folders(target)) == 1  # the failed version is gone


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
    (empty / VERSIONS / "part=a" / "0123").mkdir(parents=True)
    pd.DataFrame({"n": [1, 2, 3]}).to_parquet(empty / VERSIONS / "part=a" / "0123" / "x.parquet")
    assert not table_exists(empty) and table_exists(table) and parquet_row_count(empty) == 0


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


def test_a_staged_partition_replaces_the_old_one_only_when_its_block_succeeds(spark, tmp_path):
    target = partition_dir(tmp_path / "clean_sales", "sales_a.csv")
    replace_parquet(spark.createDataFrame([("A1",)], "order_id string"), target, owner="sales_a.csv")
    second = spark.createDataFrame([("A2",), ("A3",)], "order_id string")

    with pytest.raises(RuntimeError, match="check failed"):
        with staged_parquet(second, target, owner="sales_a.csv") as staged:
            assert staged.rows == 2 and spark.read.parquet(str(staged.path)).count() == 2
            assert staged.path.parent == target.parent / VERSIONS / target.name
            assert [r.order_id for r in spark.read.parquet(str(target)).collect()] == ["A1"]
            raise RuntimeError("check failed")
    assert [r.order_id for r in spark.read.parquet(str(target)).collect()] == ["A1"]
    assert _leftovers(target.parent) == [] and len(_version_folders(target)) == 1

    with staged_parquet(second, target, owner="sales_a.csv"):
        pass
    assert sorted(r.order_id for r in spark.read.parquet(str(target)).collect()) == ["A2", "A3"]
