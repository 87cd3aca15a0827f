"""Product and store dimensions for the star schema, built from cleaned order lines."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def product_dimension(clean_sales: DataFrame) -> DataFrame:
    """One row per product: latest name and category, first and last sale, totals."""
    return clean_sales.groupBy("product_id").agg(
        F.max_by("product_name", F.when(F.col("product_name").isNotNull(), F.col("order_ts"))).alias("product_name"),
        F.max_by("category", F.when(F.col("category").isNotNull(), F.col("order_ts"))).alias("category"),
        F.min("order_date").alias("first_sale_date"),
        F.max("order_date").alias("last_sale_date"),
        F.sum("quantity").alias("total_quantity"),
        F.round(F.sum("revenue"), 2).alias("total_revenue"),
        F.round(F.max_by("unit_price", "order_ts"), 2).alias("current_price"),
    )


def store_dimension(clean_sales: DataFrame) -> DataFrame:
    """One row per store: first and last sale, products carried, totals."""
    return clean_sales.groupBy("store_id").agg(
        F.min("order_date").alias("first_sale_date"),
        F.max("order_date").alias("last_sale_date"),
        F.countDistinct("product_id").alias("product_count"),
        F.sum("quantity").alias("total_quantity"),
        F.round(F.sum("revenue"), 2).alias("total_revenue"),
    ).withColumn("is_online", F.col("store_id") == F.lit("ONLINE"))
