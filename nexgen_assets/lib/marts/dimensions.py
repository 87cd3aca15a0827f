"""Product, store and date dimensions for the star schema."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import holiday_table


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


def date_dimension(start: dt.date, end: dt.date, fiscal_year_start_month: int = 2) -> pd.DataFrame:
    """One row per calendar day with the attributes dashboards slice by.

    The fiscal year starts on the first day of `fiscal_year_start_month` (February,
    as in most retail calendars) and is named after the calendar year it ends in.
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, got {fiscal_year_start_month}")
    days = pd.date_range(start, end, freq="D")
    iso = days.isocalendar()
    fiscal_month = (days.month - fiscal_year_start_month) % 12 + 1
    ends_next_year = (days.month >= fiscal_year_start_month) & (fiscal_year_start_month != 1)
    frame = pd.DataFrame(
        {
            "date": days.date,
            "year": days.year.astype("int32"),
            "quarter": days.quarter.astype("int32"),
            "month": days.month.astype("int32"),
            "month_name": days.month_name(),
            "day_of_month": days.day.astype("int32"),
            "day_of_week": (days.dayofweek + 1).astype("int32"),
            "day_name": days.day_name(),
            "iso_year": iso["year"].to_numpy().astype("int32"),
            "iso_week": iso["week"].to_numpy().astype("int32"),
            "week_start": (days - pd.to_timedelta(days.dayofweek, unit="D")).date,
            "fiscal_year": (days.year + ends_next_year.astype(int)).astype("int32"),
            "fiscal_quarter": ((fiscal_month - 1) // 3 + 1).astype("int32"),
            "fiscal_month": fiscal_month.astype("int32"),
            "is_weekend": days.dayofweek >= 5,
        }
    )
    holidays = holiday_table(start, end)
    frame = frame.merge(holidays, on="date", how="left")
    frame["is_holiday"] = frame["holiday"].notna()
    return frame
