import datetime as dt

import pytest

from nexgen_assets.lib.features.calendar import date_dimension
from nexgen_assets.lib.quality.schemas import DimDateSchema


def test_date_dimension_has_iso_weeks_fiscal_fields_and_holidays():
    frame = date_dimension(dt.date(2024, 12, 28), dt.date(2025, 2, 3)).set_index("date")
    DimDateSchema.validate(frame.reset_index(), lazy=True)
    assert len(frame) == 38
    jan1 = frame.loc[dt.date(2025, 1, 1)]
    assert (jan1["iso_year"], jan1["iso_week"], jan1["holiday"], jan1["is_holiday"]) == (2025, 1, "new_year", True)
    assert frame.loc[dt.date(2024, 12, 30), "iso_year"] == 2025
    assert frame.loc[dt.date(2025, 1, 1), "week_start"] == dt.date(2024, 12, 30)
    assert tuple(frame.loc[dt.date(2025, 1, 31), ["fiscal_year", "fiscal_quarter", "fiscal_month"]]) == (2025, 4, 12)
    assert tuple(frame.loc[dt.date(2025, 2, 1), ["fiscal_year", "fiscal_quarter", "fiscal_month"]]) == (2026, 1, 1)
    assert frame.loc[dt.date(2025, 2, 1), "is_weekend"] and not frame.loc[dt.date(2025, 2, 3), "is_weekend"]


def test_calendar_fiscal_year_equals_calendar_year_when_it_starts_in_january():
    frame = date_dimension(dt.date(2025, 1, 1), dt.date(2025, 12, 31), fiscal_year_start_month=1)
    assert set(frame["fiscal_year"]) == {2025} and (frame["fiscal_month"] == frame["month"]).all()
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        date_dimension(dt.date(2025, 1, 1), dt.date(2025, 1, 2), fiscal_year_start_month=13)
