"""The sample's market: NYSE sessions, NAV paths, distributions and the sales curve.

Every series is per portfolio and session (rows = portfolios of the sample,
columns = NYSE business days of the history).  NAVs are rounded to the cent;
money market portfolios keep a stable 1.00.  A common equity factor follows a
stylised history of the broad US market (the 1990s boom, 2000-2002, 2008), so
the complex's net assets rise and fall together as a real complex's did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.calendar import nyse_sessions

FIRST_DAY = pd.Timestamp("1996-01-01")
LAST_DAY = pd.Timestamp("2012-12-31")  # the feed's last month end
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year
SESSIONS_PER_YEAR = 252

# Stylised calendar-year price returns of the broad US equity market.
MARKET_RETURNS = {
    1996: 0.20, 1997: 0.31, 1998: 0.27, 1999: 0.20, 2000: -0.10, 2001: -0.13, 2002: -0.23,
    2003: 0.26, 2004: 0.09, 2005: 0.03, 2006: 0.14, 2007: 0.04, 2008: -0.38, 2009: 0.23,
    2010: 0.13, 2011: 0.00, 2012: 0.13,
}
MARKET_VOLATILITY = 0.15  # annual, of the common factor's noise

# Relative Class B gross sales by calendar year: the late-1990s boom, fading after 2005.
SALES_CURVE = {
    1996: 1.00, 1997: 1.25, 1998: 1.45, 1999: 1.60, 2000: 1.70, 2001: 1.30, 2002: 1.05,
    2003: 0.95, 2004: 0.85, 2005: 0.70, 2006: 0.45, 2007: 0.30, 2008: 0.20, 2009: 0.12,
    2010: 0.07, 2011: 0.05, 2012: 0.04,
}

ASSET_CLASSES = ("equity", "balanced", "bond", "municipal", "money_market", "sector")


@dataclass(frozen=True)
class AssetClass:
    """How a class of portfolio moves and pays: market beta, own volatility, drift,
    starting NAV range, distributions per year and their yield."""

    beta: float
    volatility: float
    drift: float
    nav_range: tuple[float, float]
    distributions_per_year: int  # 12 monthly, 4 quarterly, 1 yearly (December)


CLASS_RULES: dict[str, AssetClass] = {
    "equity": AssetClass(1.00, 0.12, 0.00, (9.0, 28.0), 1),
    "sector": AssetClass(1.10, 0.24, 0.00, (8.0, 24.0), 1),
    "balanced": AssetClass(0.55, 0.05, 0.00, (10.0, 16.0), 4),
    "bond": AssetClass(0.08, 0.04, -0.01, (7.0, 12.0), 12),
    "municipal": AssetClass(0.04, 0.035, -0.005, (9.0, 11.0), 12),
    "money_market": AssetClass(0.0, 0.0, 0.0, (1.0, 1.0), 12),
}

# Yearly distribution rates (fraction of net assets paid out in the year), net of
# the Class B expenses.  Equity pays income plus the capital gains of good years.
CAPITAL_GAINS = {
    1996: 0.05, 1997: 0.07, 1998: 0.05, 1999: 0.08, 2000: 0.06, 2001: 0.01, 2002: 0.0,
    2003: 0.0, 2004: 0.01, 2005: 0.02, 2006: 0.04, 2007: 0.05, 2008: 0.01, 2009: 0.0,
    2010: 0.0, 2011: 0.005, 2012: 0.01,
}
BOND_YIELD = {y: (0.065 if y <= 2000 else 0.055 if y <= 2007 else 0.045) for y in range(FIRST_YEAR, LAST_YEAR + 1)}
MONEY_MARKET_YIELD = {
    1996: 0.040, 1997: 0.041, 1998: 0.040, 1999: 0.037, 2000: 0.050, 2001: 0.029, 2002: 0.006,
    2003: 0.0005, 2004: 0.002, 2005: 0.020, 2006: 0.038, 2007: 0.039, 2008: 0.014, 2009: 0.0002,
    2010: 0.0001, 2011: 0.0001, 2012: 0.0001,
}
HIGH_YIELD_PREMIUM = 0.025  # over BOND_YIELD for the high-yield portfolios
MUNICIPAL_RATIO = 0.75  # tax-exempt yields relative to BOND_YIELD


def year_rate(asset_class: str, year: int, high_yield: bool = False) -> float:
    """The fraction of net assets a portfolio of ``asset_class`` distributes in ``year``."""
    if asset_class == "money_market":
        return MONEY_MARKET_YIELD[year]
    if asset_class == "bond":
        return BOND_YIELD[year] + (HIGH_YIELD_PREMIUM if high_yield else 0.0)
    if asset_class == "municipal":
        return BOND_YIELD[year] * MUNICIPAL_RATIO + (HIGH_YIELD_PREMIUM if high_yield else 0.0)
    if asset_class == "balanced":
        return 0.025 + 0.5 * CAPITAL_GAINS[year]
    if asset_class == "sector":
        return 0.004 + 1.2 * CAPITAL_GAINS[year]
    return 0.008 + CAPITAL_GAINS[year]


@dataclass(frozen=True)
class Calendar:
    """The history's NYSE sessions as epoch-day numbers, with month lookups."""

    days: np.ndarray  # int64 epoch days of the sessions
    years: np.ndarray  # calendar year of each session
    months: np.ndarray  # month index of each session (0 = January 1996)
    day0: int  # epoch day of FIRST_DAY: the origin of the day tables
    month_of_day: np.ndarray  # month index of each day from day0
    month_end: np.ndarray  # epoch day of each month index's last day (history + conversion horizon)
    end_day: int  # epoch day of LAST_DAY

    @property
    def n(self) -> int:
        return len(self.days)

    @property
    def n_months(self) -> int:
        return int(self.months[-1]) + 1

    def session_on_or_after(self, day: int | np.ndarray) -> np.ndarray:
        return np.searchsorted(self.days, day, side="left")


def epoch_day(date: str | pd.Timestamp) -> int:
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype(np.int64))


def build_calendar() -> Calendar:
    sessions = nyse_sessions(FIRST_DAY, LAST_DAY)
    days = sessions.values.astype("datetime64[D]").astype(np.int64)
    day0 = epoch_day(FIRST_DAY)
    horizon_months = (LAST_YEAR - FIRST_YEAR + 1) * 12 + 12 * 12  # room for 8-year conversions
    month_starts = np.datetime64("1996-01", "M") + np.arange(horizon_months + 1)
    month_end = (month_starts[1:].astype("datetime64[D]") - 1).astype(np.int64)
    all_days = np.arange(day0, int(month_end[-1]) + 1)
    month_of_day = ((all_days.astype("datetime64[D]").astype("datetime64[M]") - np.datetime64("1996-01", "M"))
                    .astype(np.int64))
    return Calendar(
        days=days,
        years=days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970,
        months=month_of_day[days - day0],
        day0=day0,
        month_of_day=month_of_day,
        month_end=month_end,
        end_day=epoch_day(LAST_DAY),
    )


def nav_paths(rng: np.random.Generator, cal: Calendar, classes: list[str]) -> np.ndarray:
    """Daily NAVs (portfolios x sessions), rounded to the cent, never below 0.50."""
    n_port, n = len(classes), cal.n
    years = cal.years
    per_year = np.bincount(years - FIRST_YEAR)
    drift = np.array([np.log1p(MARKET_RETURNS[y]) for y in range(FIRST_YEAR, LAST_YEAR + 1)])
    market = drift[years - FIRST_YEAR] / per_year[years - FIRST_YEAR]
    market = market + rng.standard_normal(n) * MARKET_VOLATILITY / np.sqrt(SESSIONS_PER_YEAR)
    market -= 0.5 * MARKET_VOLATILITY**2 / SESSIONS_PER_YEAR
    rules = [CLASS_RULES[c] for c in classes]
    beta = np.array([r.beta for r in rules])[:, None]
    vol = np.array([r.volatility for r in rules])[:, None]
    mu = np.array([r.drift for r in rules])[:, None] / SESSIONS_PER_YEAR
    lo = np.array([r.nav_range[0] for r in rules])
    hi = np.array([r.nav_range[1] for r in rules])
    start = np.round(lo + (hi - lo) * rng.random(n_port), 2)
    own = rng.standard_normal((n_port, n)) * (vol / np.sqrt(SESSIONS_PER_YEAR)) - 0.5 * vol**2 / SESSIONS_PER_YEAR
    steps = beta * market[None, :] + own + mu
    steps[:, 0] = 0.0
    nav = start[:, None] * np.exp(np.cumsum(steps, axis=1))
    nav = np.maximum(np.round(nav, 2), 0.50)
    money_market = np.array([c == "money_market" for c in classes])
    nav[money_market] = 1.00
    return nav


def distribution_sessions(cal: Calendar, per_year: int) -> np.ndarray:
    """Session indices of the distributions: the last session of each month (12), of each
    quarter (4), or the session on or after 15 December (1)."""
    last_of_month = np.flatnonzero(np.diff(cal.months, append=cal.months[-1] + 1) != 0)
    if per_year == 12:
        return last_of_month
    month_in_year = cal.months[last_of_month] % 12
    if per_year == 4:
        return last_of_month[month_in_year % 3 == 2]
    december = np.array([epoch_day(f"{y}-12-15") for y in range(FIRST_YEAR, LAST_YEAR + 1)])
    return np.unique(cal.session_on_or_after(december))


def sales_weight(cal: Calendar) -> np.ndarray:
    """Relative gross sales per session (SALES_CURVE by year)."""
    curve = np.array([SALES_CURVE[y] for y in range(FIRST_YEAR, LAST_YEAR + 1)])
    return curve[cal.years - FIRST_YEAR]
