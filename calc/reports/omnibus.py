"""Omnibus accounts: the Exhibit A 2(c) drill-down, each line of Exhibit A 2(c)(ii)-(iv) written out with its numbers.

The Omnibus page shows these: a portfolio's omnibus accounts at a month end,
then one account month by month and rights holder (Exhibit A 2(c)(ii) issued,
2(c)(iii) redeemed, 2(c)(iv) net exchange, and the balance), from the
calculation's ``omnibus`` (per rights holder) and ``omnibus_accounts`` (per
account: I, R, E, F(m), K(m)) frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calc.report import OMNIBUS_ACCOUNT_COLUMNS, SHARE_COLUMNS
from calc.vocabulary import SHARE_TOLERANCE

ACCOUNT_KEYS = ["month_end", "portfolio_id", "account_id"]
COUNTS = SHARE_COLUMNS["omnibus"]  # issued, redeemed, net_exchange, free_shares: a holder's lines and F_h(m)
FLOWS = ["issued", "redeemed", "net_exchange"]  # the month's lines of 2(c)(ii)-(iv)
OVERVIEW_COLUMNS = ["account_id", "free_shares", "commission_shares", "exceptions_this_month", "exceptions_total", "flagged"]
HISTORY_COLUMNS = [
    "month_end", "rights_holder", "I", "R", "E", "F_prev", "K_prev", "K_h_prev", "F_h_prev",
    "issued", "redeemed", "net_exchange", "free_shares", "K_h", "F", "K",
]
LINE_COLUMNS = ["rights_holder", "line", "clause", "formula", "value", "by_formula", "note"]


def omnibus_account_totals(omnibus: pd.DataFrame, omnibus_accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per month, omnibus account and portfolio: I, R, E, F(m), K(m).

    From the calculation's ``omnibus_accounts`` drill-down frame when there
    is one; else I, R, E and F are the rights holders' lines added up (2(c)
    splits each count among them) and K is unknown (NaN).
    """
    if omnibus_accounts is not None and not omnibus_accounts.empty:
        return omnibus_accounts[OMNIBUS_ACCOUNT_COLUMNS].copy()
    out = omnibus.groupby(ACCOUNT_KEYS, as_index=False)[COUNTS].sum()
    out["commission_shares"] = np.nan
    return out


def _holder_commission(omnibus: pd.DataFrame) -> pd.Series:
    if "commission_shares" in omnibus.columns:
        return omnibus["commission_shares"].astype(float)
    return pd.Series(np.nan, index=omnibus.index)


def omnibus_accounts_overview(
    omnibus: pd.DataFrame,
    omnibus_accounts: pd.DataFrame | None,
    exceptions: pd.DataFrame,
    portfolio_id: str,
    month_end: pd.Timestamp,
) -> pd.DataFrame:
    """The portfolio's omnibus accounts at ``month_end``: each rights holder's attributed Free Shares.

    Columns: account_id, free_shares (F(m)), commission_shares (K(m)), one
    column ``F_<holder>`` per rights holder, exceptions_this_month,
    exceptions_total, flagged (bool: an exception this month or a negative
    F_h).  Accounts not yet open at ``month_end`` are left out.
    """
    m = pd.Timestamp(month_end)
    om = omnibus[(omnibus["portfolio_id"] == portfolio_id) & (omnibus["month_end"] == m)]
    totals = omnibus_account_totals(omnibus[omnibus["portfolio_id"] == portfolio_id],
                                    None if omnibus_accounts is None else omnibus_accounts[omnibus_accounts["portfolio_id"] == portfolio_id])
    totals = totals[totals["month_end"] == m].set_index("account_id")
    if om.empty:
        return pd.DataFrame(columns=OVERVIEW_COLUMNS)
    pivot = om.pivot_table(index="account_id", columns="rights_holder", values="free_shares", aggfunc="sum").fillna(0.0)
    pivot.columns = [f"F_{c}" for c in pivot.columns]
    out = pd.DataFrame(index=pivot.index)
    out["free_shares"] = totals["free_shares"].reindex(out.index)
    out["commission_shares"] = totals["commission_shares"].reindex(out.index)
    out = out.join(pivot)
    ex = exceptions[(exceptions["portfolio_id"] == portfolio_id) & (exceptions["account_id"].fillna("") != "")]
    out["exceptions_this_month"] = ex[ex["month_end"] == m].groupby("account_id").size().reindex(out.index).fillna(0).astype(int)
    out["exceptions_total"] = ex.groupby("account_id").size().reindex(out.index).fillna(0).astype(int)
    negative = (pivot < -SHARE_TOLERANCE).any(axis=1)
    out["flagged"] = (out["exceptions_this_month"] > 0) | negative.reindex(out.index).fillna(False)
    return out.reset_index().sort_values("account_id").reset_index(drop=True)


def omnibus_account_history(
    omnibus: pd.DataFrame,
    omnibus_accounts: pd.DataFrame | None,
    portfolio_id: str,
    account_id: str,
) -> pd.DataFrame:
    """One omnibus account in one portfolio, month by month and rights holder.

    Columns (``HISTORY_COLUMNS``): month_end, rights_holder, I, R, E,
    F_prev = F(m-1), K_prev = K(m-1), K_h_prev = K_h(m-1), F_h_prev =
    F_h(m-1), issued, redeemed, net_exchange (the holder's lines),
    free_shares = F_h(m), K_h = K_h(m), F = F(m), K = K(m).  The month
    before the account's first row holds nothing.
    """
    om = omnibus[(omnibus["portfolio_id"] == portfolio_id) & (omnibus["account_id"] == account_id)].copy()
    if om.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    om["K_h"] = _holder_commission(om)
    acc_src = None
    if omnibus_accounts is not None:
        acc_src = omnibus_accounts[(omnibus_accounts["portfolio_id"] == portfolio_id) & (omnibus_accounts["account_id"] == account_id)]
    acc = omnibus_account_totals(om, acc_src).sort_values("month_end")
    acc = acc.rename(columns={"issued": "I", "redeemed": "R", "net_exchange": "E", "free_shares": "F", "commission_shares": "K"})
    acc["F_prev"] = acc["F"].shift(1, fill_value=0.0)
    acc["K_prev"] = acc["K"].shift(1, fill_value=0.0)
    months = sorted(acc["month_end"])
    holders = sorted(om["rights_holder"].unique())
    grid = pd.MultiIndex.from_product([months, holders], names=["month_end", "rights_holder"])
    om = om.set_index(["month_end", "rights_holder"])[[*COUNTS, "K_h"]]
    om = om.reindex(grid)
    om[FLOWS] = om[FLOWS].fillna(0.0)
    # A holder without a row in a month keeps its balance (it had no value to report).
    om["free_shares"] = om.groupby(level="rights_holder")["free_shares"].ffill().fillna(0.0)
    if om["K_h"].notna().any():
        om["K_h"] = om["K_h"].fillna(0.0)
    om = om.reset_index().sort_values(["rights_holder", "month_end"])
    om["F_h_prev"] = om.groupby("rights_holder")["free_shares"].shift(1, fill_value=0.0)
    om["K_h_prev"] = om.groupby("rights_holder")["K_h"].shift(1, fill_value=0.0)
    out = om.merge(acc[["month_end", "I", "R", "E", "F", "K", "F_prev", "K_prev"]], on="month_end", how="left")
    out = out.sort_values(["month_end", "rights_holder"]).reset_index(drop=True)[HISTORY_COLUMNS]
    numbers = HISTORY_COLUMNS[2:]
    out[numbers] = out[numbers].mask(out[numbers].abs() < 1e-12, 0.0)  # no "-0.000000"
    return out


def _n(x: float) -> str:
    """A share count as written in a formula line: up to six decimals, no trailing zeros."""
    if pd.isna(x):
        return "?"
    v = round(float(x), 6)
    if v == 0:
        return "0"
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return f"({text})" if v < 0 else text


def _r(x: float) -> str:
    """A line's result: six decimals."""
    v = round(float(x), 6)
    return f"{0.0 if v == 0 else v:.6f}"


def omnibus_formula_lines(history: pd.DataFrame, month_end: pd.Timestamp) -> pd.DataFrame:
    """Exhibit A 2(c)(ii)-(iv) for one account and month, each line written out with its numbers.

    ``history`` is :func:`omnibus_account_history`.  One row per rights
    holder and line (``issued``, ``redeemed``, ``net_exchange``,
    ``balance``): columns rights_holder, line, clause, formula (text with the
    numbers), value (the calculation's figure), by_formula (the formula's
    value from the figures shown; NaN where the denominator is zero and the
    rule sends the line elsewhere), note.
    """
    m = pd.Timestamp(month_end)
    rows = history[history["month_end"] == m]
    out: list[dict] = []
    for r in rows.itertuples(index=False):
        h = r.rights_holder
        known_k = not (pd.isna(r.K_prev) or pd.isna(r.K_h_prev))
        # (ii) issued
        den_i = (r.K_prev + r.F_prev) if known_k else float("nan")
        if abs(r.I) <= SHARE_TOLERANCE:
            text, by, note = f"issued to {h}: I = 0, nothing issued", 0.0, ""
        elif known_k and abs(den_i) <= SHARE_TOLERANCE:
            whose = "this holder" if abs(r.issued) > SHARE_TOLERANCE else "another holder"
            text = (f"issued to {h} = I × (K_h(m-1)+F_h(m-1)) / (K(m-1)+F(m-1)): denominator "
                    f"{_n(r.K_prev)}+{_n(r.F_prev)} = 0, so the {_n(r.I)} shares go to the rights holder of the tenure "
                    f"serving at the month end ({whose}) = {_r(r.issued)}")
            by, note = float("nan"), "zero denominator"
        elif known_k:
            by = r.I * (r.K_h_prev + r.F_h_prev) / den_i
            text = (f"issued to {h} = I × (K_h(m-1)+F_h(m-1)) / (K(m-1)+F(m-1)) = "
                    f"{_n(r.I)} × ({_n(r.K_h_prev)}+{_n(r.F_h_prev)})/({_n(r.K_prev)}+{_n(r.F_prev)}) = {_r(by)}")
            note = ""
        else:
            by = float("nan")
            text = (f"issued to {h} = I × (K_h(m-1)+F_h(m-1)) / (K(m-1)+F(m-1)) = {_n(r.I)} × (K_h(m-1)+{_n(r.F_h_prev)})"
                    f"/(K(m-1)+{_n(r.F_prev)}) = {_r(r.issued)} (Commission Shares not in this run)")
            note = "K not available"
        out.append({"rights_holder": h, "line": "issued", "clause": "2(c)(ii)", "formula": text,
                    "value": float(r.issued), "by_formula": by, "note": note})
        # (iii) redeemed and (iv) net exchange share the denominator F(m-1).
        for line, clause, count, sym, val in (
            ("redeemed", "2(c)(iii)", r.R, "R", r.redeemed),
            ("net_exchange", "2(c)(iv)", r.E, "E", r.net_exchange),
        ):
            verb = "redeemed from" if line == "redeemed" else "net exchange to"
            if abs(count) <= SHARE_TOLERANCE:
                text, by, note = f"{verb} {h}: {sym} = 0, nothing to attribute", 0.0, ""
            elif abs(r.F_prev) <= SHARE_TOLERANCE:
                if abs(r.I) > SHARE_TOLERANCE:
                    where = f"in the proportions issued_h / I = {_n(r.issued)}/{_n(r.I)}"
                else:
                    whose = "this holder" if abs(val) > SHARE_TOLERANCE else "another holder"
                    where = f"to the rights holder of the tenure serving at the month end ({whose})"
                text = (f"{verb} {h} = {sym} × F_h(m-1) / F(m-1): denominator F(m-1) = 0, so the {_n(count)} shares go "
                        f"{where} = {_r(val)}")
                by, note = float("nan"), "zero denominator"
            else:
                by = count * r.F_h_prev / r.F_prev
                text = (f"{verb} {h} = {sym} × F_h(m-1) / F(m-1) = {_n(count)} × {_n(r.F_h_prev)}/{_n(r.F_prev)} = {_r(by)}")
                note = ""
            if line == "net_exchange" and abs(count) > SHARE_TOLERANCE:
                text += f"   [E = F(m) - F(m-1) - I + R = {_n(r.F)} - {_n(r.F_prev)} - {_n(r.I)} + {_n(r.R)}]"
            out.append({"rights_holder": h, "line": line, "clause": clause, "formula": text,
                        "value": float(val), "by_formula": by, "note": note})
        bal = r.F_h_prev + r.issued - r.redeemed + r.net_exchange
        text = (f"F_{h}(m) = F_h(m-1) + issued - redeemed + net exchange = {_n(r.F_h_prev)} + {_n(r.issued)} - "
                f"{_n(r.redeemed)} + {_n(r.net_exchange)} = {_r(bal)}")
        note = "negative Free Shares" if r.free_shares < -SHARE_TOLERANCE else ""
        out.append({"rights_holder": h, "line": "balance", "clause": "2(c)", "formula": text,
                    "value": float(r.free_shares), "by_formula": bal, "note": note})
    return pd.DataFrame(out, columns=LINE_COLUMNS)


def omnibus_attribution_series(history: pd.DataFrame) -> pd.DataFrame:
    """month_end, rights_holder, free_shares (F_h(m)) and commission_shares (K_h(m)) for the chart."""
    out = history[["month_end", "rights_holder", "free_shares", "K_h"]].rename(columns={"K_h": "commission_shares"})
    return out.sort_values(["month_end", "rights_holder"]).reset_index(drop=True)


__all__ = [
    "HISTORY_COLUMNS", "omnibus_account_history", "omnibus_account_totals", "omnibus_accounts_overview",
    "omnibus_attribution_series", "omnibus_formula_lines",
]
