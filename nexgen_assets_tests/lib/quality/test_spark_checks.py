import datetime as dt

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
