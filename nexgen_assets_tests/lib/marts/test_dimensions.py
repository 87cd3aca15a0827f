"""Product and store dimensions from cleaned order lines (latest names and prices, first and last sale, totals);
the date dimension (ISO weeks, fiscal fields, holidays)."""

import datetime as dt

import pytest

from nexgen_assets.lib.features.calendar import PUBLIC_HOLIDAY, RETAIL_EVENT, HolidayCalendar
from nexgen_assets.lib.marts.dimensions import date_dimension, date_span, product_dimension, store_dimension
from nexgen_assets.lib.quality.schemas import DimDateSchema

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
    assert tea["total_quantity"] == 6.0 and tea["total_revenue"] == 10.75 and tea["current_price"] == 2.0
    soap = products["P2"]
    assert soap["total_quantity"] == 3.0 and soap["total_revenue"] == 2.97 and soap["current_price"] == 0.99
    assert set(products) == {"P1", "P2"}


def test_store_dimension_counts_products_and_flags_the_online_store(spark):
    stores = {r["store_id"]: r.asDict() for r in store_dimension(_lines(spark)).collect()}
    assert set(stores) == {"S1", "ONLINE"}
    shop = stores["S1"]
    assert (shop["first_sale_date"], shop["last_sale_date"]) == (dt.date(2025, 1, 3), dt.date(2025, 1, 6))
    assert shop["product_count"] == 2 and shop["total_quantity"] == 6.0 and shop["total_revenue"] == 7.72
    assert not shop["is_online"] and stores["ONLINE"]["is_online"]
    assert stores["ONLINE"]["product_count"] == 1 and stores["ONLINE"]["total_revenue"] == 6.0


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
