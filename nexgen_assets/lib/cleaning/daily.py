"""Order lines -> one row per store, product and day, zero-filled, with stock on hand."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import SERIES_KEYS
from nexgen_assets.lib.ingestion.contract import SOURCE_FILE
from nexgen_assets.lib.ingestion.source_db import BATCH_PREFIX, DELETED_MARKER, batch_order

LINE_IDENTITY = ("order_id", "store_id", "product_id", "order_ts", "quantity", "unit_price")


def distinct_lines(clean_sales: DataFrame) -> DataFrame:
    """One row per order line even if it landed in several files (a re-sent or overlapping export).

    Lines from the source database are upserted: a line (order, store, product, time) that
    a later batch extracted again, re-read or updated, keeps only that latest version, and
    leaves altogether when that version is marked deleted in the source.
    """
    if SOURCE_FILE not in clean_sales.columns:
        return clean_sales.dropDuplicates(list(LINE_IDENTITY))
    from_db = F.col(SOURCE_FILE).startswith(BATCH_PREFIX)
    batches = [row[0] for row in clean_sales.where(from_db).select(SOURCE_FILE).distinct().collect()]
    if batches:
        ranks = F.create_map(*[F.lit(x) for key, rank in batch_order(batches).items() for x in (key, rank)])
        latest = Window.partitionBy("order_id", "store_id", "product_id", "order_ts").orderBy(
            F.desc(ranks[F.col(SOURCE_FILE)])
        )
        upserted = (
            clean_sales.where(from_db)
            .withColumn("_version", F.row_number().over(latest))
            .where(F.col("_version") == 1)
            .drop("_version")
        )
        if "extra" in clean_sales.columns:
            upserted = upserted.where(F.coalesce(F.get_json_object("extra", f"$.{DELETED_MARKER}"), F.lit("0")) != "1")
        clean_sales = clean_sales.where(~from_db).unionByName(upserted)
    return clean_sales.dropDuplicates(list(LINE_IDENTITY))


DAILY_FLAGS = ("promo", "stockout")
"""daily_sales columns that are 0/1 flags (integers in the lake for the features, BIT in the warehouse)."""


def daily_totals(lines: DataFrame) -> DataFrame:
    """Net and gross quantity, revenue and promo per series and day of distinct order lines."""
    return lines.groupBy(*SERIES_KEYS, "date").agg(
        F.sum("quantity").alias("quantity"),
        F.sum(F.when(F.col("quantity") > 0, F.col("quantity")).otherwise(0)).alias("units_sold"),
        F.sum(F.when(F.col("quantity") < 0, -F.col("quantity")).otherwise(0)).alias("units_returned"),
        F.sum("revenue").alias("revenue"),
        F.sum(F.when(F.col("quantity") > 0, F.col("revenue"))).alias("_gross_revenue"),
        F.max("promo").alias("promo"),
    )


def order_days(clean_sales: DataFrame) -> DataFrame:
    """Distinct order lines reduced to the columns the daily table sums, with their day as `date`."""
    return distinct_lines(clean_sales).select(
        "store_id", "product_id", F.col("order_date").alias("date"), "quantity", "revenue", "unit_price", "promo"
    )


def last_observed_day(lines: DataFrame, inventory: DataFrame | None):
    """The last day any order line or stock snapshot names: every live series runs to it."""
    last_day = lines.agg(F.max("date")).first()[0]
    if inventory is not None:
        inventory_last = inventory.agg(F.max("snapshot_date")).first()[0]
        if inventory_last is not None and last_day is not None:
            last_day = max(last_day, inventory_last)
    return last_day


def fill_days(grid: DataFrame, lines: DataFrame, inventory: DataFrame | None, carried: DataFrame | None = None) -> DataFrame:
    """The daily table over `grid` (series and days): sums of the day's lines, zero on days without
    sales, last price and latest stock snapshot carried forward.

    `carried` (series keys, avg_price, stock_on_hand, on the day before the grid's first day)
    seeds the carried values, so a stretch of days is computed exactly as it would be inside the
    whole history.
    """
    frame = grid.join(daily_totals(lines), [*SERIES_KEYS, "date"], "left")
    if inventory is not None:
        stock = inventory.groupBy(*SERIES_KEYS, F.col("snapshot_date").alias("date")).agg(
            F.max("stock_on_hand").alias("_snapshot_stock")
        )
        frame = frame.join(stock, [*SERIES_KEYS, "date"], "left")
    else:
        frame = frame.withColumn("_snapshot_stock", F.lit(None).cast("double"))
    frame = frame.withColumn("_price_seed", F.lit(None).cast("double"))
    if carried is not None:
        seeds = carried.select(
            *SERIES_KEYS,
            F.to_date(F.lit(SEED_DAY)).alias("date"),
            F.col("stock_on_hand").cast("double").alias("_snapshot_stock"),
            F.col("avg_price").cast("double").alias("_price_seed"),
        )
        frame = frame.unionByName(seeds, allowMissingColumns=True)

    history = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(Window.unboundedPreceding, 0)
    day_price = F.coalesce(
        F.when(F.col("units_sold") > 0, F.col("_gross_revenue") / F.col("units_sold")), F.col("_price_seed")
    )
    filled = frame.select(
        *SERIES_KEYS,
        "date",
        F.coalesce("quantity", F.lit(0.0)).alias("quantity"),
        F.coalesce("units_sold", F.lit(0.0)).alias("units_sold"),
        F.coalesce("units_returned", F.lit(0.0)).alias("units_returned"),
        F.coalesce("revenue", F.lit(0.0)).alias("revenue"),
        F.last(day_price, ignorenulls=True).over(history).alias("avg_price"),
        F.coalesce("promo", F.lit(0)).cast("int").alias("promo"),
        F.last("_snapshot_stock", ignorenulls=True).over(history).alias("stock_on_hand"),
    ).withColumn(
        "stockout",
        F.when(F.col("stock_on_hand").isNull(), None).otherwise((F.col("stock_on_hand") <= 0).cast("int")),
    )
    return filled.where(F.col("date") > F.to_date(F.lit(SEED_DAY))) if carried is not None else filled


SEED_DAY = "0001-01-01"
"""Date of the carried-in row that seeds a stretch of days; before any day the contract accepts, and dropped."""


def aggregate_daily(clean_sales: DataFrame, inventory: DataFrame | None) -> DataFrame:
    """Daily net quantity, revenue, average price, promo, stock on hand and a stockout flag.

    Every series runs from its first sale to the last day seen in any file, with
    zero quantity on days without sales. The average price of a day without sales
    is the last price seen, so price never drops to zero. Stock on hand is the
    latest snapshot on or before the day; a zero stock marks a stockout.
    """
    lines = order_days(clean_sales)
    last_day = last_observed_day(lines, inventory)
    spans = lines.groupBy(*SERIES_KEYS).agg(F.min("date").alias("first_date"))
    grid = spans.select(
        *SERIES_KEYS,
        F.explode(F.sequence("first_date", F.lit(last_day), F.expr("interval 1 day"))).alias("date"),
    )
    return fill_days(grid, lines, inventory)
