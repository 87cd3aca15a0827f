"""Seconds to check a Spark table against its Pandera model: pandera.pyspark's own run against the one-pass check.

    python bench/checks.py [--rows 1 10000 1000000] [--repeats 3]

Every landed file is checked twice (raw rows, then clean rows and rejects), so the fixed
cost of a check is paid per file. For each size, a daily_sales-shaped table (one bad stock
value in it, so both ways report a failure with its rows) is written to Parquet, read back
and checked the two ways on the same local Spark session: `pandera.pyspark` (the model's
`validate`, then the failing rows counted as the report needs them) and
`lib/quality/spark_checks.validate_spark_table` (all checks in one aggregation). Prints the
median of the repeats.
"""

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nexgen_assets.lib.quality.schemas import DailySalesSchema  # noqa: E402
from nexgen_assets.lib.quality.spark_checks import validate_spark_table  # noqa: E402
from nexgen_assets.resources import spark_config  # noqa: E402
from nexgen_assets.settings import Settings  # noqa: E402


def _session() -> SparkSession:
    builder = SparkSession.builder
    for key, value in spark_config(Settings(), "local[2]").items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _table(spark: SparkSession, rows: int, folder: Path) -> str:
    """A daily_sales-shaped Parquet table of `rows` rows, one of them with a negative stock."""
    start = dt.date(2020, 1, 1)
    frame = spark.range(rows).select(
        F.lit("S1").alias("store_id"),
        F.concat(F.lit("P"), (F.col("id") % 1000).cast("string")).alias("product_id"),
        F.date_add(F.lit(start), (F.col("id") / 1000).cast("int")).alias("date"),
        F.lit(1.0).alias("quantity"), F.lit(1.0).alias("units_sold"), F.lit(0.0).alias("units_returned"),
        F.lit(2.0).alias("revenue"), F.lit(2.0).alias("avg_price"), F.lit(0).alias("promo"),
        F.when(F.col("id") == 0, F.lit(-1.0)).otherwise(F.lit(3.0)).alias("stock_on_hand"), F.lit(0).alias("stockout"),
    )
    path = str(folder / f"rows_{rows}")
    frame.write.parquet(path)
    return path


def _pandera_pyspark(spark: SparkSession, path: str) -> int:
    frame = spark.read.parquet(path)
    errors = DailySalesSchema.validate(frame).pandera.errors
    failing = frame.where(F.col("stock_on_hand") < 0).count() if errors else 0
    frame.count()
    return failing


def _one_pass(spark: SparkSession, path: str) -> int:
    return validate_spark_table(DailySalesSchema, spark.read.parquet(path), "daily_sales").failing_rows


def _median_seconds(run, repeats: int) -> tuple[float, int]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spark = _session()
    with tempfile.TemporaryDirectory() as scratch:
        warm = _table(spark, 10, Path(scratch))
        _pandera_pyspark(spark, warm), _one_pass(spark, warm)
        print(f"{'rows':>10} {'pandera.pyspark s':>18} {'one pass s':>11} {'ratio':>6}  failing rows found")
        for rows in args.rows:
            path = _table(spark, rows, Path(scratch))
            theirs, found_theirs = _median_seconds(lambda p=path: _pandera_pyspark(spark, p), args.repeats)
            ours, found_ours = _median_seconds(lambda p=path: _one_pass(spark, p), args.repeats)
            print(f"{rows:>10,} {theirs:>18.2f} {ours:>11.2f} {theirs / ours:>6.1f}  {found_theirs} / {found_ours}")
    spark.stop()


if __name__ == "__main__":
    main()
