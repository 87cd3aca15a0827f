"""Product and store dimensions from cleaned order lines (latest names and prices, first and last sale) joined with
the store and product lists; the date dimension (ISO weeks, fiscal fields, holidays)."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from nexgen_assets.lib.features.calendar import PUBLIC_HOLIDAY, RETAIL_EVENT, HolidayCalendar
from nexgen_assets.lib.marts.dimensions import (
    DIM_PRODUCT_COLUMNS,
    DIM_STORE_COLUMNS,
    date_dimension,
    date_span,
    product_dimension,
    product_table,
    store_dimension,
    store_table,
)
from nexgen_assets.lib.quality.schemas import DimDateSchema, DimProductSchema, DimStoreSchema
from nexgen_assets.lib.storage import warehouse as wh
from nexgen_assets.lib.storage.warehouse import to_python_dates

SCHEMA = (
    "order_id string, order_ts timestamp, order_date date, store_id string, product_id string, "
    "product_name string, category string, quantity double, unit_price double, revenue double"
)


def _line(i, day, store, product, name, category, qty, price):
    ts = dt.datetime(2025, 1, day, 10, 0)
    return (f"O{i}", ts, ts.date(), store, product, name, category, float(qty), price, qty * price)


def _lines(spark):
    return spark.createDataFrame(
        [
            _line(1, 3, "S1", "P1", "Tea", "grocery", 2, 1.50),
            _line(2, 5, "S1", "P1", "Green tea", "grocery", 1, 1.75),
            _line(3, 9, "ONLINE", "P1", None, None, 3, 2.00),
            _line(4, 4, "S1", "P2", "Soap", "household", 4, 0.99),
            _line(5, 6, "S1", "P2", "Soap", "household", -1, 0.99),
        ],
        SCHEMA,
    )


def test_product_dimension_keeps_the_latest_known_name_and_the_latest_price(spark):
    products = {r["product_id"]: r.asDict() for r in product_dimension(_lines(spark)).collect()}
    tea = products["P1"]
    assert (tea["product_name"], tea["category"]) == ("Green tea", "grocery")
    assert (tea["first_sale_date"], tea["last_sale_date"]) == (dt.date(2025, 1, 3), dt.date(2025, 1, 9))
    assert tea["current_price"] == 2.0 and products["P2"]["current_price"] == 0.99
    assert set(products) == {"P1", "P2"}
    assert not {"total_quantity", "total_revenue"} & set(tea), "all-time totals are measures over the facts"


def test_store_dimension_counts_products_and_flags_the_online_store(spark):
    stores = {r["store_id"]: r.asDict() for r in store_dimension(_lines(spark)).collect()}
    assert set(stores) == {"S1", "ONLINE"}
    shop = stores["S1"]
    assert (shop["first_sale_date"], shop["last_sale_date"]) == (dt.date(2025, 1, 3), dt.date(2025, 1, 6))
    assert shop["product_count"] == 2 and stores["ONLINE"]["product_count"] == 1
    assert not shop["is_online"] and stores["ONLINE"]["is_online"]
    assert not {"total_quantity", "total_revenue"} & set(shop)


STORE_LIST = pd.DataFrame({
    "store_id": ["S1", "S9"], "store_name": ["Main Street", "New Town"], "region": ["North", None],
    "format": ["mall", "outlet"], "opening_date": [dt.date(2019, 5, 1), None],
    "source_file": "stores.csv", "row_number": [1, 2],
})
PRODUCT_LIST = pd.DataFrame({
    "product_id": ["P1", "P3"], "product_name": ["Darjeeling 500 g", "Cola"], "brand": ["Leafy", "Fizz"],
    "category": ["tea", "drinks"], "subcategory": ["black tea", None], "size": ["500 g", "1 l"],
    "source_file": "products.csv", "row_number": [1, 2],
})


def _sold(dimension, spark):
    return to_python_dates(dimension(_lines(spark)).toPandas(), ["first_sale_date", "last_sale_date"])


def test_a_store_list_names_the_stores_and_adds_the_ones_without_sales(spark):
    stores = store_table(_sold(store_dimension, spark), STORE_LIST)
    DimStoreSchema.validate(stores, lazy=True)
    assert list(stores.columns) == list(DIM_STORE_COLUMNS)
    by_id = stores.set_index("store_id")
    assert list(by_id.index) == ["ONLINE", "S1", "S9"]
    main = by_id.loc["S1"]
    assert (main["store_name"], main["region"], main["format"], main["opening_date"]) == (
        "Main Street", "North", "mall", dt.date(2019, 5, 1))
    assert main["has_sales"] and main["product_count"] == 2 and main["first_sale_date"] == dt.date(2025, 1, 3)
    online = by_id.loc["ONLINE"]
    assert online["store_name"] is None and online["has_sales"] and online["is_online"]
    listed_only = by_id.loc["S9"]
    assert not listed_only["has_sales"] and listed_only["product_count"] == 0 and not listed_only["is_online"]
    assert listed_only["first_sale_date"] is None and pd.isna(listed_only["opening_date"])
    assert listed_only["store_name"] == "New Town"


def test_without_a_store_list_the_stores_are_those_sold_with_empty_attributes(spark):
    sold = _sold(store_dimension, spark)
    for listed in (None, STORE_LIST.iloc[0:0]):
        stores = store_table(sold, listed)
        DimStoreSchema.validate(stores, lazy=True)
        assert list(stores.columns) == list(DIM_STORE_COLUMNS) and stores["has_sales"].all()
        assert stores[["store_name", "region", "format", "opening_date"]].isna().all().all()
        assert str(stores["opening_date"].dtype) == "date32[day][pyarrow]", "DATE in the warehouse even when empty"


def test_a_product_list_name_wins_over_sales_and_the_sales_category_over_the_list(spark):
    products = product_table(_sold(product_dimension, spark), PRODUCT_LIST)
    DimProductSchema.validate(products, lazy=True)
    assert list(products.columns) == list(DIM_PRODUCT_COLUMNS)
    by_id = products.set_index("product_id")
    tea = by_id.loc["P1"]
    assert (tea["product_name"], tea["category"], tea["brand"], tea["subcategory"], tea["size"]) == (
        "Darjeeling 500 g", "grocery", "Leafy", "black tea", "500 g")
    soap = by_id.loc["P2"]
    assert (soap["product_name"], soap["brand"], soap["has_sales"]) == ("Soap", None, True)
    cola = by_id.loc["P3"]
    assert (cola["product_name"], cola["category"], cola["has_sales"]) == ("Cola", "drinks", False)
    assert cola["first_sale_date"] is None and pd.isna(cola["current_price"])
    unlisted = product_table(_sold(product_dimension, spark))
    assert unlisted.set_index("product_id").loc["P1", "product_name"] == "Green tea"
    assert unlisted[["brand", "subcategory", "size"]].isna().all().all() and unlisted["has_sales"].all()


def test_dimensions_publish_over_a_warehouse_that_still_has_the_total_columns(spark, engine):
    old_store = _sold(store_dimension, spark).assign(total_quantity=6.0, total_revenue=7.72)
    wh.replace_table(engine, "dim_store", old_store, primary_key=("store_id",))
    old_product = _sold(product_dimension, spark).assign(total_quantity=6.0, total_revenue=10.75)
    wh.replace_table(engine, "dim_product", old_product, primary_key=("product_id",))

    assert wh.replace_table(engine, "dim_store", store_table(_sold(store_dimension, spark), STORE_LIST), ("store_id",)) == 3
    products = product_table(_sold(product_dimension, spark), PRODUCT_LIST)
    assert wh.replace_table(engine, "dim_product", products, ("product_id",)) == 3

    stores = wh.read_table(engine, "dim_store").set_index("store_id")
    assert stores[["total_quantity", "total_revenue"]].isna().all().all(), "kept by the publisher, left null"
    assert stores.loc["S9", "store_name"] == "New Town" and not stores.loc["S9", "has_sales"]
    assert pd.Timestamp(stores.loc["S1", "opening_date"]).date() == dt.date(2019, 5, 1)
    published = wh.read_table(engine, "dim_product").set_index("product_id")
    assert published[["total_quantity", "total_revenue"]].isna().all().all()
    assert published.loc["P1", "product_name"] == "Darjeeling 500 g" and published.loc["P3", "brand"] == "Fizz"
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("dim_store")}
    assert isinstance(columns["opening_date"], sa.Date) and isinstance(columns["store_name"], sa.String)
    assert isinstance(columns["has_sales"], (sa.Boolean, sa.Integer))


def test_date_dimension_has_iso_weeks_fiscal_fields_and_holidays():
    frame = date_dimension(dt.date(2024, 12, 28), dt.date(2025, 2, 3)).set_index("date")
    DimDateSchema.validate(frame.reset_index(), lazy=True)
    assert len(frame) == 38
    jan1 = frame.loc[dt.date(2025, 1, 1)]
    assert (jan1["iso_year"], jan1["iso_week"], jan1["is_holiday"]) == (2025, 1, True)
    assert (jan1["holiday"], jan1["holiday_type"]) == ("New Year's Day", PUBLIC_HOLIDAY)
    assert tuple(frame.loc[dt.date(2024, 12, 31), ["holiday", "holiday_type"]]) == ("New Year's Eve", RETAIL_EVENT)
    plain_day = frame.loc[dt.date(2025, 1, 2)]
    assert not plain_day["is_holiday"] and plain_day[["holiday", "holiday_type"]].isna().all()
    assert frame.loc[dt.date(2024, 12, 30), "iso_year"] == 2025
    assert frame.loc[dt.date(2025, 1, 1), "week_start"] == dt.date(2024, 12, 30)
    fiscal = ["fiscal_year", "fiscal_quarter", "fiscal_month", "fiscal_week"]
    assert tuple(frame.loc[dt.date(2025, 1, 31), fiscal]) == (2025, 4, 12, 53)
    assert tuple(frame.loc[dt.date(2025, 2, 1), fiscal]) == (2026, 1, 1, 1)
    assert frame.loc[dt.date(2025, 2, 1), "is_weekend"] and not frame.loc[dt.date(2025, 2, 3), "is_weekend"]


def test_calendar_fiscal_year_equals_calendar_year_when_it_starts_in_january():
    frame = date_dimension(dt.date(2025, 1, 1), dt.date(2025, 12, 31), fiscal_year_start_month=1)
    assert set(frame["fiscal_year"]) == {2025} and (frame["fiscal_month"] == frame["month"]).all()
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        date_dimension(dt.date(2025, 1, 1), dt.date(2025, 1, 2), fiscal_year_start_month=13)


def test_454_fiscal_fields_follow_the_nrf_calendar():
    frame = date_dimension(dt.date(2024, 1, 27), dt.date(2024, 2, 10), fiscal_calendar="4-5-4").set_index("date")
    DimDateSchema.validate(frame.reset_index(), lazy=True)
    fiscal = ["fiscal_year", "fiscal_quarter", "fiscal_month", "fiscal_week"]
    assert tuple(frame.loc[dt.date(2024, 2, 3), fiscal]) == (2023, 4, 12, 53)
    assert tuple(frame.loc[dt.date(2024, 2, 4), fiscal]) == (2024, 1, 1, 1)
    with pytest.raises(ValueError, match="fiscal calendar must be one of"):
        date_dimension(dt.date(2025, 1, 1), dt.date(2025, 1, 2), fiscal_calendar="4-4-5")


def test_the_holidays_come_from_the_configured_country():
    german = date_dimension(dt.date(2024, 10, 1), dt.date(2024, 11, 30), holidays=HolidayCalendar("DE")).set_index("date")
    DimDateSchema.validate(german.reset_index(), lazy=True)
    assert tuple(german.loc[dt.date(2024, 10, 3), ["holiday", "holiday_type", "is_holiday"]]) == (
        "German Unity Day", PUBLIC_HOLIDAY, True)
    assert not german.loc[dt.date(2024, 11, 28), "is_holiday"]
    assert german.loc[dt.date(2024, 11, 29), "holiday"] == "Black Friday"
    plain = date_dimension(dt.date(2024, 11, 1), dt.date(2024, 11, 30), holidays=HolidayCalendar("DE", retail_events=False))
    assert not plain["is_holiday"].any()


def test_the_date_table_covers_whole_years_from_the_first_sale_to_a_year_past_the_last():
    assert date_span(dt.date(2023, 3, 14), dt.date(2024, 11, 30), 366) == (dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    assert date_span(dt.date(2024, 1, 1), dt.date(2024, 1, 1), 0) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    start, end = date_span(dt.date(2024, 2, 29), dt.date(2024, 12, 31), 1)
    days = date_dimension(start, end)
    assert len(days) == 366 + 365 and days["date"].min() == dt.date(2024, 1, 1)
