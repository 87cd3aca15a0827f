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


def aggregate_daily(clean_sales: DataFrame, inventory: DataFrame | None) -> DataFrame:
    """Daily net quantity, revenue, average price, promo, stock on hand and a stockout flag.

    Every series runs from its first sale to the last day seen in any file, with
    zero quantity on days without sales. The average price of a day without sales
    is the last price seen, so price never drops to zero. Stock on hand is the
    latest snapshot on or before the day; a zero stock marks a stockout.
    """
    lines = distinct_lines(clean_sales).select("store_id", "product_id", F.col("order_date").alias("date"),
                               "quantity", "revenue", "unit_price", "promo")
    daily = lines.groupBy(*SERIES_KEYS, "date").agg(
        F.sum("quantity").alias("quantity"),
        F.sum(F.when(F.col("quantity") > 0, F.col("quantity")).otherwise(0)).alias("units_sold"),
        F.sum(F.when(F.col("quantity") < 0, -F.col("quantity")).otherwise(0)).alias("units_returned"),
        F.sum("revenue").alias("revenue"),
        F.sum(F.when(F.col("quantity") > 0, F.col("revenue"))).alias("_gross_revenue"),
        F.max("promo").alias("promo"),
    )
    last_day = lines.agg(F.max("date")).first()[0]
    if inventory is not None:
        inventory_last = inventory.agg(F.max("snapshot_date")).first()[0]
        if inventory_last is not None and last_day is not None:
            last_day = max(last_day, inventory_last)
    spans = lines.groupBy(*SERIES_KEYS).agg(F.min("date").alias("first_date"))
    grid = spans.select(
        *SERIES_KEYS,
        F.explode(F.sequence("first_date", F.lit(last_day), F.expr("interval 1 day"))).alias("date"),
    )
    frame = grid.join(daily, [*SERIES_KEYS, "date"], "left")
    if inventory is not None:
        stock = inventory.groupBy(*SERIES_KEYS, F.col("snapshot_date").alias("date")).agg(
            F.max("stock_on_hand").alias("_snapshot_stock")
        )
        frame = frame.join(stock, [*SERIES_KEYS, "date"], "left")
    else:
        frame = frame.withColumn("_snapshot_stock", F.lit(None).cast("double"))

    history = Window.partitionBy(*SERIES_KEYS).orderBy("date").rowsBetween(Window.unboundedPreceding, 0)
    day_price = F.when(F.col("units_sold") > 0, F.col("_gross_revenue") / F.col("units_sold"))
    return frame.select(
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


def daily_summary(daily_sales: DataFrame, clean_sales: DataFrame) -> dict[str, int | str]:
    """Series, first and last day, stockout days, and order lines that arrived in more than one file."""
    stats = daily_sales.agg(
        F.min("date").alias("first"), F.max("date").alias("last"),
        F.countDistinct(*SERIES_KEYS).alias("series"), F.sum("stockout").alias("stockout_days"),
    ).first()
    return {
        "series": int(stats["series"]),
        "first_date": str(stats["first"]),
        "last_date": str(stats["last"]),
        "stockout_days": int(stats["stockout_days"] or 0),
        "lines_repeated_across_files": clean_sales.count() - distinct_lines(clean_sales).count(),
    }
