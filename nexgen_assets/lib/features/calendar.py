"""Retail calendar: the holidays that move demand, known ahead of time.

Both the synthetic generator and the feature builder use this calendar, so a
holiday the data reacts to is also a holiday the models can see in advance.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (Mon=0) of a month; n=-1 means the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (n - 1))
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    """Western Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def holidays_for_year(year: int) -> dict[dt.date, str]:
    """Holiday date -> name for one year."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    easter = _easter(year)
    return {
        dt.date(year, 1, 1): "new_year",
        easter - dt.timedelta(days=2): "good_friday",
        easter: "easter",
        _nth_weekday(year, 5, 0, -1): "memorial_day",
        dt.date(year, 7, 4): "independence_day",
        _nth_weekday(year, 9, 0, 1): "labor_day",
        dt.date(year, 10, 31): "halloween",
        thanksgiving: "thanksgiving",
        thanksgiving + dt.timedelta(days=1): "black_friday",
        thanksgiving + dt.timedelta(days=4): "cyber_monday",
        dt.date(year, 12, 24): "christmas_eve",
        dt.date(year, 12, 25): "christmas",
        dt.date(year, 12, 31): "new_years_eve",
    }


def holiday_table(start: dt.date, end: dt.date) -> pd.DataFrame:
    """All holidays between start and end inclusive, as columns date and holiday."""
    rows = []
    for year in range(start.year, end.year + 1):
        for day, name in holidays_for_year(year).items():
            if start <= day <= end:
                rows.append((day, name))
    frame = pd.DataFrame(rows, columns=["date", "holiday"])
    return frame.sort_values("date").reset_index(drop=True)
