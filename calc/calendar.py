"""Calendar: month indices and ends, year lengths, anniversaries, and New York
Stock Exchange business days.

Business days (for the due dates of ``calc.rules.payment``) come from the
maintained ``exchange_calendars`` XNYS calendar (weekends, holidays and the
exchange's special closures such as 11-14 September 2001 or 29-30 October 2012).
Building that calendar takes about half a second (its holiday rules evaluated
year by year), more than the rest of a monthly close, so its sessions are kept
on disk beside the package's compiled code, under the installed version of
``exchange_calendars``: another version (new holidays, new closures) builds
them afresh.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

_CALENDAR_FIRST_YEAR = 1990
_CALENDAR_LAST_YEAR = 2045
_SESSIONS_CACHE = Path(__file__).parent / "__pycache__"


def _xnys(first_year: int, last_year: int):
    import exchange_calendars as xcals  # imported when the sessions are built: half a second

    return xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")


@lru_cache(maxsize=4)
def _xnys_sessions(first_year: int, last_year: int) -> np.ndarray:
    """The XNYS sessions of the years ``first_year`` to ``last_year`` (datetime64[ns]),
    from the cache file of this ``exchange_calendars`` version, else built (and kept)."""
    try:
        version = metadata.version("exchange_calendars")
    except metadata.PackageNotFoundError:
        version = None
    path = _SESSIONS_CACHE / f"xnys-sessions-{version}-{first_year}-{last_year}.npy"
    if version is not None:
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            pass
    sessions = _xnys(first_year, last_year).sessions.values.astype("datetime64[ns]")
    if version is not None:
        try:  # written whole or not at all: another process may read it meanwhile
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    np.save(f, sessions, allow_pickle=False)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            pass
    return sessions


def nyse_sessions(start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DatetimeIndex:
    """NYSE business days from ``start`` to ``end`` inclusive."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    sessions = _xnys_sessions(min(start.year - 1, _CALENDAR_FIRST_YEAR), max(end.year + 1, _CALENDAR_LAST_YEAR))
    lo = np.searchsorted(sessions, np.datetime64(start.asm8, "ns"), side="left")
    hi = np.searchsorted(sessions, np.datetime64(end.asm8, "ns"), side="right")
    return pd.DatetimeIndex(sessions[lo:hi])


EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()  # epoch-day numbers count from 1970-01-01


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since year 0 (year * 12 + month - 1) of dates or epoch-day numbers."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12
    return y * 12 + m


def month_end_of_index(mi: int | np.ndarray) -> pd.DatetimeIndex:
    """The month-end dates of month indices."""
    mi = np.atleast_1d(np.asarray(mi, dtype=np.int64))
    months = (mi - 1970 * 12).astype("datetime64[M]")
    return pd.DatetimeIndex((months + 1).astype("datetime64[D]") - 1)


def is_leap(year: int | np.ndarray) -> bool | np.ndarray:
    """Gregorian leap years (scalar or array)."""
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def days_in_year(days: np.ndarray) -> np.ndarray:
    """365 or 366: the length of the year of each epoch-day number (the accrual's D)."""
    years = np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return np.where(is_leap(years), 366, 365)


def _years_held(iy, im, iday, ry, rm, rd, leap):
    """FOURTH (D) on (year, month, day) of issue and redemption, and whether the redemption's
    year is a leap year: Python integers or numpy arrays alike."""
    feb29 = (im == 2) * (iday == 29) * (1 - leap)  # the anniversary of 29 February falls on the 28th
    before = (rm < im) + (rm == im) * (rd < iday - feb29)  # this year's anniversary not reached yet
    n = ry - iy - before
    return 1 + n * (n > 0)


def years_held(issue_day: int, redeem_day: int) -> int:
    """1 + the anniversaries of the issue date on or before the redemption (FOURTH (D)).

    An anniversary of 29 February falls on 28 February in a year without one.
    """
    issue = _dt.date.fromordinal(issue_day + EPOCH_ORDINAL)
    redeem = _dt.date.fromordinal(redeem_day + EPOCH_ORDINAL)
    return int(_years_held(issue.year, issue.month, issue.day, redeem.year, redeem.month, redeem.day,
                           int(is_leap(redeem.year))))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def years_held_many(issue_days: np.ndarray, redeem_days: np.ndarray) -> np.ndarray:
    """:func:`years_held` of each pair of epoch days, as an int64 array."""
    iy, im, iday = _ymd(issue_days)
    ry, rm, rd = _ymd(redeem_days)
    return _years_held(iy, im, iday, ry, rm, rd, is_leap(ry).astype(np.int64)).astype(np.int64)
