"""Calendar: month ends, days in a year, and New York Stock Exchange business days.

Payment (SEVENTH (B), RULES.md section 6): each month's amounts are due on the
10th NYSE business day after the month end.  Business days come from the
maintained ``exchange_calendars`` XNYS calendar (weekends, holidays and the
exchange's special closures such as 11-14 September 2001 or 29-30 October 2012).
"""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

PAYMENT_BUSINESS_DAYS = 10
_CALENDAR_FIRST_YEAR = 1990
_CALENDAR_LAST_YEAR = 2045


@lru_cache(maxsize=4)
def _xnys(first_year: int, last_year: int) -> xcals.ExchangeCalendar:
    return xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")


def nyse_sessions(start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DatetimeIndex:
    """NYSE business days from ``start`` to ``end`` inclusive."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    cal = _xnys(min(start.year - 1, _CALENDAR_FIRST_YEAR), max(end.year + 1, _CALENDAR_LAST_YEAR))
    sessions = cal.sessions
    return sessions[(sessions >= start) & (sessions <= end)]


def due_dates(month_ends: pd.DatetimeIndex | pd.Series) -> pd.Series:
    """The 10th NYSE business day after each month end (SEVENTH (B))."""
    ends = pd.DatetimeIndex(pd.to_datetime(month_ends))
    if len(ends) == 0:
        return pd.Series([], dtype="datetime64[ns]")
    sessions = nyse_sessions(ends.min(), ends.max() + pd.Timedelta(days=40))
    values = sessions.values.astype("datetime64[ns]")
    idx = np.searchsorted(values, ends.values.astype("datetime64[ns]"), side="right")
    return pd.Series(values[idx + PAYMENT_BUSINESS_DAYS - 1], index=range(len(ends)))


def month_end(dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The calendar month end of each date."""
    return pd.Series(pd.to_datetime(dates)) + pd.offsets.MonthEnd(0)


def days_in_year(year: int) -> int:
    return 366 if pd.Timestamp(year=year, month=1, day=1).is_leap_year else 365


def anniversary(issue: pd.Timestamp, years: int) -> pd.Timestamp:
    """The ``years``-th anniversary of ``issue``; 29 February falls on 28 February in other years."""
    year = issue.year + years
    day = issue.day
    if issue.month == 2 and day == 29 and not pd.Timestamp(year=year, month=1, day=1).is_leap_year:
        day = 28
    return pd.Timestamp(year=year, month=issue.month, day=day)
