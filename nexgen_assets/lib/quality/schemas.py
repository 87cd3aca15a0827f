"""Pandera schemas for every table: pyspark models for lake tables, pandas models for outputs."""

from __future__ import annotations

import pandera.pandas as pa_pd
import pandera.pyspark as pa_ps
import pyspark.sql.types as T
from pandera.typing import Series

from nexgen_assets.lib.features.calendar import PUBLIC_HOLIDAY, RETAIL_EVENT
from nexgen_assets.lib.ingestion.contract import REJECT_REASONS


class RawSalesSchema(pa_ps.DataFrameModel):
    """Landed rows as text: only lineage columns are promised."""

    source_file: T.StringType() = pa_ps.Field(nullable=False)
    row_number: T.IntegerType() = pa_ps.Field(nullable=False, ge=1)

    class Config:
        strict = False


class CleanSalesSchema(pa_ps.DataFrameModel):
    """Typed order lines that meet the contract."""

    order_id: T.StringType() = pa_ps.Field(nullable=False)
    order_ts: T.TimestampType() = pa_ps.Field(nullable=False)
    order_date: T.DateType() = pa_ps.Field(nullable=False)
    store_id: T.StringType() = pa_ps.Field(nullable=False)
    product_id: T.StringType() = pa_ps.Field(nullable=False)
    product_name: T.StringType() = pa_ps.Field(nullable=True)
    category: T.StringType() = pa_ps.Field(nullable=True)
    quantity: T.DoubleType() = pa_ps.Field(nullable=False, ne=0)
    unit_price: T.DoubleType() = pa_ps.Field(nullable=False, ge=0)
    promo: T.IntegerType() = pa_ps.Field(nullable=False, isin=[0, 1])
    revenue: T.DoubleType() = pa_ps.Field(nullable=False)
    extra: T.StringType() = pa_ps.Field(nullable=True)
    source_file: T.StringType() = pa_ps.Field(nullable=False)
    row_number: T.IntegerType() = pa_ps.Field(nullable=False, ge=1)

    class Config:
        strict = True


class RejectsSchema(pa_ps.DataFrameModel):
    """Rows that broke the contract, each with a known reason code and its original record."""

    source_file: T.StringType() = pa_ps.Field(nullable=False)
    row_number: T.IntegerType() = pa_ps.Field(nullable=False, ge=1)
    reason: T.StringType() = pa_ps.Field(nullable=False, isin=sorted(REJECT_REASONS))
    record: T.StringType() = pa_ps.Field(nullable=True)

    class Config:
        strict = True


class InventorySchema(pa_ps.DataFrameModel):
    """Typed stock snapshots."""

    snapshot_date: T.DateType() = pa_ps.Field(nullable=False)
    store_id: T.StringType() = pa_ps.Field(nullable=False)
    product_id: T.StringType() = pa_ps.Field(nullable=False)
    stock_on_hand: T.DoubleType() = pa_ps.Field(nullable=False, ge=0)
    lead_time_days: T.DoubleType() = pa_ps.Field(nullable=True, ge=0)
    source_file: T.StringType() = pa_ps.Field(nullable=False)
    row_number: T.IntegerType() = pa_ps.Field(nullable=False, ge=1)

    class Config:
        strict = True


class DailySalesSchema(pa_ps.DataFrameModel):
    """One row per store, product and day."""

    store_id: T.StringType() = pa_ps.Field(nullable=False)
    product_id: T.StringType() = pa_ps.Field(nullable=False)
    date: T.DateType() = pa_ps.Field(nullable=False)
    quantity: T.DoubleType() = pa_ps.Field(nullable=False)
    units_sold: T.DoubleType() = pa_ps.Field(nullable=False, ge=0)
    units_returned: T.DoubleType() = pa_ps.Field(nullable=False, ge=0)
    revenue: T.DoubleType() = pa_ps.Field(nullable=False)
    avg_price: T.DoubleType() = pa_ps.Field(nullable=True, ge=0)
    promo: T.IntegerType() = pa_ps.Field(nullable=False, isin=[0, 1])
    stock_on_hand: T.DoubleType() = pa_ps.Field(nullable=True, ge=0)
    stockout: T.IntegerType() = pa_ps.Field(nullable=True, isin=[0, 1])

    class Config:
        strict = True
        unique = ["store_id", "product_id", "date"]


class SalesFeaturesSchema(pa_ps.DataFrameModel):
    """Model rows: keys and target are checked; feature columns may be null early in a series."""

    store_id: T.StringType() = pa_ps.Field(nullable=False)
    product_id: T.StringType() = pa_ps.Field(nullable=False)
    category: T.StringType() = pa_ps.Field(nullable=False)
    date: T.DateType() = pa_ps.Field(nullable=False)
    quantity: T.DoubleType() = pa_ps.Field(nullable=True)
    is_future: T.BooleanType() = pa_ps.Field(nullable=False)
    day_of_week: T.IntegerType() = pa_ps.Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    promo: T.IntegerType() = pa_ps.Field(nullable=False, isin=[0, 1])
    price: T.DoubleType() = pa_ps.Field(nullable=True, ge=0)

    class Config:
        strict = False
        unique = ["store_id", "product_id", "date"]


class StoreListSchema(pa_pd.DataFrameModel):
    """Accepted rows of the store lists (`stores*` files): one per store_id."""

    class Config:
        coerce = True
        strict = True

    store_id: Series[str] = pa_pd.Field(unique=True)
    store_name: Series[str] = pa_pd.Field(nullable=True)
    region: Series[str] = pa_pd.Field(nullable=True)
    format: Series[str] = pa_pd.Field(nullable=True)
    opening_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    source_file: Series[str]
    row_number: Series[int] = pa_pd.Field(ge=1)


class ProductListSchema(pa_pd.DataFrameModel):
    """Accepted rows of the product lists (`products*` files): one per product_id."""

    class Config:
        coerce = True
        strict = True

    product_id: Series[str] = pa_pd.Field(unique=True)
    product_name: Series[str] = pa_pd.Field(nullable=True)
    brand: Series[str] = pa_pd.Field(nullable=True)
    category: Series[str] = pa_pd.Field(nullable=True)
    subcategory: Series[str] = pa_pd.Field(nullable=True)
    size: Series[str] = pa_pd.Field(nullable=True)
    source_file: Series[str]
    row_number: Series[int] = pa_pd.Field(ge=1)


class DimProductSchema(pa_pd.DataFrameModel):
    """Every product sold or listed; sale dates and price are null for a listed product never sold."""

    class Config:
        coerce = True
        strict = True

    product_id: Series[str] = pa_pd.Field(unique=True)
    product_name: Series[str] = pa_pd.Field(nullable=True)
    category: Series[str] = pa_pd.Field(nullable=True)
    brand: Series[str] = pa_pd.Field(nullable=True)
    subcategory: Series[str] = pa_pd.Field(nullable=True)
    size: Series[str] = pa_pd.Field(nullable=True)
    first_sale_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    last_sale_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    current_price: Series[float] = pa_pd.Field(ge=0, nullable=True)
    has_sales: Series[bool]


class DimStoreSchema(pa_pd.DataFrameModel):
    """Every store with sales or listed; a listed store without sales has no sale dates and 0 products."""

    class Config:
        coerce = True
        strict = True

    store_id: Series[str] = pa_pd.Field(unique=True)
    store_name: Series[str] = pa_pd.Field(nullable=True)
    region: Series[str] = pa_pd.Field(nullable=True)
    format: Series[str] = pa_pd.Field(nullable=True)
    opening_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    first_sale_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    last_sale_date: Series[pa_pd.DateTime] = pa_pd.Field(nullable=True, coerce=True)
    product_count: Series[int] = pa_pd.Field(ge=0)
    is_online: Series[bool]
    has_sales: Series[bool]


class DimDateSchema(pa_pd.DataFrameModel):
    class Config:
        coerce = True

    date: Series[pa_pd.DateTime] = pa_pd.Field(unique=True, coerce=True)
    year: Series[int]
    quarter: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 4})
    month: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 12})
    day_of_week: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 7})
    iso_week: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 53})
    fiscal_year: Series[int]
    fiscal_quarter: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 4})
    fiscal_month: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 12})
    fiscal_week: Series[int] = pa_pd.Field(in_range={"min_value": 1, "max_value": 53})
    is_weekend: Series[bool]
    is_holiday: Series[bool]
    holiday: Series[str] = pa_pd.Field(nullable=True)
    holiday_type: Series[str] = pa_pd.Field(nullable=True, isin=[PUBLIC_HOLIDAY, RETAIL_EVENT])

    @pa_pd.dataframe_check
    def holiday_named_with_its_type(cls, df):
        return (df["holiday"].notna() == df["is_holiday"]) & (df["holiday"].notna() == df["holiday_type"].notna())


class _ForecastQuantiles(pa_pd.DataFrameModel):
    """What every forecast table shares: a day, a horizon, the mean and ordered non-negative quantiles."""

    forecast_run_id: Series[str]
    date: Series[pa_pd.DateTime] = pa_pd.Field(coerce=True)
    horizon: Series[int] = pa_pd.Field(ge=1)
    mean: Series[float] = pa_pd.Field(ge=0)
    p10: Series[float] = pa_pd.Field(ge=0)
    p50: Series[float] = pa_pd.Field(ge=0)
    p90: Series[float] = pa_pd.Field(ge=0)

    @pa_pd.dataframe_check
    def quantiles_ordered(cls, df):
        return (df["p10"] <= df["p50"]) & (df["p50"] <= df["p90"])


class ForecastSchema(_ForecastQuantiles):
    """fact_forecast: one row per run, series and day, quantiles ordered and non-negative."""

    model_name: Series[str]
    model_version: Series[str]
    store_id: Series[str]
    product_id: Series[str]

    class Config:
        coerce = True
        unique = ["forecast_run_id", "store_id", "product_id", "date"]


class ForecastLevelsSchema(_ForecastQuantiles):
    """fact_forecast_levels: one row per run, level, group and day, quantiles ordered and non-negative."""

    level: Series[str] = pa_pd.Field(isin=["total", "store", "category", "store_category"])
    store_id: Series[str]
    category: Series[str]

    class Config:
        coerce = True
        unique = ["forecast_run_id", "level", "store_id", "category", "date"]
