"""Assignments (EIGHTH; RULES.md section 6): on each day an assignment is in effect, for
its portfolio or all, the Assignee receives its fractions of its rights holder's
12b-1 Share of the fee and of the CDSC earned: its 12b-1 Portion and CDSC Portion."""

from __future__ import annotations

import numpy as np

from calc.rules.fees import NEVER


def in_effect(days: np.ndarray, start_day: int, end_day: int | None) -> np.ndarray:
    """True on the days from ``start_day`` to ``end_day`` inclusive (None: open)."""
    days = np.asarray(days)
    return (days >= start_day) & (days <= (NEVER if end_day is None else end_day))


def covers(assigned_portfolio: str, portfolio: str) -> bool:
    """An assignment for all portfolios ("") covers each of them."""
    return assigned_portfolio == "" or assigned_portfolio == portfolio


def portion(amount: np.ndarray, fraction: float, window: np.ndarray) -> np.ndarray:
    """The Assignee's Portion of a rights holder's ``amount`` on each day of ``window``."""
    return np.where(window, fraction, 0.0) * amount
