"""Collateral, for an assignee's investors: its Portions by month, payback, payments and due dates, the runoff behind them.

The Collateral page shows these (the assignee's rows of ``payments`` and the
calculation's ``lots``; ``assignments`` and ``portfolios`` of the feed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.report import LOT_COLUMNS
from calc.reports.common import PORTFOLIO_COLUMNS, cents
from calc.vocabulary import (
    CDSC,
    DISTRIBUTION_FEE,
    ROLE_ASSIGNEE,
    SHARE_TOLERANCE,
    parse_cdsc_schedule,
)

PORTIONS = [DISTRIBUTION_FEE, CDSC]  # an assignee's 12b-1 Portion and CDSC Portion
STREAM_COLUMNS = ["month_end", "due_date", *PORTIONS, "total", "cumulative", "portfolios"]
SCHEDULE_COLUMNS = ["month_end", "due_date", *PORTIONS, "payable", "status"]
RUNOFF_KEYS = ["month_end", "issue_year"]
RUNOFF_AMOUNTS = [c for c in LOT_COLUMNS if c not in ("portfolio_id", "rights_holder", *RUNOFF_KEYS)] + [
    "cdsc_carried", "carrying_shares",
]  # commission_shares, cost of the lots; what they carry
RUNOFF_COLUMNS = [*RUNOFF_KEYS, *RUNOFF_AMOUNTS]


def _assignee_rows(payments: pd.DataFrame) -> pd.DataFrame:
    return payments[payments["role"] == ROLE_ASSIGNEE]


def _with_money(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame[DISTRIBUTION_FEE] != 0) | (frame[CDSC] != 0)]


def assignee_terms(assignments: pd.DataFrame, assignee: str) -> pd.DataFrame:
    """The assignee's assignments, ``portfolio_id`` '' shown as 'all portfolios'."""
    out = assignments[assignments["assignee"] == assignee].copy()
    out["portfolios"] = out["portfolio_id"].replace("", "all portfolios")
    return out.sort_values(["start_date", "assignment_id"]).reset_index(drop=True)


def purchase_price(assignments: pd.DataFrame, assignee: str) -> float | None:
    """What the assignee paid for its assignments (their ``purchase_price`` added); None if none given."""
    prices = assignments.loc[assignments["assignee"] == assignee, "purchase_price"].dropna()
    return None if prices.empty else float(prices.sum())


def assignee_stream(payments: pd.DataFrame, assignee: str | None = None) -> pd.DataFrame:
    """The assignee's Portions by month, with the running total.

    ``payments`` is the assignee's rows (role ``assignee``); with
    ``assignee`` given, other rows are dropped.  Columns: month_end, due_date,
    distribution_fee (12b-1 Portion), cdsc (CDSC Portion), total, cumulative,
    portfolios (count with money).
    """
    frame = _assignee_rows(payments)
    if assignee is not None:
        frame = frame[frame["party"] == assignee]
    if frame.empty:
        return pd.DataFrame(columns=STREAM_COLUMNS)
    with_money = _with_money(frame)
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"), distribution_fee=(DISTRIBUTION_FEE, "sum"), cdsc=(CDSC, "sum")
    )
    out[PORTIONS] = out[PORTIONS].round(2)
    out["total"] = (out[DISTRIBUTION_FEE] + out[CDSC]).round(2)
    out["cumulative"] = out["total"].cumsum().round(2)
    out["portfolios"] = out["month_end"].map(with_money.groupby("month_end")["portfolio_id"].nunique()).fillna(0).astype(int)
    return out.sort_values("month_end").reset_index(drop=True)


@dataclass(frozen=True)
class Payback:
    """Collections against the purchase price."""

    received: float
    distribution_fee: float
    cdsc: float
    purchase_price: float | None
    recovered: float | None  # fraction of the price collected
    remaining: float | None
    payback_month: pd.Timestamp | None  # first month end the cumulative reaches the price
    months: int  # months with money
    last_month: pd.Timestamp | None


def payback(stream: pd.DataFrame, price: float | None) -> Payback:
    """Cumulative collections against ``price`` (from :func:`assignee_stream`)."""
    received = cents(stream["total"].sum()) if not stream.empty else 0.0
    fee = cents(stream[DISTRIBUTION_FEE].sum()) if not stream.empty else 0.0
    cdsc = cents(stream[CDSC].sum()) if not stream.empty else 0.0
    months = int((stream["total"] != 0).sum()) if not stream.empty else 0
    last = pd.Timestamp(stream["month_end"].max()) if not stream.empty else None
    if price is None or price <= 0:
        return Payback(received, fee, cdsc, price, None, None, None, months, last)
    reached = stream[stream["cumulative"] >= price - 0.005]
    month = pd.Timestamp(reached["month_end"].iloc[0]) if not reached.empty else None
    return Payback(received, fee, cdsc, price, received / price, cents(max(price - received, 0.0)), month, months, last)


def payback_curve(stream: pd.DataFrame, price: float | None) -> pd.DataFrame:
    """month_end, cumulative, purchase_price, recovered (fraction) for the payback chart."""
    out = stream[["month_end", "cumulative"]].copy()
    out["purchase_price"] = price if price else np.nan
    out["recovered"] = out["cumulative"] / price if price else np.nan
    return out


def assignee_by_portfolio(payments: pd.DataFrame, portfolios: pd.DataFrame) -> pd.DataFrame:
    """The portfolios behind the assignee's stream, most money first.

    Columns: portfolio_id, name, fund, schedule, distribution_fee, cdsc,
    total, share_of_total, first_month, last_month (months with money).
    """
    frame = _assignee_rows(payments)
    out = frame.groupby("portfolio_id", as_index=False)[PORTIONS].sum()
    out[PORTIONS] = out[PORTIONS].round(2)
    out["total"] = (out[DISTRIBUTION_FEE] + out[CDSC]).round(2)
    grand = out["total"].sum()
    out["share_of_total"] = out["total"] / grand if grand else np.nan
    span = _with_money(frame).groupby("portfolio_id")["month_end"].agg(["min", "max"])
    out["first_month"] = out["portfolio_id"].map(span["min"]) if not span.empty else pd.NaT
    out["last_month"] = out["portfolio_id"].map(span["max"]) if not span.empty else pd.NaT
    out = out.merge(portfolios[PORTFOLIO_COLUMNS], on="portfolio_id", how="left")
    out = out.sort_values(["total", "portfolio_id"], ascending=[False, True]).reset_index(drop=True)
    return out[[*PORTFOLIO_COLUMNS, *PORTIONS, "total", "share_of_total", "first_month", "last_month"]]


def payments_schedule(payments: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The assignee's payments and their due dates, latest first.

    Columns: month_end, due_date, distribution_fee, cdsc, payable, status:
    ``due`` for a payment falling due after ``as_of`` (a month end: the
    statement month's own payment and any later), ``paid`` before; without
    ``as_of`` the latest month's payment is the one due.
    """
    frame = _assignee_rows(payments)
    if frame.empty:
        return pd.DataFrame(columns=SCHEDULE_COLUMNS)
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"),
        distribution_fee=(DISTRIBUTION_FEE, "sum"),
        cdsc=(CDSC, "sum"),
        payable=("payable", "sum"),
    )
    amounts = [*PORTIONS, "payable"]
    out[amounts] = out[amounts].round(2)
    if as_of is None:
        due = out["month_end"] == out["month_end"].max()
    else:
        due = out["due_date"] > pd.Timestamp(as_of)
    out["status"] = np.where(due, "due", "paid")
    return out.sort_values("month_end", ascending=False).reset_index(drop=True)


def assignee_lot_filters(assignments: pd.DataFrame, assignee: str) -> list[tuple[str, str]]:
    """(rights_holder, portfolio_id or '') pairs whose lots stand behind the assignee's stream."""
    terms = assignments[assignments["assignee"] == assignee]
    return sorted({(str(t.rights_holder), str(t.portfolio_id)) for t in terms.itertuples(index=False)})


def _cdsc_rate(schedule: Sequence[float] | str | float | None, year_held: int) -> float:
    """The schedule's rate (fraction) in ``year_held`` (1-based); 0 beyond it."""
    if schedule is None or (isinstance(schedule, float) and math.isnan(schedule)):
        return 0.0
    if isinstance(schedule, str):
        schedule = parse_cdsc_schedule(schedule)
    values = list(schedule)
    return float(values[year_held - 1]) / 100.0 if 1 <= year_held <= len(values) else 0.0


def runoff(lots: pd.DataFrame, portfolios: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The Commission Shares behind an assignee's stream, by month and issue year.

    ``pairs`` are (rights_holder, portfolio_id or '' for all) from
    :func:`assignee_lot_filters`.  ``year_held`` counts a lot issued in year
    ``y`` as in year ``month.year - y + 1`` (the issue day is not in the
    frame: before the anniversary the lot is a year younger and its rate one
    step higher).  ``cdsc_rate`` is the holding portfolio's schedule rate in
    that year; ``cdsc_carried`` is cost x rate, the CDSC the shares would
    still bear if redeemed at cost.  Columns: month_end, issue_year,
    commission_shares, cost, cdsc_carried, carrying_shares (those with a
    rate above 0).
    """
    if lots is None or lots.empty or not pairs:
        return pd.DataFrame(columns=RUNOFF_COLUMNS)
    mask = pd.Series(False, index=lots.index)
    for holder, pid in pairs:
        m = lots["rights_holder"] == holder
        if pid:
            m &= lots["portfolio_id"] == pid
        mask |= m
    frame = lots[mask].copy()
    if frame.empty:
        return pd.DataFrame(columns=RUNOFF_COLUMNS)
    schedules = dict(zip(portfolios["portfolio_id"], portfolios["cdsc_schedule"], strict=False))
    year_held = pd.to_datetime(frame["month_end"]).dt.year - frame["issue_year"].astype(int) + 1
    frame["rate"] = [
        _cdsc_rate(schedules.get(pid), int(k)) for pid, k in zip(frame["portfolio_id"], year_held, strict=True)
    ]
    frame["cdsc_carried"] = frame["cost"] * frame["rate"]
    frame["carrying_shares"] = np.where(frame["rate"] > 0, frame["commission_shares"], 0.0)
    out = frame.groupby(RUNOFF_KEYS, as_index=False)[RUNOFF_AMOUNTS].sum()
    out = out[out["commission_shares"].abs() > SHARE_TOLERANCE]
    return out.sort_values(RUNOFF_KEYS).reset_index(drop=True)[RUNOFF_COLUMNS]


def runoff_at(runoff_frame: pd.DataFrame, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """The runoff at one month end (the latest by default), one row per issue year.

    Adds ``year_held`` (by issue year) and ``rate`` (CDSC carried / cost).
    """
    if runoff_frame.empty:
        return runoff_frame.assign(year_held=pd.Series(dtype=int), rate=pd.Series(dtype=float))
    m = pd.Timestamp(month_end) if month_end is not None else runoff_frame["month_end"].max()
    at = runoff_frame[runoff_frame["month_end"] == m].copy()
    at["issue_year"] = at["issue_year"].astype(int)
    at["year_held"] = m.year - at["issue_year"] + 1
    at["rate"] = np.where(at["cost"] > 0, at["cdsc_carried"] / at["cost"].where(at["cost"] > 0, 1.0), 0.0)
    return at.reset_index(drop=True)


def runoff_totals(at: pd.DataFrame) -> dict[str, float]:
    """Totals of :func:`runoff_at`: commission_shares, cost, cdsc_carried, carrying_shares."""
    return {c: float(at[c].sum()) if not at.empty else 0.0 for c in RUNOFF_AMOUNTS}


__all__ = [
    "Payback", "assignee_by_portfolio", "assignee_lot_filters", "assignee_stream", "assignee_terms", "payback",
    "payback_curve", "payments_schedule", "purchase_price", "runoff", "runoff_at", "runoff_totals",
]
