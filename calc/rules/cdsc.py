"""The contingent deferred sales charge (FOURTH (D); RULES.md section 6): the rate by
year held, counted by anniversaries, on the lesser of a lot part's cost and value.

Exact: the cost, shares and price of a part are the decimals they were written as
(:func:`calc.rules.rounding.to_decimal`), the rate the schedule's percent over 100,
and the charge their exact product.  The array forms (:func:`cdsc_rates`,
:func:`cdsc_bases`) do the same for every part at once
(:class:`calc.rules.rounding.Exact`); the one-part forms call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from calc.calendar import years_held, years_held_many
from calc.rules.rounding import Exact

__all__ = ["cdsc_base", "cdsc_bases", "cdsc_charge", "cdsc_rate", "cdsc_rates", "years_held", "years_held_many"]

HUNDRED = Decimal(100)


def cdsc_rate(schedule: Sequence[Decimal], year_held: int) -> Decimal:
    """The ``year_held``-th entry of the schedule (percents) as a fraction; 0 beyond it."""
    return schedule[year_held - 1] / HUNDRED if year_held <= len(schedule) else Decimal(0)


def cdsc_rates(schedules: Sequence[Sequence[float]], which: np.ndarray, years: np.ndarray) -> Exact:
    """:func:`cdsc_rate` of each part: schedule ``schedules[which]`` (percents as written),
    year held ``years``; exact."""
    width = max((len(s) for s in schedules), default=0) + 2  # the last column stays 0
    table = np.zeros((len(schedules), width), dtype=np.float64)  # percents; 0 beyond a schedule
    for i, schedule in enumerate(schedules):
        table[i, 1:len(schedule) + 1] = schedule
    exact = Exact.of_floats(table.ravel())  # each entry once
    at = np.asarray(which, dtype=np.int64) * width + np.minimum(np.asarray(years, dtype=np.int64), width - 1)
    return Exact(exact.numerator[at], exact.exponent[at] - 2)  # percent / 100


def cdsc_bases(cost: np.ndarray, shares: np.ndarray, price: np.ndarray) -> Exact:
    """The lesser of each part's dollar cost and its value at the redemption price, exact."""
    return Exact.of_floats(cost).minimum(Exact.of_floats(shares) * Exact.of_floats(price))


def cdsc_base(cost: float, shares: float, price: float) -> Decimal:
    """The lesser of the part's dollar cost and its value at the redemption price."""
    return cdsc_bases(np.array([cost]), np.array([shares]), np.array([price])).to_decimal()[0]


def cdsc_charge(rate: Decimal, cost: float, shares: float, price: float) -> Decimal:
    """``rate * min(cost, shares * price)`` of a Commission lot part, exact (before any waiver)."""
    return rate * cdsc_base(cost, shares, price)
