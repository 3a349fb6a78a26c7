"""NYSE sessions kept on disk (calc.calendar): read back, they are the sessions of the
exchange_calendars XNYS calendar; a cache that cannot be written or read is rebuilt."""

from __future__ import annotations

import exchange_calendars as xcals
import pandas as pd
import pytest

import calc.calendar as calendar


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(calendar, "_SESSIONS_CACHE", tmp_path / "cache")
    calendar._xnys_sessions.cache_clear()
    yield tmp_path / "cache"
    calendar._xnys_sessions.cache_clear()


def _direct(start: str, end: str) -> pd.DatetimeIndex:
    sessions = xcals.get_calendar("XNYS", start="1990-01-01", end="2045-12-31").sessions
    return sessions[(sessions >= pd.Timestamp(start)) & (sessions <= pd.Timestamp(end))]


def test_sessions_written_then_read_are_the_calendars(cache):
    built = calendar.nyse_sessions("2001-09-01", "2012-11-30")
    assert len(list(cache.glob("xnys-sessions-*.npy"))) == 1
    calendar._xnys_sessions.cache_clear()
    read = calendar.nyse_sessions("2001-09-01", "2012-11-30")
    expected = _direct("2001-09-01", "2012-11-30")
    assert list(built) == list(read) == list(expected)
    assert pd.Timestamp("2001-09-11") not in read and pd.Timestamp("2012-10-29") not in read


def test_an_unreadable_cache_is_rebuilt(cache):
    calendar.nyse_sessions("2020-01-01", "2020-12-31")
    for file in cache.glob("xnys-sessions-*.npy"):
        file.write_bytes(b"not an array")
    calendar._xnys_sessions.cache_clear()
    assert list(calendar.nyse_sessions("2020-01-01", "2020-12-31")) == list(_direct("2020-01-01", "2020-12-31"))
