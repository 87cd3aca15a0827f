"""Product, store and date dimensions for the star schema."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import FiscalCalendar, HolidayCalendar, fiscal_fields


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


def date_span(first_sale: dt.date, last_sale: dt.date, days_ahead: int) -> tuple[dt.date, dt.date]:
    """Whole calendar years from the first sale's to the one holding `days_ahead` past the last sale.

    A marked date table in Power BI must have every day of every year it touches, so
    time-intelligence functions (year to date, same period last year) see complete years.
    """
    return dt.date(first_sale.year, 1, 1), dt.date((last_sale + dt.timedelta(days=days_ahead)).year, 12, 31)


def date_dimension(
    start: dt.date,
    end: dt.date,
    fiscal_year_start_month: int = 2,
    fiscal_calendar: FiscalCalendar = "calendar_months",
    holidays: HolidayCalendar = HolidayCalendar(),
) -> pd.DataFrame:
    """One row per calendar day with the attributes dashboards slice by.

    Fiscal fields follow `fiscal_calendar` (see calendar.fiscal_fields): calendar months from
    `fiscal_year_start_month` (February, as in most retail calendars), or the NRF 4-5-4 calendar.
    Each day names its holiday from `holidays`, and says whether it is a public holiday or a retail event.
    """
    days = pd.date_range(start, end, freq="D")
    iso = days.isocalendar()
    fiscal = fiscal_fields(days, fiscal_calendar, fiscal_year_start_month)
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
            **{column: fiscal[column].to_numpy() for column in fiscal.columns},
            "is_weekend": days.dayofweek >= 5,
        }
    )
    frame = frame.merge(holidays.table(start, end), on="date", how="left")
    frame["is_holiday"] = frame["holiday"].notna()
    return frame
