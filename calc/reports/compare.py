"""Two calculation runs side by side: what changed, per party and month (the Compare runs page).

Both runs' ``payments`` frames, added up per month and party (all roles and
portfolios, or those chosen); a row is kept where an amount differs by a cent
or more, or the month and party are in one run only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from calc.report import MONEY_COLUMNS
from calc.reports.common import COLUMN_LABELS, filter_frame

AMOUNTS = MONEY_COLUMNS["payments"]  # distribution_fee, cdsc, service_fee, offset, payable
KEYS = ["month_end", "party"]
CHANGE_COLUMNS = [*KEYS, "status", "total_a", "total_b", "total_change", "payable_a", "payable_b", "payable_change",
                  "what_changed"]
PARTY_COLUMNS = ["party", "total_a", "total_b", "total_change", "payable_a", "payable_b", "payable_change",
                 "months_changed"]
HALF_CENT = 0.005
ONLY_A, ONLY_B, CHANGED = "only in run A", "only in run B", "changed"


def _by_month_party(payments: pd.DataFrame, portfolio_ids: str | Iterable[str] | None, party: str | None) -> pd.DataFrame:
    frame = filter_frame(payments, portfolio_ids=portfolio_ids)
    if party is not None:
        frame = frame[frame["party"] == party]
    out = frame.groupby(KEYS)[AMOUNTS].sum().round(2)
    out["total"] = (out["distribution_fee"] + out["cdsc"] + out["service_fee"]).round(2)
    return out


def _what(frame: pd.DataFrame) -> pd.Series:
    """Each amount that moved, ``CDSC +$12.00, Payable −$3.10``, per row (vectorised over the rows)."""
    parts = []
    for col in AMOUNTS:
        d = (frame[f"{col}_b"] - frame[f"{col}_a"]).round(2)
        text = (COLUMN_LABELS.get(col, col) + np.where(d > 0, " +$", " −$").astype(object)
                + d.abs().map("{:,.2f}".format))
        parts.append(text.where(d.abs() >= HALF_CENT, ""))
    out = parts[0]
    for part in parts[1:]:
        out = out + np.where((out != "") & (part != ""), ", ", "") + part
    return out


def compare_runs(
    payments_a: pd.DataFrame,
    payments_b: pd.DataFrame,
    portfolio_ids: str | Iterable[str] | None = None,
    party: str | None = None,
) -> pd.DataFrame:
    """What changed from run A to run B, per month and party.

    Columns (``CHANGE_COLUMNS``): month_end, party, status (changed / only in run A / only in run
    B), total_a, total_b, total_change (Distribution Fee + CDSC + service fee), payable_a,
    payable_b, payable_change, what_changed (each amount that moved, ``CDSC +$12.00``).  Rows
    that are equal to the cent are left out; latest month first.
    """
    a = _by_month_party(payments_a, portfolio_ids, party)
    b = _by_month_party(payments_b, portfolio_ids, party)
    both = a.merge(b, how="outer", left_index=True, right_index=True, suffixes=("_a", "_b"))
    in_a, in_b = both.index.isin(a.index), both.index.isin(b.index)
    both = both.fillna(0.0)
    diff = np.zeros(len(both), dtype=bool)
    for col in [*AMOUNTS, "total"]:
        diff |= (both[f"{col}_b"] - both[f"{col}_a"]).abs().to_numpy() >= HALF_CENT
    status = np.where(~in_b, ONLY_A, np.where(~in_a, ONLY_B, CHANGED))
    keep = diff | ~in_a | ~in_b
    both = both.assign(status=status)[keep]
    if both.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    both["total_change"] = (both["total_b"] - both["total_a"]).round(2)
    both["payable_change"] = (both["payable_b"] - both["payable_a"]).round(2)
    both["what_changed"] = _what(both)
    out = both.reset_index().sort_values(["month_end", "party"], ascending=[False, True])
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def compare_by_party(changes: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_runs` added up per party: the totals of the changed months in each run and the change."""
    if changes.empty:
        return pd.DataFrame(columns=PARTY_COLUMNS)
    money = ["total_a", "total_b", "total_change", "payable_a", "payable_b", "payable_change"]
    out = changes.groupby("party", as_index=False).agg(**{c: (c, "sum") for c in money},
                                                        months_changed=("month_end", "nunique"))
    out[money] = out[money].round(2)
    return out.sort_values(["total_change", "party"], key=lambda s: s.abs() if s.name == "total_change" else s,
                           ascending=[False, True]).reset_index(drop=True)[PARTY_COLUMNS]


def compare_totals(payments_a: pd.DataFrame, payments_b: pd.DataFrame,
                   portfolio_ids: str | Iterable[str] | None = None, party: str | None = None) -> pd.DataFrame:
    """Each run's money over all its months: index total, payable; columns a, b, change."""
    a = _by_month_party(payments_a, portfolio_ids, party)
    b = _by_month_party(payments_b, portfolio_ids, party)
    rows = {c: {"a": round(float(a[c].sum()), 2), "b": round(float(b[c].sum()), 2)} for c in ("total", "payable")}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["change"] = (out["b"] - out["a"]).round(2)
    return out


__all__ = ["CHANGE_COLUMNS", "compare_by_party", "compare_runs", "compare_totals"]
