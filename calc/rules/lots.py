"""Lots and lot relief (RULES.md section 3; FOURTH (D), (E)), conversion to Class A
(section 4) and the split of new Free Shares in an ordinary account (Exhibit A 2(b)).

The one implementation of these rules: the engine's ledger (``calc.engine.ledger``)
and the sample generator (``calc.sample``) both walk accounts with them.

A :class:`Position` is one account's holding of one portfolio: its Commission
Share lots in relief order and its Free Shares (by rights holder in an ordinary
account, one number in an omnibus account, whose attribution is the monthly
roll-forward of Exhibit A 2(c)).  The functions change a position in place and
return what they did, so that the caller can record the changes it needs.

A lot is a list ``[shares, issue_day, cost, holder, seq, conversion_month]``
(epoch-day numbers, month indices ``year * 12 + month - 1``, integer rights
holder codes): plain lists, because a walk reads and writes them one at a time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from calc.vocabulary import SHARE_TOLERANCE

SHARES, ISSUE, COST, HOLDER, SEQ, CONVERSION = range(6)

# A part taken from a lot: (shares, issue_day, cost, holder, conversion_month)
Part = tuple[float, int, float, int, int]


@dataclass
class Position:
    """One account's holding of one portfolio.

    ``lots``: Commission Share lots, oldest issue date first, then the lot created
    first (the relief order); ``free``: Free Shares, ``{holder: shares}`` in an
    ordinary account (in the order the buckets were opened), a float in an
    omnibus account.
    """

    omnibus: bool
    lots: list[list] = field(default_factory=list)
    free: dict[int, float] | float = 0.0

    def __post_init__(self) -> None:
        if not self.omnibus and not isinstance(self.free, dict):
            self.free = {}

    def free_total(self) -> float:
        return self.free if self.omnibus else sum(self.free.values())

    def commission_total(self) -> float:
        return sum(lot[SHARES] for lot in self.lots)


def insert_lot(lots: list[list], lot: list) -> None:
    """Keep ``lots`` in relief order: oldest issue date first, then the lot created first."""
    bisect.insort_right(lots, lot, key=lambda x: (x[ISSUE], x[SEQ]))


def sweep_free(free: dict[int, float]) -> dict[int, float]:
    """RULES.md preamble: a rights holder's Free Share bucket within the share tolerance
    of zero is gone.  Removes such buckets from ``free``; returns what each held."""
    gone = {h: v for h, v in free.items() if abs(v) <= SHARE_TOLERANCE}
    for h in gone:
        del free[h]
    return gone


def take_free(free: dict[int, float], n: float) -> dict[int, float]:
    """Take ``n`` Free Shares of an ordinary account pro rata across its rights holders
    (Exhibit A 2(b): Free Shares leave pro rata across the account's split).

    Returns what left each bucket, including a bucket that the take leaves
    within the share tolerance of zero, which is then gone whole.
    """
    total = sum(free.values())
    if total <= SHARE_TOLERANCE:
        return {}
    if total - n <= SHARE_TOLERANCE:
        taken = dict(free)
        free.clear()
        return taken
    frac = n / total
    taken = {}
    for h in list(free):
        t = free[h] * frac
        taken[h] = t
        free[h] -= t
    for h, v in sweep_free(free).items():
        taken[h] += v
    return taken


def add_free(free: dict[int, float], split: dict[int, float]) -> dict[int, float]:
    """Add new Free Shares by rights holder; returns each bucket's change (a bucket
    left within the share tolerance of zero is gone)."""
    added = {}
    for h, n in split.items():
        if n != 0.0:
            free[h] = free.get(h, 0.0) + n
            added[h] = n
    for h, v in sweep_free(free).items():
        added[h] = added.get(h, 0.0) - v
    return added


def issue_split(position: Position, n: float, serving_holder: int) -> dict[int, float]:
    """Exhibit A 2(b): new Free Shares of an ordinary account split in proportion to the
    shares (Commission and Free) the account holds of the portfolio by rights holder
    just before; where it holds none, all to the rights holder of the tenure serving."""
    by_holder: dict[int, float] = {}
    for lot in position.lots:
        by_holder[lot[HOLDER]] = by_holder.get(lot[HOLDER], 0.0) + lot[SHARES]
    for h, v in position.free.items():
        by_holder[h] = by_holder.get(h, 0.0) + v
    total = sum(by_holder.values())
    if total <= SHARE_TOLERANCE:
        return {serving_holder: n}
    return {h: n * v / total for h, v in by_holder.items() if v != 0.0}


@dataclass
class Relief:
    """What a redeem or exchange_out of ``n`` shares took from a position."""

    free: dict[int, float] | float  # Free Shares taken: by holder (ordinary) or a number (omnibus)
    free_shares: float  # their total
    parts: list[Part]  # Commission lot parts, in relief order
    short: float  # shares asked for beyond what the position held (0 within the tolerance)


def relieve(position: Position, n: float) -> Relief:
    """RULES.md section 3: take ``n`` shares, Free Shares first, then lots oldest issue
    date first; part of a lot takes the same fraction of its cost."""
    free_total = position.free_total()
    taken_total = min(n, max(free_total, 0.0))
    if free_total - taken_total <= SHARE_TOLERANCE:
        taken_total = max(free_total, 0.0)
    if position.omnibus:
        taken_free: dict[int, float] | float = taken_total
        position.free = 0.0 if taken_total == free_total else position.free - taken_total
    else:
        taken_free = take_free(position.free, taken_total) if taken_total > 0 else {}
    remaining = n - taken_total
    parts: list[Part] = []
    lots = position.lots
    while remaining > SHARE_TOLERANCE and lots:
        lot = lots[0]
        t = min(lot[SHARES], remaining)
        if lot[SHARES] - t <= SHARE_TOLERANCE:
            t = lot[SHARES]
            cost = lot[COST]
            lots.pop(0)
        else:
            cost = lot[COST] * (t / lot[SHARES])
            lot[SHARES] -= t
            lot[COST] -= cost
        remaining -= t
        parts.append((t, lot[ISSUE], cost, lot[HOLDER], lot[CONVERSION]))
    return Relief(taken_free, taken_total, parts, remaining if remaining > SHARE_TOLERANCE else 0.0)


@dataclass
class Conversion:
    """What converted to Class A at one month end (RULES.md section 4)."""

    lots: list[list]  # the lots that converted, whole
    free: dict[int, float] | float  # Free Shares that converted with them


def convert_due(position: Position, month: int) -> Conversion | None:
    """RULES.md section 4: at the end of ``month``, every lot due by then converts to
    Class A, and the position's Free Shares convert with them in proportion
    (``free * converting / commission held``, both just before)."""
    due = [lot for lot in position.lots if lot[CONVERSION] <= month]
    if not due:
        return None
    held = sum(lot[SHARES] for lot in position.lots)
    converting = sum(lot[SHARES] for lot in due)
    position.lots = [lot for lot in position.lots if lot[CONVERSION] > month]
    if position.omnibus:
        free = position.free
        gone = 0.0
        if free != 0.0 and held > 0:
            gone = free * converting / held
            if free - gone <= SHARE_TOLERANCE:
                gone = free
            position.free = free - gone
        return Conversion(due, gone)
    taken: dict[int, float] = {}
    if position.free and held > 0:
        taken = take_free(position.free, position.free_total() * converting / held)
    return Conversion(due, taken)


def next_conversion(position: Position) -> int | None:
    """The month of the position's next conversion to Class A (None without lots)."""
    return min((lot[CONVERSION] for lot in position.lots), default=None)
