"""Rounding (RULES.md section 6): money rounded on exact decimal values, half away
from zero, and each total's cents split among its parties by largest remainder."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from calc.vocabulary import CENT_REMAINDER_TOLERANCE

CENT = Decimal("0.01")
PRECISION = 60  # decimal digits: every sum of the calculation is exact at this precision


def to_decimal(x: float) -> Decimal:
    """The decimal a float was written as (shortest round-trip repr)."""
    return Decimal(repr(float(x)))


def round_cents(x: Decimal) -> Decimal:
    """Half away from zero, to the cent."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def split_cents(parties: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Round each (month, portfolio, kind) total half away from zero and split its cents
    among the parties by largest remainder (ties: party name, then role).

    ``parties``: month, portfolio_id, kind, party, role, amount (float, unrounded);
    ``totals``: month, portfolio_id, kind, total (Decimal, unrounded).  Any grain
    works: the key columns only group.  Returns ``parties`` with ``cents`` (int).
    """
    if parties.empty:
        return parties.assign(cents=pd.Series(dtype=np.int64))
    key = ["month", "portfolio_id", "kind"]
    tot = totals[key + ["total"]].copy()
    tot["total_cents"] = [int(round_cents(v) * 100) for v in tot["total"]]
    frame = parties.merge(tot[key + ["total_cents"]], on=key, how="left")
    frame["total_cents"] = frame["total_cents"].fillna(0).astype(np.int64)
    scaled = frame["amount"].to_numpy(dtype=float) * 100.0
    floor = np.floor(scaled + CENT_REMAINDER_TOLERANCE)
    remainder = np.round(scaled - floor, 6)
    frame["cents"] = floor.astype(np.int64)
    frame["_rem"] = remainder
    frame = frame.sort_values(key + ["_rem", "party", "role"], ascending=[True, True, True, False, True, True], kind="stable")
    group = frame.groupby(key, sort=False)
    missing = (frame["total_cents"] - group["cents"].transform("sum")).to_numpy()
    size = group["cents"].transform("size").to_numpy()
    rank = group.cumcount().to_numpy()
    # Cents still missing go one each to the largest remainders; more than one round if ever needed.
    extra = np.where(missing >= 0, missing // size + (rank < missing % size), -((-missing) // size) - (rank >= size - (-missing) % size))
    frame["cents"] = frame["cents"] + extra
    return frame.drop(columns=["_rem", "total_cents"]).sort_index()
