"""The contingent deferred sales charge (FOURTH (D); RULES.md section 6): the rate by
year held, counted by anniversaries, on the lesser of a lot part's cost and value."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from calc.calendar import years_held
from calc.rules.rounding import to_decimal

__all__ = ["cdsc_charge", "cdsc_rate", "years_held"]

HUNDRED = Decimal(100)


def cdsc_rate(schedule: Sequence[Decimal], year_held: int) -> Decimal:
    """The ``year_held``-th entry of the schedule (percents) as a fraction; 0 beyond it."""
    return schedule[year_held - 1] / HUNDRED if year_held <= len(schedule) else Decimal(0)


def cdsc_base(cost: float, shares: float, price: float) -> Decimal:
    """The lesser of the part's dollar cost and its value at the redemption price."""
    return min(to_decimal(cost), to_decimal(shares) * to_decimal(price))


def cdsc_charge(rate: Decimal, cost: float, shares: float, price: float) -> Decimal:
    """``rate * min(cost, shares * price)`` of a Commission lot part, exact (before any waiver)."""
    return rate * cdsc_base(cost, shares, price)
