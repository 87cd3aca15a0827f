"""The retail calendar: public holidays per country and subdivision, retail events by each country's rule,
and the fiscal calendars (calendar months, NRF 4-5-4)."""

import datetime as dt

import pandas as pd
import pytest

from nexgen_assets.lib.features.calendar import (
    PUBLIC_HOLIDAY,
    RETAIL_EVENT,
    HolidayCalendar,
    fiscal_fields,
    nrf_year_end,
    retail_events,
)


def _named(calendar: HolidayCalendar, year: int = 2024) -> dict[str, tuple[dt.date, str]]:
    table = calendar.table(dt.date(year, 1, 1), dt.date(year, 12, 31))
    return {name: (day, kind) for day, name, kind in table.itertuples(index=False)}


def test_us_has_thanksgiving_as_a_public_holiday_and_black_friday_after_it_as_a_retail_event():
    days = _named(HolidayCalendar("US"))
    assert days["Thanksgiving Day"] == (dt.date(2024, 11, 28), PUBLIC_HOLIDAY)
    assert days["Black Friday"] == (dt.date(2024, 11, 29), RETAIL_EVENT)
    assert days["Cyber Monday"] == (dt.date(2024, 12, 2), RETAIL_EVENT)
    assert days["Mother's Day"] == (dt.date(2024, 5, 12), RETAIL_EVENT)
    assert days["Father's Day"] == (dt.date(2024, 6, 16), RETAIL_EVENT)
    assert days["Halloween"] == (dt.date(2024, 10, 31), RETAIL_EVENT)
    assert days["Christmas Day"] == (dt.date(2024, 12, 25), PUBLIC_HOLIDAY)


def test_germany_gets_its_own_holidays_and_no_american_ones():
    days = _named(HolidayCalendar("DE"))
    assert days["German Unity Day"] == (dt.date(2024, 10, 3), PUBLIC_HOLIDAY)
    assert days["Second Day of Christmas"] == (dt.date(2024, 12, 26), PUBLIC_HOLIDAY)
    assert "Thanksgiving Day" not in days and "Independence Day" not in days and "Halloween" not in days
    assert days["Black Friday"] == (dt.date(2024, 11, 29), RETAIL_EVENT)
    assert days["Mother's Day"] == (dt.date(2024, 5, 12), RETAIL_EVENT)
    assert "Father's Day" not in days  # Vatertag is Ascension Day, already a public holiday


def test_a_subdivision_adds_its_own_holidays():
    assert HolidayCalendar("DE").table(dt.date(2024, 1, 6), dt.date(2024, 1, 6)).empty
    bavaria = HolidayCalendar("DE", "BY").table(dt.date(2024, 1, 6), dt.date(2024, 1, 6))
    assert list(bavaria.itertuples(index=False)) == [(dt.date(2024, 1, 6), "Epiphany", PUBLIC_HOLIDAY)]


def test_mothers_day_follows_each_countrys_rule():
    mothers_day = {country: _named(HolidayCalendar(country))["Mother's Day"][0] for country in ("US", "GB", "FR", "ES")}
    assert mothers_day == {
        "US": dt.date(2024, 5, 12),  # second Sunday of May
        "GB": dt.date(2024, 3, 10),  # Mothering Sunday, three weeks before Easter
        "FR": dt.date(2024, 5, 26),  # last Sunday of May
        "ES": dt.date(2024, 5, 5),  # first Sunday of May
    }
    assert _named(HolidayCalendar("FR"), 2023)["Mother's Day"][0] == dt.date(2023, 6, 4)  # Pentecost was May 28


def test_a_country_without_known_rules_gets_no_invented_events():
    assert retail_events("IN", [2024]) == []
    assert set(HolidayCalendar("IN").table(dt.date(2024, 1, 1), dt.date(2024, 12, 31))["holiday_type"]) == {PUBLIC_HOLIDAY}


def test_retail_events_can_be_switched_off():
    table = HolidayCalendar("US", retail_events=False).table(dt.date(2024, 11, 1), dt.date(2024, 12, 31))
    assert set(table["holiday_type"]) == {PUBLIC_HOLIDAY}
    assert "Black Friday" not in set(table["holiday"]) and "Thanksgiving Day" in set(table["holiday"])


def test_a_day_with_several_holidays_names_them_all_and_counts_as_public_if_one_is():
    texas = HolidayCalendar("US", "TX").table(dt.date(2024, 11, 29), dt.date(2024, 11, 29))
    assert list(texas.itertuples(index=False)) == [
        (dt.date(2024, 11, 29), "Friday After Thanksgiving; Black Friday", PUBLIC_HOLIDAY)
    ]
    finland = HolidayCalendar("FI").table(dt.date(2024, 12, 24), dt.date(2024, 12, 24))
    assert list(finland.itertuples(index=False)) == [(dt.date(2024, 12, 24), "Christmas Eve", PUBLIC_HOLIDAY)]
    norway = HolidayCalendar("NO").table(dt.date(2021, 2, 14), dt.date(2021, 2, 14))
    assert list(norway.itertuples(index=False)) == [(dt.date(2021, 2, 14), "Valentine's Day; Mother's Day", RETAIL_EVENT)]


def test_the_table_holds_one_row_per_day_in_range_and_date_order():
    table = HolidayCalendar("US").table(dt.date(2024, 12, 24), dt.date(2025, 1, 1))
    assert list(table.columns) == ["date", "holiday", "holiday_type"]
    assert list(table["date"]) == [dt.date(2024, 12, 24), dt.date(2024, 12, 25), dt.date(2024, 12, 31), dt.date(2025, 1, 1)]
    assert HolidayCalendar("US").table(dt.date(2025, 1, 2), dt.date(2025, 1, 3)).empty


def test_an_unknown_country_or_subdivision_is_refused():
    with pytest.raises(ValueError, match="holidays.list_supported_countries"):
        HolidayCalendar("XX")
    with pytest.raises(ValueError, match="not a subdivision of DE; use one of BB, BE, BW, BY"):
        HolidayCalendar("DE", "ZZ")


def _fiscal(start: str, end: str, calendar: str, start_month: int = 2) -> pd.DataFrame:
    days = pd.date_range(start, end)
    return fiscal_fields(days, calendar, start_month).set_index(days.date)


def test_nrf_years_end_on_the_saturday_nearest_january_31():
    assert nrf_year_end(2022) == dt.date(2023, 1, 28)
    assert nrf_year_end(2023) == dt.date(2024, 2, 3)
    assert nrf_year_end(2024) == dt.date(2025, 2, 1)
    assert all(nrf_year_end(year).weekday() == 5 for year in range(2000, 2040))
    long_years = [y for y in range(2000, 2035) if (nrf_year_end(y) - nrf_year_end(y - 1)).days == 53 * 7]
    assert long_years == [2000, 2006, 2012, 2017, 2023, 2028, 2034]


def test_454_weeks_months_and_quarters_at_known_boundaries():
    fiscal = _fiscal("2023-01-20", "2024-02-10", "4-5-4")
    columns = ["fiscal_year", "fiscal_quarter", "fiscal_month", "fiscal_week"]
    assert tuple(fiscal.loc[dt.date(2023, 1, 28), columns]) == (2022, 4, 12, 52)
    assert tuple(fiscal.loc[dt.date(2023, 1, 29), columns]) == (2023, 1, 1, 1)
    assert tuple(fiscal.loc[dt.date(2023, 2, 26), columns]) == (2023, 1, 2, 5)  # month 1 has 4 weeks
    assert tuple(fiscal.loc[dt.date(2023, 4, 2), columns]) == (2023, 1, 3, 10)  # month 2 has 5
    assert tuple(fiscal.loc[dt.date(2023, 4, 30), columns]) == (2023, 2, 4, 14)  # quarters of 13 weeks
    assert tuple(fiscal.loc[dt.date(2024, 2, 3), columns]) == (2023, 4, 12, 53)  # the 53rd week ends fiscal 2023
    assert tuple(fiscal.loc[dt.date(2024, 2, 4), columns]) == (2024, 1, 1, 1)
    year_2023 = fiscal[fiscal["fiscal_year"] == 2023]
    assert len(year_2023) == 371
    assert year_2023.groupby("fiscal_month").size().tolist() == [28, 35, 28] * 3 + [28, 35, 35]
    assert (year_2023.groupby("fiscal_week").size() == 7).all()


def test_calendar_month_fiscal_years_are_named_after_the_year_they_end_in():
    fiscal = _fiscal("2025-01-25", "2025-02-10", "calendar_months")
    assert tuple(fiscal.loc[dt.date(2025, 1, 31)]) == (2025, 4, 12, 53)
    assert tuple(fiscal.loc[dt.date(2025, 2, 1)]) == (2026, 1, 1, 1)
    assert tuple(fiscal.loc[dt.date(2025, 2, 8)]) == (2026, 1, 1, 2)
    january = _fiscal("2024-12-31", "2025-01-08", "calendar_months", start_month=1)
    assert tuple(january.loc[dt.date(2025, 1, 1)]) == (2025, 1, 1, 1)
    assert tuple(january.loc[dt.date(2025, 1, 8)]) == (2025, 1, 1, 2)


def test_fiscal_options_are_checked():
    days = pd.date_range("2025-01-01", "2025-01-02")
    with pytest.raises(ValueError, match="fiscal calendar must be one of calendar_months, 4-5-4"):
        fiscal_fields(days, "4-4-5")
    with pytest.raises(ValueError, match="fiscal_year_start_month must be 1..12"):
        fiscal_fields(days, "calendar_months", 13)
    with pytest.raises(ValueError, match="NRF rule"):
        fiscal_fields(days, "4-5-4", 1)
