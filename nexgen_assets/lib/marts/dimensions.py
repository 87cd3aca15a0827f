"""Product, store and date dimensions for the star schema.

The dimensions describe; they hold no all-time totals (those ignore every report filter):
quantities and revenue are measures over `fact_sales_daily`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from nexgen_assets.lib.features.calendar import FiscalCalendar, HolidayCalendar, fiscal_fields
from nexgen_assets.lib.ingestion.contract import DEFAULT_STORE_ID

DIM_PRODUCT_COLUMNS = (
    "product_id", "product_name", "category", "brand", "subcategory", "size",
    "first_sale_date", "last_sale_date", "current_price", "has_sales",
)
DIM_STORE_COLUMNS = (
    "store_id", "store_name", "region", "format", "opening_date",
    "first_sale_date", "last_sale_date", "product_count", "is_online", "has_sales",
)


def product_dimension(clean_sales: DataFrame) -> DataFrame:
    """One row per product sold: latest name and category, first and last sale, latest price."""
    return clean_sales.groupBy("product_id").agg(
        F.max_by("product_name", F.when(F.col("product_name").isNotNull(), F.col("order_ts"))).alias("product_name"),
        F.max_by("category", F.when(F.col("category").isNotNull(), F.col("order_ts"))).alias("category"),
        F.min("order_date").alias("first_sale_date"),
        F.max("order_date").alias("last_sale_date"),
        F.round(F.max_by("unit_price", "order_ts"), 2).alias("current_price"),
    )


def store_dimension(clean_sales: DataFrame) -> DataFrame:
    """One row per store with sales: first and last sale, products carried."""
    return clean_sales.groupBy("store_id").agg(
        F.min("order_date").alias("first_sale_date"),
        F.max("order_date").alias("last_sale_date"),
        F.countDistinct("product_id").alias("product_count"),
    ).withColumn("is_online", F.col("store_id") == F.lit(DEFAULT_STORE_ID))


def _with_list(sold: pd.DataFrame, listed: pd.DataFrame | None, key: str, attributes: tuple[str, ...]) -> pd.DataFrame:
    """Every id sold or listed (an outer join on the id, matched as exact text); has_sales tells which were sold.

    The list's attributes come back with a `_listed` suffix where `sold` has a column of that name.
    """
    listed = pd.DataFrame(columns=[key, *attributes]) if listed is None else listed[[key, *attributes]]
    frame = sold.merge(listed.astype({key: object}), on=key, how="outer", suffixes=("", "_listed"))
    frame["has_sales"] = frame[key].isin(sold[key])
    for column in frame.select_dtypes(object).columns:
        frame[column] = frame[column].where(frame[column].notna(), None)
    return frame.sort_values(key, ignore_index=True)


def product_table(sold: pd.DataFrame, listed: pd.DataFrame | None = None) -> pd.DataFrame:
    """dim_product: the products sold (`product_dimension`) and those of the product list (`raw_products`).

    A name in the product list wins over the latest name seen in sales; the category seen in sales wins
    over the list's (the forecast levels and model features group by it), which fills it where sales
    have none. Brand, subcategory and size come from the list; a product without a list row has them
    null, a listed product never sold has has_sales false and no sale dates or price.
    """
    frame = _with_list(sold, listed, "product_id", ("product_name", "category", "brand", "subcategory", "size"))
    frame["product_name"] = frame["product_name_listed"].combine_first(frame["product_name"])
    frame["category"] = frame["category"].combine_first(frame["category_listed"])
    frame["current_price"] = frame["current_price"].astype("float64")
    return frame[list(DIM_PRODUCT_COLUMNS)]


def store_table(sold: pd.DataFrame, listed: pd.DataFrame | None = None) -> pd.DataFrame:
    """dim_store: the stores with sales (`store_dimension`) and those of the store list (`raw_stores`).

    Name, region, format and opening date come from the list, null for a store it does not name; a
    listed store without sales has has_sales false, no sale dates and a product_count of 0.
    """
    frame = _with_list(sold, listed, "store_id", ("store_name", "region", "format", "opening_date"))
    frame["opening_date"] = pd.array(
        [None if pd.isna(d) else pd.Timestamp(d).date() for d in frame["opening_date"]], dtype=pd.ArrowDtype(pa.date32())
    )
    frame["product_count"] = frame["product_count"].fillna(0).astype("int64")
    frame["is_online"] = frame["store_id"].eq(DEFAULT_STORE_ID)
    return frame[list(DIM_STORE_COLUMNS)]


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
