"""The retail holiday calendar: fixed and moving holidays, and the table the features and dimensions join."""

import datetime as dt

from nexgen_assets.lib.features.calendar import holiday_table, holidays_for_year


def test_moving_holidays_land_on_their_days():
    days = {name: day for day, name in holidays_for_year(2025).items()}
    assert days["easter"] == dt.date(2025, 4, 20) and days["good_friday"] == dt.date(2025, 4, 18)
    assert days["thanksgiving"] == dt.date(2025, 11, 27) and days["black_friday"] == dt.date(2025, 11, 28)
    assert days["cyber_monday"] == dt.date(2025, 12, 1)
    assert days["memorial_day"] == dt.date(2025, 5, 26) and days["labor_day"] == dt.date(2025, 9, 1)
    assert days["new_year"] == dt.date(2025, 1, 1) and days["christmas"] == dt.date(2025, 12, 25)
    assert {name: day for day, name in holidays_for_year(2024).items()}["easter"] == dt.date(2024, 3, 31)
    assert len(days) == 13


def test_holiday_table_holds_the_holidays_in_range_in_date_order():
    table = holiday_table(dt.date(2024, 12, 24), dt.date(2025, 1, 1))
    assert list(table.columns) == ["date", "holiday"]
    assert list(zip(table["date"], table["holiday"], strict=True)) == [
        (dt.date(2024, 12, 24), "christmas_eve"), (dt.date(2024, 12, 25), "christmas"),
        (dt.date(2024, 12, 31), "new_years_eve"), (dt.date(2025, 1, 1), "new_year"),
    ]
    assert holiday_table(dt.date(2025, 1, 2), dt.date(2025, 1, 3)).empty
