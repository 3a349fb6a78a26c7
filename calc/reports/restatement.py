"""A restatement against the closed figures: each party's difference, month by month.

``differences(closed, restated)`` takes the ``payments`` rows of the closed months as they
were closed and as a restating run has them (``calc.store.closes.restated_payments``) and
adds them up per month, party and role (all portfolios); every month, party and role of
either side is kept, with each amount closed, restated and the difference (restated minus
closed) in exact cents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calc.report import MONEY_COLUMNS

AMOUNTS = MONEY_COLUMNS["payments"]  # distribution_fee, cdsc, service_fee, offset, payable
KEYS = ["month_end", "party", "role"]
DIFFERENCE_COLUMNS = [
    *KEYS,
    "closed_payable", "restated_payable", "payable_difference",
    *(f"{amount}_difference" for amount in AMOUNTS if amount != "payable"),
    "changed",
]


def _cents(payments: pd.DataFrame) -> pd.DataFrame:
    """Integer cents of each amount, added up by month, party and role."""
    frame = payments[KEYS + AMOUNTS].copy()
    for amount in AMOUNTS:
        frame[amount] = np.round(pd.to_numeric(frame[amount]).fillna(0.0) * 100).astype("int64")
    return frame.groupby(KEYS, sort=True)[AMOUNTS].sum()


def differences(closed: pd.DataFrame, restated: pd.DataFrame) -> pd.DataFrame:
    """Per closed month, party and role: payable closed and restated, and the difference of
    each amount (dollars, exact to the cent); ``changed`` when any amount differs."""
    a, b = _cents(closed), _cents(restated)
    index = a.index.union(b.index)
    a = a.reindex(index, fill_value=0)
    b = b.reindex(index, fill_value=0)
    change = b - a
    out = pd.DataFrame(index=index)
    out["closed_payable"] = a["payable"] / 100
    out["restated_payable"] = b["payable"] / 100
    out["payable_difference"] = change["payable"] / 100
    for amount in AMOUNTS:
        if amount != "payable":
            out[f"{amount}_difference"] = change[amount] / 100
    out["changed"] = (change != 0).any(axis=1)
    out = out.reset_index()
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DIFFERENCE_COLUMNS})
    return out[DIFFERENCE_COLUMNS]


__all__ = ["DIFFERENCE_COLUMNS", "differences"]
