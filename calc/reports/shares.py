"""Shares over time: each party's part of the Distribution Fee, each rights holder's 12b-1 Share, and the plan timeline.

The Shares page shows these (``payments``, ``allocation`` and ``summary`` of
the calculation; ``tenures`` and ``plan_events`` of the feed).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from calc.reports.common import as_ids, filter_frame
from calc.vocabulary import (
    COMPLETE_TERMINATION,
    DISTRIBUTION_FEE,
    ROLE_ASSIGNEE,
    ROLE_RIGHTS_HOLDER,
)

TIMELINE_COLUMNS = ["date", "portfolio_id", "kind", "label"]
TENURE_CHANGE = "tenure_change"


def distribution_fee_shares(
    payments: pd.DataFrame,
    portfolio_ids: str | Iterable[str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Each party's part of each month's Distribution Fee, in dollars and as a fraction.

    Rights holders (their own Portions) and assignees (their 12b-1 Portions)
    together receive the whole fee.  Columns: month_end, party, role,
    distribution_fee, fee_share (fraction of the month's fee; NaN when the
    month has no fee).
    """
    frame = filter_frame(payments, start, end, portfolio_ids)
    frame = frame[frame["role"].isin([ROLE_RIGHTS_HOLDER, ROLE_ASSIGNEE])]
    out = frame.groupby(["month_end", "party", "role"], as_index=False)[DISTRIBUTION_FEE].sum()
    out[DISTRIBUTION_FEE] = out[DISTRIBUTION_FEE].round(2)
    total = out.groupby("month_end")[DISTRIBUTION_FEE].transform("sum")
    out["fee_share"] = np.where(total.abs() > 0.000001, out[DISTRIBUTION_FEE] / total.where(total != 0, 1.0), np.nan)
    return out.sort_values(["month_end", "role", "party"]).reset_index(drop=True)


def twelve_b1_shares(
    allocation: pd.DataFrame,
    summary: pd.DataFrame,
    portfolio_ids: str | Iterable[str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The 12b-1 Share ``S_h(m)`` of each rights holder over time.

    For one portfolio it is ``allocation.share``.  Over several portfolios it
    is each portfolio's ``S_h(m)`` weighted by its shares outstanding.
    Columns: month_end, rights_holder, attributed_shares, share.
    """
    frame = filter_frame(allocation, start, end, portfolio_ids)
    ids = as_ids(portfolio_ids)
    if ids is not None and len(ids) == 1:
        out = frame[["month_end", "rights_holder", "attributed_shares", "share"]].copy()
        return out.sort_values(["month_end", "rights_holder"]).reset_index(drop=True)
    outstanding = filter_frame(summary, start, end, portfolio_ids)[["month_end", "portfolio_id", "shares_outstanding"]]
    merged = frame.merge(outstanding, on=["month_end", "portfolio_id"], how="left")
    merged["weighted"] = merged["share"] * merged["shares_outstanding"].fillna(0.0)
    out = merged.groupby(["month_end", "rights_holder"], as_index=False).agg(
        attributed_shares=("attributed_shares", "sum"), weighted=("weighted", "sum")
    )
    total = outstanding.groupby("month_end")["shares_outstanding"].sum()
    out["share"] = out["weighted"] / out["month_end"].map(total).replace(0.0, np.nan)
    return out.drop(columns="weighted").sort_values(["month_end", "rights_holder"]).reset_index(drop=True)


def _who(tenure: object) -> str:
    d, h = str(tenure.distributor), str(tenure.rights_holder)
    return d if h in ("", d) else f"{d}, rights holder {h}"


def plan_timeline(
    tenures: pd.DataFrame,
    plan_events: pd.DataFrame,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The dates that change who earns: tenure changes and Complete Terminations.

    Columns: date, portfolio_id, kind (``tenure_change`` or
    ``complete_termination``), label.  A tenure change is the start of every
    tenure but a portfolio's first.
    """
    ids = as_ids(portfolio_ids)
    ten = tenures if ids is None else tenures[tenures["portfolio_id"].isin(ids)]
    rows: list[dict] = []
    for pid, group in ten.sort_values(["portfolio_id", "start_date"]).groupby("portfolio_id", sort=True):
        prev = None
        for t in group.itertuples(index=False):
            if prev is not None:
                rows.append({
                    "date": pd.Timestamp(t.start_date),
                    "portfolio_id": pid,
                    "kind": TENURE_CHANGE,
                    "label": f"{pid}: {_who(t)} serves from {pd.Timestamp(t.start_date):%Y-%m-%d} (before: {_who(prev)})",
                })
            prev = t
    ev = plan_events if ids is None or plan_events.empty else plan_events[plan_events["portfolio_id"].isin(ids)]
    for e in ev.itertuples(index=False):
        rows.append({
            "date": pd.Timestamp(e.date),
            "portfolio_id": e.portfolio_id,
            "kind": e.kind,
            "label": f"{e.portfolio_id}: Complete Termination on {pd.Timestamp(e.date):%Y-%m-%d}; no fee accrues from then on",
        })
    out = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    return out.sort_values(["date", "portfolio_id"]).reset_index(drop=True)


def termination_date(plan_events: pd.DataFrame, portfolio_id: str) -> pd.Timestamp | None:
    """The portfolio's Complete Termination date, or None."""
    if plan_events is None or plan_events.empty:
        return None
    ev = plan_events[(plan_events["portfolio_id"] == portfolio_id) & (plan_events["kind"] == COMPLETE_TERMINATION)]
    return None if ev.empty else pd.Timestamp(ev["date"].min())


__all__ = ["distribution_fee_shares", "plan_timeline", "termination_date", "twelve_b1_shares"]
