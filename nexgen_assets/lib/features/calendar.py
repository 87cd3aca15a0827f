"""Retail calendar: the holidays that move demand and the fiscal weeks finance reports in, known ahead of time.

`HolidayCalendar` is the one holiday calendar: the features, `dim_date` and the dashboard views all
read it, so a holiday the data reacts to is also a holiday the models can see in advance and one a
dashboard names. It has two layers:

- public holidays of a country (and optionally one subdivision: a US state, a German Land, a UK
  nation) from the `holidays` package, named in English where the package has English names;
- retail events on top (RETAIL_EVENTS): shopping days that are no public holiday, each computed by
  rule for the countries whose rule is known. Halloween is US/UK-centric (US, CA, GB, IE); Black
  Friday and Cyber Monday are US in origin, dated by US Thanksgiving, and kept where retail has
  adopted them; Mother's and Father's Day follow each country's own rule. A country without a known
  rule for an event does not get that event: no date is invented.

A day with more than one holiday names them all ("Friday After Thanksgiving; Black Friday" in Texas) and
counts as a public holiday if any of them is one. The fiscal calendars of `dim_date` live here too
(FISCAL_CALENDARS): calendar months from a start month, or the NRF 4-5-4 retail calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

PUBLIC_HOLIDAY = "public_holiday"
RETAIL_EVENT = "retail_event"
HOLIDAY_COLUMNS = ["date", "holiday", "holiday_type"]
HOLIDAY_CODES_HELP = (
    "country codes are ISO 3166-1 alpha-2 (US, GB, DE, FR, ...); list them with "
    "`python -c \"import holidays; print(sorted(holidays.list_supported_countries()))\"` "
    "or see https://holidays.readthedocs.io"
)
_ENGLISH = "en_US"
_SUNDAY = 6
_SATURDAY = 5

YearRule = Callable[[int], dt.date]


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (Mon=0) of a month; n=-1 means the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (n - 1))
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def us_thanksgiving(year: int) -> dt.date:
    """Fourth Thursday of November: the day Black Friday and Cyber Monday are counted from, wherever they are kept."""
    return nth_weekday(year, 11, 3, 4)


def _fixed(month: int, day: int) -> YearRule:
    return lambda year: dt.date(year, month, day)


def _nth(month: int, weekday: int, n: int) -> YearRule:
    return lambda year: nth_weekday(year, month, weekday, n)


def _after_easter(days: int) -> YearRule:
    return lambda year: easter(year) + dt.timedelta(days=days)


def _after_thanksgiving(days: int) -> YearRule:
    return lambda year: us_thanksgiving(year) + dt.timedelta(days=days)


def _french_mothers_day(year: int) -> dt.date:
    """Last Sunday of May, moved to the first Sunday of June when it falls on Pentecost."""
    day = nth_weekday(year, 5, _SUNDAY, -1)
    return day + dt.timedelta(days=7) if day == easter(year) + dt.timedelta(days=49) else day


_WESTERN = ("US", "CA", "GB", "IE", "AU", "NZ", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "ES", "PT", "IT",
            "DK", "SE", "NO", "FI", "PL", "BR", "MX")
"""Countries of Western Christian tradition where Easter, Christmas Eve and New Year's Eve are shopping peaks."""

RETAIL_EVENTS: dict[str, dict[str, YearRule]] = {
    "Valentine's Day": dict.fromkeys((*(c for c in _WESTERN if c != "BR"), "JP"), _fixed(2, 14)),
    "Easter Sunday": dict.fromkeys(_WESTERN, easter),
    "Mother's Day": {
        **dict.fromkeys(("US", "CA", "AU", "NZ", "DE", "AT", "CH", "BE", "NL", "IT", "DK", "FI", "BR", "JP"),
                        _nth(5, _SUNDAY, 2)),
        "GB": _after_easter(-21), "IE": _after_easter(-21),  # Mothering Sunday, the fourth Sunday of Lent
        "FR": _french_mothers_day, "SE": _nth(5, _SUNDAY, -1), "NO": _nth(2, _SUNDAY, 2),
        "ES": _nth(5, _SUNDAY, 1), "PT": _nth(5, _SUNDAY, 1), "MX": _fixed(5, 10), "PL": _fixed(5, 26),
    },
    "Father's Day": {
        **dict.fromkeys(("US", "CA", "GB", "IE", "FR", "NL", "MX", "JP"), _nth(6, _SUNDAY, 3)),
        **dict.fromkeys(("AU", "NZ"), _nth(9, _SUNDAY, 1)),
        **dict.fromkeys(("IT", "ES", "PT"), _fixed(3, 19)),
        **dict.fromkeys(("AT", "BE"), _nth(6, _SUNDAY, 2)),
        **dict.fromkeys(("SE", "NO", "FI"), _nth(11, _SUNDAY, 2)),
        "DK": _fixed(6, 5), "PL": _fixed(6, 23), "BR": _nth(8, _SUNDAY, 2),
    },
    "Halloween": dict.fromkeys(("US", "CA", "GB", "IE"), _fixed(10, 31)),
    "Black Friday": dict.fromkeys(_WESTERN, _after_thanksgiving(1)),
    "Cyber Monday": dict.fromkeys(_WESTERN, _after_thanksgiving(4)),
    "Christmas Eve": dict.fromkeys(_WESTERN, _fixed(12, 24)),
    "New Year's Eve": dict.fromkeys(_WESTERN, _fixed(12, 31)),
}
"""Retail event -> country code -> the event's date in a year; a country not listed does not get the event."""


def retail_events(country: str, years: Iterable[int]) -> list[tuple[dt.date, str]]:
    """(date, name) of each retail event a country (ISO code) has in the given years."""
    return [
        (rule(year), name)
        for name, rules in RETAIL_EVENTS.items()
        if (rule := rules.get(country)) is not None
        for year in years
    ]


def unknown_country(country: str) -> str | None:
    """Why the holidays package has no public holidays for `country`, or None when it has."""
    if country in holidays.list_supported_countries():
        return None
    return f"not a country the holidays package knows; {HOLIDAY_CODES_HELP}"


def unknown_subdivision(country: str, subdivision: str | None) -> str | None:
    """Why `subdivision` is not one of `country`'s, or None when it is (or is not given, or the country is unknown)."""
    if subdivision is None or unknown_country(country):
        return None
    try:
        holidays.country_holidays(country, subdiv=subdivision)
        return None
    except NotImplementedError:
        known = holidays.country_holidays(country).subdivisions
    if not known:
        return f"{country} has no subdivisions in the holidays package; leave it unset"
    return f"not a subdivision of {country}; use one of {', '.join(known)}"


@dataclass(frozen=True)
class HolidayCalendar:
    """The holidays of one country (optionally one subdivision), with retail events on top unless switched off."""

    country: str = "US"
    subdivision: str | None = None
    retail_events: bool = True

    def __post_init__(self) -> None:
        problem = unknown_country(self.country) or unknown_subdivision(self.country, self.subdivision)
        if problem:
            raise ValueError(f"holiday calendar {self.country}/{self.subdivision}: {problem}")

    def _public(self, years: list[int]) -> holidays.HolidayBase:
        entity = holidays.country_holidays(self.country, subdiv=self.subdivision)
        language = _ENGLISH if _ENGLISH in entity.supported_languages else None
        return holidays.country_holidays(self.country, subdiv=self.subdivision, years=years, language=language)

    def table(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """One row per holiday between start and end inclusive, in date order: date, holiday (the day's
        names, public ones first, joined by "; ") and holiday_type (PUBLIC_HOLIDAY if any of them is one,
        else RETAIL_EVENT)."""
        years = list(range(start.year, end.year + 1))
        public = self._public(years)
        names = {day: public.get_list(day) for day in public}
        for day, name in retail_events(public.country, years) if self.retail_events else []:
            if name not in names.setdefault(day, []):
                names[day].append(name)
        rows = [
            (day, "; ".join(names[day]), PUBLIC_HOLIDAY if day in public else RETAIL_EVENT)
            for day in sorted(names)
            if start <= day <= end
        ]
        return pd.DataFrame(rows, columns=HOLIDAY_COLUMNS)


FiscalCalendar = Literal["calendar_months", "4-5-4"]
"""calendar_months: the fiscal year starts on the 1st of a month; 4-5-4: the NRF retail calendar of whole weeks."""
FISCAL_CALENDARS: tuple[str, ...] = get_args(FiscalCalendar)
_WEEKS_PER_MONTH = np.cumsum([4, 5, 4] * 4)


def nrf_year_end(fiscal_year: int) -> dt.date:
    """Last day of an NRF 4-5-4 fiscal year: the Saturday nearest January 31 of the next calendar year.

    NRF names a fiscal year after the calendar year it starts in: fiscal 2023 ran 2023-01-29..2024-02-03.
    """
    january_31 = dt.date(fiscal_year + 1, 1, 31)
    return january_31 + dt.timedelta(days=(_SATURDAY - january_31.weekday() + 3) % 7 - 3)


def fiscal_fields(days: pd.DatetimeIndex, calendar: FiscalCalendar = "calendar_months", start_month: int = 2) -> pd.DataFrame:
    """fiscal_year, fiscal_quarter, fiscal_month (1..12) and fiscal_week (1..53) of each day.

    calendar_months: the year starts on the 1st of `start_month` and is named after the calendar year it
    ends in; week 1 starts on its first day. 4-5-4 (NRF): the year ends on the Saturday nearest January 31
    and is named after the year it starts in; quarters of 13 weeks split 4-5-4 into months, and the 53rd
    week of a long year goes to the last month.
    """
    if calendar not in FISCAL_CALENDARS:
        raise ValueError(f"fiscal calendar must be one of {', '.join(FISCAL_CALENDARS)}, got {calendar!r}")
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, got {start_month}")
    if calendar == "4-5-4":
        if start_month != 2:
            raise ValueError(
                f"the 4-5-4 calendar follows the NRF rule (the year ends on the Saturday nearest January 31), "
                f"so fiscal_year_start_month must be 2, got {start_month}"
            )
        years = np.arange(days.year.min() - 2, days.year.max() + 1)
        ends = pd.DatetimeIndex([nrf_year_end(y) for y in years])
        index = ends.searchsorted(days)
        year = years[index]
        starts = ends[index - 1] + pd.Timedelta(days=1)
        week = (days - starts).days.to_numpy() // 7 + 1
        month = np.minimum(np.searchsorted(_WEEKS_PER_MONTH, week) + 1, 12)
    else:
        month = ((days.month - start_month) % 12 + 1).to_numpy()
        year = (days.year + ((days.month >= start_month) & (start_month != 1)).astype(int)).to_numpy()
        starts = pd.to_datetime(pd.DataFrame({"year": year - (start_month != 1), "month": start_month, "day": 1}))
        week = (days - pd.DatetimeIndex(starts)).days.to_numpy() // 7 + 1
    return pd.DataFrame({
        "fiscal_year": np.asarray(year, dtype="int32"),
        "fiscal_quarter": np.asarray((month - 1) // 3 + 1, dtype="int32"),
        "fiscal_month": np.asarray(month, dtype="int32"),
        "fiscal_week": np.asarray(week, dtype="int32"),
    })
