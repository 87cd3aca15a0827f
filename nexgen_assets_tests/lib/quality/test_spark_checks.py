import datetime as dt

import pandera.pyspark as pa_ps
import pyspark.sql.types as T
import pytest
from pyspark.sql import functions as F

from nexgen_assets.lib.quality.schemas import DailySalesSchema
from nexgen_assets.lib.quality.spark_checks import validate_spark_table

COLUMNS = (
    "store_id string, product_id string, date date, quantity double, units_sold double, units_returned double, "
    "revenue double, avg_price double, promo int, stock_on_hand double, stockout int"
)


def _row(day: int, stock: float, promo: int = 0):
    return ("S1", "P1", dt.date(2024, 1, day), 1.0, 1.0, 0.0, 2.0, 2.0, promo, stock, int(stock == 0))


def test_valid_table_passes(spark):
    frame = spark.createDataFrame([_row(1, 3.0), _row(2, 0.0)], COLUMNS)
    report = validate_spark_table(DailySalesSchema, frame, "daily_sales")
    assert report.passed and report.rows == 2


def test_failures_come_with_counts_and_samples(spark):
    frame = spark.createDataFrame([_row(1, -4.0), _row(2, -1.0), _row(3, 2.0, promo=5), _row(3, 2.0)], COLUMNS)
    report = validate_spark_table(DailySalesSchema, frame, "daily_sales")
    assert not report.passed
    by_column = {(e["column"], e["type"]): e for e in report.errors}
    stock = by_column[("stock_on_hand", "DATAFRAME_CHECK")]
    assert stock["failing_rows"] == 2
    assert sorted(s["stock_on_hand"] for s in stock["samples"]) == [-4.0, -1.0]
    assert by_column[("promo", "DATAFRAME_CHECK")]["failing_rows"] == 1
    duplicates = [e for e in report.errors if e["type"] == "DUPLICATES"][0]
    assert duplicates["failing_rows"] == 2
    assert "stock_on_hand" in report.summary()


def _pandera_verdict(model, frame) -> set[tuple[str, str]]:
    """(column, error type) of every failure pandera.pyspark itself reports."""
    found = set()
    for by_type in model.validate(frame).pandera.errors.values():
        for error_type, errors in by_type.items():
            for error in errors:
                found.add((error.get("column") or "", error_type))
    return found


def _ours(model, frame) -> set[tuple[str, str]]:
    report = validate_spark_table(model, frame, "t")
    return {(e["column"] if e["type"] != "DUPLICATES" else "", e["type"]) for e in report.errors}


@pytest.mark.parametrize(
    "case",
    ["valid", "negative stock", "promo not 0/1", "null key", "duplicate key", "wrong type", "missing column", "extra column"],
)
def test_one_pass_verdicts_match_pandera_pyspark(spark, case):
    rows, columns = [_row(1, 3.0), _row(2, 0.0)], COLUMNS
    if case == "negative stock":
        rows[0] = _row(1, -1.0)
    elif case == "promo not 0/1":
        rows[1] = _row(2, 1.0, promo=3)
    elif case == "null key":
        rows[0] = (None, *rows[0][1:])
    elif case == "duplicate key":
        rows.append(_row(2, 5.0))
    frame = spark.createDataFrame(rows, columns)
    if case == "wrong type":
        frame = frame.withColumn("quantity", F.col("quantity").cast("string"))
    elif case == "missing column":
        frame = frame.drop("revenue")
    elif case == "extra column":
        frame = frame.withColumn("surprise", F.lit(1))

    ours, theirs = _ours(DailySalesSchema, frame), _pandera_verdict(DailySalesSchema, frame)

    assert (not ours) == (case == "valid")
    named_otherwise = {"DUPLICATES", "COLUMN_NOT_IN_SCHEMA"}  # pandera names the table there, the report the columns
    assert {c for c, t in ours if t not in named_otherwise} == {c for c, t in theirs if t not in named_otherwise}
    assert {t for _, t in ours} == {t for _, t in theirs}


def test_a_check_without_a_spark_predicate_is_refused_not_skipped(spark):
    class Odd(pa_ps.DataFrameModel):
        code: T.StringType() = pa_ps.Field(str_startswith="A")

    with pytest.raises(ValueError, match="str_startswith"):
        validate_spark_table(Odd, spark.createDataFrame([("AB",)], "code string"), "odd")
