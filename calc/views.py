"""Views of a Monthly Calculation: every number the dashboard shows, as pure functions.

The dashboard's pages only display what these functions return: revenue this
month and year to date against a year earlier, revenue by party, Fund and
schedule, the parties' shares of the Distribution Fee over time, an assignee's
collateral (Portions, payback, due dates, runoff of the shares behind them),
the Exhibit A 2(c) drill-down of an omnibus account with each formula written
out, and the monthly statement (with its tie-out, CSV, Excel and printable
HTML).  Pandas in, pandas out; no streamlit, no plotly.

Frames are those of :class:`calc.report.MonthlyCalculation` (money already
rounded to the cent, shares unrounded) and of :class:`calc.feed.Feed`.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SHARE_TOLERANCE = 1e-6

MONEY_KINDS: dict[str, str] = {
    "distribution_fee": "Distribution Fee",
    "service_fee": "Service fee",
    "cdsc": "CDSC",
}
SCHEDULE_LABELS: dict[str, str] = {"A-1": "A-1 (AIM)", "A-2": "A-2 (INVESCO)"}
ROLE_LABELS: dict[str, str] = {
    "rights_holder": "rights holder",
    "assignee": "assignee",
    "distributor": "distributor (service fee)",
}


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def month_ends(summary: pd.DataFrame) -> list[pd.Timestamp]:
    """The month ends present in ``summary``, oldest first."""
    if summary is None or summary.empty:
        return []
    return sorted(pd.to_datetime(summary["month_end"]).drop_duplicates())


def _as_ids(portfolio_ids: str | Iterable[str] | None) -> list[str] | None:
    if portfolio_ids is None:
        return None
    if isinstance(portfolio_ids, str):
        return None if portfolio_ids == "" else [portfolio_ids]
    ids = list(portfolio_ids)
    return ids or None


def filter_frame(
    frame: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    portfolio_ids: str | Iterable[str] | None = None,
    column: str = "month_end",
) -> pd.DataFrame:
    """Rows of ``frame`` with ``column`` in [start, end] and (when given) in the portfolios."""
    out = frame
    if start is not None:
        out = out[out[column] >= pd.Timestamp(start)]
    if end is not None:
        out = out[out[column] <= pd.Timestamp(end)]
    ids = _as_ids(portfolio_ids)
    if ids is not None:
        out = out[out["portfolio_id"].isin(ids)]
    return out


def portfolio_labels(portfolios: pd.DataFrame) -> dict[str, str]:
    """``{portfolio_id: "P1 · Portfolio P1"}`` for selectors and tables."""
    if portfolios is None or portfolios.empty:
        return {}
    return {
        str(r.portfolio_id): f"{r.portfolio_id} · {r.name}" if str(r.name) and r.name != r.portfolio_id else str(r.portfolio_id)
        for r in portfolios.itertuples(index=False)
    }


def change(now: float, before: float) -> float:
    """Relative change; NaN where the earlier amount is zero."""
    if before == 0 or pd.isna(before):
        return float("nan")
    return (now - before) / abs(before)


def _cents(value: float) -> float:
    """A sum of cent amounts, cleaned of binary noise."""
    return float(round(float(value), 2))


def _prior_year(month_end: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(month_end) - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)


def _fmt_money(value: float) -> str:
    v = round(float(value), 2)
    text = f"${abs(v):,.2f}"
    return f"({text})" if v < 0 else text


# ---------------------------------------------------------------------------
# 1. Revenue
# ---------------------------------------------------------------------------


def revenue_comparison(
    summary: pd.DataFrame,
    month_end: pd.Timestamp,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """This month and year to date against the same periods a year earlier.

    Index: Distribution Fee, Service fee, CDSC, Total.  Columns: ``month``,
    ``month_prior_year``, ``month_change`` (fraction, NaN when the prior is 0),
    ``ytd``, ``ytd_prior_year``, ``ytd_change``.  Year to date runs from
    January of ``month_end``'s year to ``month_end``; its prior from January a
    year earlier to the same month a year earlier.
    """
    m = pd.Timestamp(month_end)
    p = _prior_year(m)
    frame = filter_frame(summary, portfolio_ids=portfolio_ids)
    me = frame["month_end"]
    periods = {
        "month": frame[me == m],
        "month_prior_year": frame[me == p],
        "ytd": frame[(me >= pd.Timestamp(m.year, 1, 1)) & (me <= m)],
        "ytd_prior_year": frame[(me >= pd.Timestamp(p.year, 1, 1)) & (me <= p)],
    }
    rows = {}
    for col, label in MONEY_KINDS.items():
        rows[label] = {k: _cents(v[col].sum()) for k, v in periods.items()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.loc["Total"] = out.sum().round(2)
    out["month_change"] = [change(a, b) for a, b in zip(out["month"], out["month_prior_year"], strict=True)]
    out["ytd_change"] = [change(a, b) for a, b in zip(out["ytd"], out["ytd_prior_year"], strict=True)]
    return out[["month", "month_prior_year", "month_change", "ytd", "ytd_prior_year", "ytd_change"]]


def monthly_revenue_by_party(
    payments: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Each month's money by party (all its roles added), before offsets.

    Columns: month_end, party, distribution_fee, cdsc, service_fee, total,
    offset, payable.  Parties with no money in the whole period are left out.
    """
    frame = filter_frame(payments, start, end, portfolio_ids)
    cols = ["distribution_fee", "cdsc", "service_fee", "offset", "payable"]
    out = frame.groupby(["month_end", "party"], as_index=False)[cols].sum()
    out[cols] = out[cols].round(2)
    out["total"] = (out["distribution_fee"] + out["cdsc"] + out["service_fee"]).round(2)
    active = out.groupby("party")["total"].transform(lambda s: s.abs().sum()) > 0
    out = out[active].sort_values(["month_end", "party"]).reset_index(drop=True)
    return out[["month_end", "party", "distribution_fee", "cdsc", "service_fee", "total", "offset", "payable"]]


def monthly_revenue(
    summary: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Each month's Distribution Fee, service fee and CDSC over the portfolios, and their total."""
    frame = filter_frame(summary, start, end, portfolio_ids)
    cols = list(MONEY_KINDS)
    out = frame.groupby("month_end", as_index=False)[cols].sum()
    out[cols] = out[cols].round(2)
    out["total"] = out[cols].sum(axis=1).round(2)
    return out


def revenue_by_group(
    summary: pd.DataFrame,
    portfolios: pd.DataFrame,
    by: str = "fund",
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Money in the period by Fund (``by="fund"``) or by schedule (``by="schedule"``).

    Columns: the group, distribution_fee, service_fee, cdsc, total, portfolios
    (count); largest total first.  Schedules are labelled A-1 (AIM) and A-2
    (INVESCO).
    """
    if by not in ("fund", "schedule"):
        raise ValueError("by must be 'fund' or 'schedule'")
    frame = filter_frame(summary, start, end, portfolio_ids)
    frame = frame.merge(portfolios[["portfolio_id", "fund", "schedule"]], on="portfolio_id", how="left")
    if by == "schedule":
        frame["schedule"] = frame["schedule"].map(lambda s: SCHEDULE_LABELS.get(s, s))
    cols = list(MONEY_KINDS)
    out = frame.groupby(by, as_index=False).agg(
        **{c: (c, "sum") for c in cols}, portfolios=("portfolio_id", "nunique")
    )
    out[cols] = out[cols].round(2)
    out["total"] = out[cols].sum(axis=1).round(2)
    out = out.sort_values(["total", by], ascending=[False, True]).reset_index(drop=True)
    return out[[by, *cols, "total", "portfolios"]]


def top_portfolios(
    summary: pd.DataFrame,
    portfolios: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    n: int = 10,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The ``n`` portfolios with the most money (Distribution Fee + service fee + CDSC) in the period.

    Columns: portfolio_id, name, fund, schedule, distribution_fee, service_fee,
    cdsc, total, share_of_total (fraction of all portfolios' total).
    """
    frame = filter_frame(summary, start, end, portfolio_ids)
    cols = list(MONEY_KINDS)
    out = frame.groupby("portfolio_id", as_index=False)[cols].sum()
    out[cols] = out[cols].round(2)
    out["total"] = out[cols].sum(axis=1).round(2)
    grand = out["total"].sum()
    out["share_of_total"] = out["total"] / grand if grand else float("nan")
    out = out.merge(portfolios[["portfolio_id", "name", "fund", "schedule"]], on="portfolio_id", how="left")
    out = out.sort_values(["total", "portfolio_id"], ascending=[False, True]).head(n).reset_index(drop=True)
    return out[["portfolio_id", "name", "fund", "schedule", *cols, "total", "share_of_total"]]


# ---------------------------------------------------------------------------
# 2. Shares over time
# ---------------------------------------------------------------------------


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
    frame = frame[frame["role"].isin(["rights_holder", "assignee"])]
    out = frame.groupby(["month_end", "party", "role"], as_index=False)["distribution_fee"].sum()
    out["distribution_fee"] = out["distribution_fee"].round(2)
    total = out.groupby("month_end")["distribution_fee"].transform("sum")
    out["fee_share"] = np.where(total.abs() > 0.000001, out["distribution_fee"] / total.where(total != 0, 1.0), np.nan)
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
    ids = _as_ids(portfolio_ids)
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
    ids = _as_ids(portfolio_ids)
    ten = tenures if ids is None else tenures[tenures["portfolio_id"].isin(ids)]
    rows: list[dict] = []
    for pid, group in ten.sort_values(["portfolio_id", "start_date"]).groupby("portfolio_id", sort=True):
        prev = None
        for t in group.itertuples(index=False):
            if prev is not None:
                rows.append({
                    "date": pd.Timestamp(t.start_date),
                    "portfolio_id": pid,
                    "kind": "tenure_change",
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
    out = pd.DataFrame(rows, columns=["date", "portfolio_id", "kind", "label"])
    return out.sort_values(["date", "portfolio_id"]).reset_index(drop=True)


def termination_date(plan_events: pd.DataFrame, portfolio_id: str) -> pd.Timestamp | None:
    """The portfolio's Complete Termination date, or None."""
    if plan_events is None or plan_events.empty:
        return None
    ev = plan_events[(plan_events["portfolio_id"] == portfolio_id) & (plan_events["kind"] == "complete_termination")]
    return None if ev.empty else pd.Timestamp(ev["date"].min())


# ---------------------------------------------------------------------------
# 3. Collateral (an assignee)
# ---------------------------------------------------------------------------


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
    frame = payments[payments["role"] == "assignee"]
    if assignee is not None:
        frame = frame[frame["party"] == assignee]
    cols = ["distribution_fee", "cdsc"]
    if frame.empty:
        return pd.DataFrame(columns=["month_end", "due_date", *cols, "total", "cumulative", "portfolios"])
    with_money = frame[(frame["distribution_fee"] != 0) | (frame["cdsc"] != 0)]
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"), distribution_fee=("distribution_fee", "sum"), cdsc=("cdsc", "sum")
    )
    out[cols] = out[cols].round(2)
    out["total"] = (out["distribution_fee"] + out["cdsc"]).round(2)
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
    received = _cents(stream["total"].sum()) if not stream.empty else 0.0
    fee = _cents(stream["distribution_fee"].sum()) if not stream.empty else 0.0
    cdsc = _cents(stream["cdsc"].sum()) if not stream.empty else 0.0
    months = int((stream["total"] != 0).sum()) if not stream.empty else 0
    last = pd.Timestamp(stream["month_end"].max()) if not stream.empty else None
    if price is None or price <= 0:
        return Payback(received, fee, cdsc, price, None, None, None, months, last)
    reached = stream[stream["cumulative"] >= price - 0.005]
    month = pd.Timestamp(reached["month_end"].iloc[0]) if not reached.empty else None
    return Payback(received, fee, cdsc, price, received / price, _cents(max(price - received, 0.0)), month, months, last)


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
    frame = payments[payments["role"] == "assignee"]
    cols = ["distribution_fee", "cdsc"]
    out = frame.groupby("portfolio_id", as_index=False)[cols].sum()
    out[cols] = out[cols].round(2)
    out["total"] = (out["distribution_fee"] + out["cdsc"]).round(2)
    grand = out["total"].sum()
    out["share_of_total"] = out["total"] / grand if grand else np.nan
    money = frame[(frame["distribution_fee"] != 0) | (frame["cdsc"] != 0)]
    span = money.groupby("portfolio_id")["month_end"].agg(["min", "max"])
    out["first_month"] = out["portfolio_id"].map(span["min"]) if not span.empty else pd.NaT
    out["last_month"] = out["portfolio_id"].map(span["max"]) if not span.empty else pd.NaT
    out = out.merge(portfolios[["portfolio_id", "name", "fund", "schedule"]], on="portfolio_id", how="left")
    out = out.sort_values(["total", "portfolio_id"], ascending=[False, True]).reset_index(drop=True)
    return out[["portfolio_id", "name", "fund", "schedule", *cols, "total", "share_of_total", "first_month", "last_month"]]


def payments_schedule(payments: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The assignee's payments and their due dates, latest first.

    Columns: month_end, due_date, distribution_fee, cdsc, payable, status:
    ``due`` for a payment falling due after ``as_of`` (a month end: the
    statement month's own payment and any later), ``paid`` before; without
    ``as_of`` the latest month's payment is the one due.
    """
    frame = payments[payments["role"] == "assignee"]
    if frame.empty:
        return pd.DataFrame(columns=["month_end", "due_date", "distribution_fee", "cdsc", "payable", "status"])
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"),
        distribution_fee=("distribution_fee", "sum"),
        cdsc=("cdsc", "sum"),
        payable=("payable", "sum"),
    )
    out[["distribution_fee", "cdsc", "payable"]] = out[["distribution_fee", "cdsc", "payable"]].round(2)
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
        schedule = [float(x) for x in schedule.split(";") if x.strip()]
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
    cols = ["month_end", "issue_year", "commission_shares", "cost", "cdsc_carried", "carrying_shares"]
    if lots is None or lots.empty or not pairs:
        return pd.DataFrame(columns=cols)
    mask = pd.Series(False, index=lots.index)
    for holder, pid in pairs:
        m = lots["rights_holder"] == holder
        if pid:
            m &= lots["portfolio_id"] == pid
        mask |= m
    frame = lots[mask].copy()
    if frame.empty:
        return pd.DataFrame(columns=cols)
    schedules = dict(zip(portfolios["portfolio_id"], portfolios["cdsc_schedule"], strict=False))
    year_held = pd.to_datetime(frame["month_end"]).dt.year - frame["issue_year"].astype(int) + 1
    frame["rate"] = [
        _cdsc_rate(schedules.get(pid), int(k)) for pid, k in zip(frame["portfolio_id"], year_held, strict=True)
    ]
    frame["cdsc_carried"] = frame["cost"] * frame["rate"]
    frame["carrying_shares"] = np.where(frame["rate"] > 0, frame["commission_shares"], 0.0)
    out = frame.groupby(["month_end", "issue_year"], as_index=False)[
        ["commission_shares", "cost", "cdsc_carried", "carrying_shares"]
    ].sum()
    out = out[out["commission_shares"].abs() > SHARE_TOLERANCE]
    return out.sort_values(["month_end", "issue_year"]).reset_index(drop=True)[cols]


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
    cols = ["commission_shares", "cost", "cdsc_carried", "carrying_shares"]
    return {c: float(at[c].sum()) if not at.empty else 0.0 for c in cols}


# ---------------------------------------------------------------------------
# 4. Omnibus accounts (Exhibit A 2(c))
# ---------------------------------------------------------------------------


def omnibus_account_totals(omnibus: pd.DataFrame, omnibus_accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per month, omnibus account and portfolio: I, R, E, F(m), K(m).

    From the calculation's ``omnibus_accounts`` drill-down frame when there
    is one; else I, R, E and F are the rights holders' lines added up (2(c)
    splits each count among them) and K is unknown (NaN).
    """
    keys = ["month_end", "portfolio_id", "account_id"]
    if omnibus_accounts is not None and not omnibus_accounts.empty:
        return omnibus_accounts[[*keys, "issued", "redeemed", "net_exchange", "free_shares", "commission_shares"]].copy()
    out = omnibus.groupby(keys, as_index=False)[["issued", "redeemed", "net_exchange", "free_shares"]].sum()
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
        return pd.DataFrame(columns=["account_id", "free_shares", "commission_shares", "exceptions_this_month", "exceptions_total", "flagged"])
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


HISTORY_COLUMNS = [
    "month_end", "rights_holder", "I", "R", "E", "F_prev", "K_prev", "K_h_prev", "F_h_prev",
    "issued", "redeemed", "net_exchange", "free_shares", "K_h", "F", "K",
]


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
    om = om.set_index(["month_end", "rights_holder"])[["issued", "redeemed", "net_exchange", "free_shares", "K_h"]]
    om = om.reindex(grid)
    om[["issued", "redeemed", "net_exchange"]] = om[["issued", "redeemed", "net_exchange"]].fillna(0.0)
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
    return pd.DataFrame(out, columns=["rights_holder", "line", "clause", "formula", "value", "by_formula", "note"])


def omnibus_attribution_series(history: pd.DataFrame) -> pd.DataFrame:
    """month_end, rights_holder, free_shares (F_h(m)) and commission_shares (K_h(m)) for the chart."""
    out = history[["month_end", "rights_holder", "free_shares", "K_h"]].rename(columns={"K_h": "commission_shares"})
    return out.sort_values(["month_end", "rights_holder"]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# 5. The statement of a month
# ---------------------------------------------------------------------------


@dataclass
class Statement:
    """The Monthly Calculation of one month, as the statement shows it."""

    month_end: pd.Timestamp
    due_date: pd.Timestamp | None
    portfolio_ids: list[str] | None
    summary: pd.DataFrame
    payments: pd.DataFrame
    by_party: pd.DataFrame
    allocation: pd.DataFrame
    cdsc: pd.DataFrame
    exceptions: pd.DataFrame
    tie_out: pd.DataFrame
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def ties_out(self) -> bool:
        return bool(self.tie_out["ok"].all()) if not self.tie_out.empty else True

    @property
    def empty(self) -> bool:
        return self.summary.empty


def statement(
    summary: pd.DataFrame,
    payments: pd.DataFrame,
    allocation: pd.DataFrame,
    cdsc: pd.DataFrame,
    exceptions: pd.DataFrame,
    month_end: pd.Timestamp,
    portfolio_ids: str | Iterable[str] | None = None,
) -> Statement:
    """The statement of ``month_end`` (all portfolios, or those given).

    ``summary`` and ``payments`` get a total row; ``by_party`` adds each
    party's money over the portfolios (per role); ``tie_out`` checks, per
    portfolio and kind of money, that the parties' cents add up to the
    portfolio's total (and ``payable`` to money less offsets).
    """
    m = pd.Timestamp(month_end)
    ids = _as_ids(portfolio_ids)
    summ = filter_frame(summary, m, m, ids).sort_values("portfolio_id").reset_index(drop=True)
    pay = filter_frame(payments, m, m, ids).sort_values(["portfolio_id", "party", "role"]).reset_index(drop=True)
    alloc = filter_frame(allocation, m, m, ids).sort_values(["portfolio_id", "rights_holder"]).reset_index(drop=True)
    cd = cdsc.copy()
    cd = cd[(cd["date"] + pd.offsets.MonthEnd(0)) == m] if not cd.empty else cd
    if ids is not None:
        cd = cd[cd["portfolio_id"].isin(ids)]
    cd = cd.reset_index(drop=True)
    ex = exceptions[exceptions["month_end"] == m]
    if ids is not None:
        ex = ex[ex["portfolio_id"].isin(ids)]
    ex = ex.reset_index(drop=True)
    due = pd.Timestamp(summ["due_date"].iloc[0]) if not summ.empty else None

    money = ["distribution_fee", "cdsc", "service_fee", "offset", "payable"]
    by_party = pay.groupby(["party", "role"], as_index=False)[money].sum()
    by_party[money] = by_party[money].round(2)
    by_party["due_date"] = due
    by_party = by_party.sort_values(["party", "role"]).reset_index(drop=True)

    checks: list[dict] = []
    for pid, srow in summ.set_index("portfolio_id").iterrows():
        prows = pay[pay["portfolio_id"] == pid]
        for col, label in MONEY_KINDS.items():
            parties = _cents(prows[col].sum())
            total = _cents(srow[col])
            checks.append({"portfolio_id": pid, "item": label, "portfolio_total": total, "parties": parties,
                           "difference": _cents(parties - total), "ok": abs(parties - total) < 0.005})
        gross = prows["distribution_fee"] + prows["cdsc"] + prows["service_fee"] - prows["offset"]
        pay_sum, net = _cents(prows["payable"].sum()), _cents(gross.sum())
        checks.append({"portfolio_id": pid, "item": "Payable = money - offsets", "portfolio_total": net,
                       "parties": pay_sum, "difference": _cents(pay_sum - net), "ok": abs(pay_sum - net) < 0.005})
    tie = pd.DataFrame(checks, columns=["portfolio_id", "item", "portfolio_total", "parties", "difference", "ok"])

    totals = {c: _cents(summ[c].sum()) for c in ["average_net_assets", *MONEY_KINDS, "cdsc_waived"]}
    totals.update({f"payments_{c}": _cents(pay[c].sum()) for c in money})
    return Statement(m, due, ids, summ, pay, by_party, alloc, cd, ex, tie, totals)


def _with_total(frame: pd.DataFrame, label_col: str, sum_cols: Sequence[str], label: str = "Total",
                fill: dict[str, object] | None = None) -> pd.DataFrame:
    """``frame`` with a total row: ``sum_cols`` added up, ``fill`` values elsewhere, '' in other text columns."""
    if frame.empty:
        return frame.copy()
    total: dict[str, object] = {c: "" for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])}
    total.update(fill or {})
    total.update({c: _cents(frame[c].sum()) for c in sum_cols})
    total[label_col] = label
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def statement_sheets(s: Statement, portfolio_names: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The statement's views as display frames (readable headers, total rows), one per sheet."""
    names = portfolio_names or {}
    money = ["distribution_fee", "cdsc", "service_fee", "offset", "payable"]
    summ = s.summary.drop(columns=["month_end"])
    summ.insert(1, "name", summ["portfolio_id"].map(names).fillna(""))
    summ = _with_total(summ, "portfolio_id", ["average_net_assets", "distribution_fee", "service_fee", "cdsc", "cdsc_waived"],
                       fill={"shares_outstanding": float(s.summary["shares_outstanding"].sum()), "due_date": s.due_date})
    summ = summ.rename(columns={
        "portfolio_id": "Portfolio", "name": "Name", "average_net_assets": "Average net assets",
        "distribution_fee": "Distribution Fee", "service_fee": "Service fee", "cdsc": "CDSC",
        "cdsc_waived": "CDSC waived", "shares_outstanding": "Shares outstanding", "due_date": "Due date",
    })

    pay_parts = []
    for pid, group in s.payments.groupby("portfolio_id", sort=True):
        g = group.drop(columns=["month_end"]).copy()
        g["role"] = g["role"].map(lambda r: ROLE_LABELS.get(r, r))
        sub = {c: _cents(group[c].sum()) for c in money}
        sub.update({"portfolio_id": pid, "party": "Subtotal", "role": "", "due_date": s.due_date})
        pay_parts.append(pd.concat([g, pd.DataFrame([sub])], ignore_index=True))
    pay = pd.concat(pay_parts, ignore_index=True) if pay_parts else s.payments.drop(columns=["month_end"]).copy()
    if not s.payments.empty:
        grand = {c: _cents(s.payments[c].sum()) for c in money}
        grand.update({"portfolio_id": "Total", "party": "", "role": "", "due_date": s.due_date})
        pay = pd.concat([pay, pd.DataFrame([grand])], ignore_index=True)
    pay = pay.rename(columns={
        "portfolio_id": "Portfolio", "party": "Party", "role": "Role", "distribution_fee": "Distribution Fee",
        "cdsc": "CDSC", "service_fee": "Service fee", "offset": "Offset", "payable": "Payable", "due_date": "Due date",
    })

    party = s.by_party.copy()
    party["role"] = party["role"].map(lambda r: ROLE_LABELS.get(r, r))
    party = _with_total(party, "party", money, fill={"due_date": s.due_date})
    party = party.rename(columns={
        "party": "Party", "role": "Role", "distribution_fee": "Distribution Fee", "cdsc": "CDSC",
        "service_fee": "Service fee", "offset": "Offset", "payable": "Payable", "due_date": "Due date",
    })

    alloc = s.allocation.drop(columns=["month_end"]).rename(columns={
        "portfolio_id": "Portfolio", "rights_holder": "Rights holder", "commission_shares": "Commission Shares",
        "free_shares": "Free Shares (ordinary)", "omnibus_free_shares": "Omnibus Free Shares",
        "attributed_shares": "Attributed shares", "share": "12b-1 Share",
    })
    cd = s.cdsc.rename(columns={
        "txn_id": "Transaction", "date": "Date", "portfolio_id": "Portfolio", "account_id": "Account",
        "issue_date": "Issue date", "shares": "Shares", "year_held": "Year held", "rate": "Rate", "base": "Base",
        "cdsc": "CDSC", "waived": "Waived", "rights_holder": "Rights holder",
    })
    ex = s.exceptions.drop(columns=["month_end"]).rename(columns={
        "portfolio_id": "Portfolio", "account_id": "Account", "code": "Code", "detail": "Detail",
    })
    tie = s.tie_out.rename(columns={
        "portfolio_id": "Portfolio", "item": "Item", "portfolio_total": "Portfolio total",
        "parties": "Parties added up", "difference": "Difference", "ok": "Ties out",
    })
    return {"Summary": summ, "Payments": pay, "By party": party, "Allocation": alloc,
            "CDSC": cd, "Exceptions": ex, "Tie-out": tie}


SHEET_MONEY = {"Average net assets", "Distribution Fee", "Service fee", "CDSC", "CDSC waived", "Offset",
               "Payable", "Base", "Waived", "Portfolio total", "Parties added up", "Difference"}
SHEET_SHARES = {"Shares outstanding", "Commission Shares", "Free Shares (ordinary)", "Omnibus Free Shares",
                "Attributed shares", "Shares"}
SHEET_PERCENT = {"12b-1 Share", "Rate"}
SHEET_DATES = {"Due date", "Date", "Issue date"}


def statement_csv(s: Statement, portfolio_names: dict[str, str] | None = None) -> bytes:
    """The statement's payments view (per portfolio and party, subtotals and total) as CSV bytes."""
    sheet = statement_sheets(s, portfolio_names)["Payments"].copy()
    for col in sheet.columns:
        if col in SHEET_DATES:
            sheet[col] = pd.to_datetime(sheet[col]).dt.strftime("%Y-%m-%d").fillna("")
        elif col in SHEET_MONEY:
            sheet[col] = sheet[col].map(lambda v: "" if pd.isna(v) else f"{round(float(v), 2) + 0.0:.2f}")
    return sheet.to_csv(index=False, lineterminator="\n").encode("utf-8")


def statement_excel(s: Statement, portfolio_names: dict[str, str] | None = None) -> bytes:
    """The statement as an Excel workbook (xlsxwriter): one formatted sheet per view."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    sub = wb.add_format({"italic": True, "font_color": "#595959"})
    head = wb.add_format({"bold": True, "bg_color": "#1f4e79", "font_color": "#ffffff", "border": 1, "text_wrap": True, "valign": "top"})
    fmts = {
        "money": wb.add_format({"num_format": '"$"#,##0.00;("$"#,##0.00)'}),
        "shares": wb.add_format({"num_format": "#,##0.000000"}),
        "percent": wb.add_format({"num_format": "0.00%"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "text": wb.add_format({}),
    }
    bold = {k: wb.add_format({"bold": True, "top": 1, **({"num_format": f.num_format} if f.num_format else {})})
            for k, f in fmts.items()}
    sheets = statement_sheets(s, portfolio_names)
    heading = f"Monthly Calculation, {s.month_end:%B %Y}"
    scope = "all portfolios" if s.portfolio_ids is None else ", ".join(s.portfolio_ids)
    due = f"due {s.due_date:%Y-%m-%d}" if s.due_date is not None else "no due date"
    for name, frame in sheets.items():
        ws = wb.add_worksheet(name[:31])
        ws.write(0, 0, f"{heading}: {name}", title)
        ws.write(1, 0, f"Class B Shares, {scope}; {due}", sub)
        row0 = 3
        for j, col in enumerate(frame.columns):
            ws.write(row0, j, col, head)
            kind = ("money" if col in SHEET_MONEY else "shares" if col in SHEET_SHARES
                    else "percent" if col in SHEET_PERCENT else "date" if col in SHEET_DATES else "text")
            width = max(len(str(col)), 12 if kind != "text" else min(60, max([len(str(v)) for v in frame[col]] + [8])))
            ws.set_column(j, j, width + 2)
            for i, v in enumerate(frame[col].tolist()):
                first = str(frame.iloc[i, 0])
                is_total = first in ("Total",) or (frame.shape[1] > 1 and str(frame.iloc[i, 1]) == "Subtotal")
                f = (bold if is_total else fmts)[kind]
                if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
                    ws.write_blank(row0 + 1 + i, j, None, f)
                elif kind == "date":
                    ws.write_datetime(row0 + 1 + i, j, pd.Timestamp(v).to_pydatetime(), f)
                elif isinstance(v, (bool, np.bool_)):
                    ws.write_string(row0 + 1 + i, j, "yes" if v else "NO", f)
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    ws.write_number(row0 + 1 + i, j, float(v), f)
                else:
                    ws.write_string(row0 + 1 + i, j, str(v), f)
        ws.freeze_panes(row0 + 1, 0)
        if frame.empty:
            ws.write(row0 + 1, 0, "(none this month)", sub)
    wb.close()
    return buf.getvalue()


def statement_html(s: Statement, portfolio_names: dict[str, str] | None = None, standalone: bool = True) -> str:
    """The statement as a printable HTML page (summary, payments, by party, tie-out, exceptions).

    ``standalone=False`` gives the styled ``<div class="stmt">`` alone, to embed in a page.
    """
    sheets = statement_sheets(s, portfolio_names)

    def cell(col: str, v: object) -> str:
        if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
            return "<td></td>"
        if col in SHEET_MONEY:
            return f'<td class="n">{html.escape(_fmt_money(float(v)))}</td>'
        if col in SHEET_SHARES:
            return f'<td class="n">{float(v):,.6f}</td>'
        if col in SHEET_PERCENT:
            return f'<td class="n">{float(v) * 100:.2f}%</td>'
        if col in SHEET_DATES:
            return f"<td>{pd.Timestamp(v):%Y-%m-%d}</td>"
        if isinstance(v, (bool, np.bool_)):
            return f"<td>{'yes' if v else '<b>NO</b>'}</td>"
        return f"<td>{html.escape(str(v))}</td>"

    def table(name: str) -> str:
        frame = sheets[name]
        if frame.empty:
            return f"<h2>{name}</h2><p><i>None this month.</i></p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
        body = []
        for row in frame.itertuples(index=False):
            cls = ' class="t"' if str(row[0]) == "Total" or (len(row) > 1 and str(row[1]) == "Subtotal") else ""
            body.append(f"<tr{cls}>" + "".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + "</tr>")
        return f"<h2>{name}</h2><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    scope = "all portfolios" if s.portfolio_ids is None else ", ".join(s.portfolio_ids)
    due = f"{s.due_date:%A, %d %B %Y}" if s.due_date is not None else "–"
    tie = "All totals tie out." if s.ties_out else "<b>Some totals do not tie out: see the tie-out table.</b>"
    parts = [table(n) for n in ("Summary", "Payments", "By party", "Tie-out", "Exceptions")]
    style = """<style>
.stmt { font-family: "Source Sans Pro", Arial, sans-serif; font-size: 11px; color: #111; }
.stmt h1 { font-size: 18px; margin: 0 0 4px 0; } .stmt h2 { font-size: 14px; margin: 18px 0 6px 0; color: #1f4e79; }
.stmt table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
.stmt th { background: #1f4e79; color: #fff; text-align: left; padding: 3px 6px; }
.stmt td { border-bottom: 1px solid #ddd; padding: 2px 6px; }
.stmt td.n { text-align: right; font-variant-numeric: tabular-nums; }
.stmt tr.t td { font-weight: bold; border-top: 1px solid #333; }
.stmt .meta { color: #444; }
@media print { .stmt tr { page-break-inside: avoid; } }
</style>"""
    content = (f'<div class="stmt"><h1>Monthly Calculation: {s.month_end:%B %Y}</h1>'
               f'<p class="meta">Master Distribution Agreement (Class B Shares), {html.escape(scope)}. '
               f"Amounts payable on {due}. {tie}</p>{''.join(parts)}</div>")
    if not standalone:
        return style + content
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Monthly Calculation {s.month_end:%Y-%m}</title>'
            f"{style}</head><body>{content}</body></html>")


# ---------------------------------------------------------------------------
# 6. Data
# ---------------------------------------------------------------------------


def problems_frame(problems: Iterable[object]) -> pd.DataFrame:
    """A rejected feed's problems (``calc.feed.Problem``) as a table: file, line, column, rule."""
    rows = [{"file": p.file, "line": p.line, "column": p.column or "", "rule": p.rule} for p in problems]
    out = pd.DataFrame(rows, columns=["file", "line", "column", "rule"])
    out["line"] = out["line"].astype("Int64")
    return out


def feed_overview(feed: object) -> pd.DataFrame:
    """Rows per table of a feed (``calc.feed.Feed``): table, rows."""
    names = ["portfolios", "tenures", "accounts", "nav", "transactions", "assignments", "offsets", "plan_events"]
    return pd.DataFrame({"table": names, "rows": [len(getattr(feed, n)) for n in names]})


def calculation_overview(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per output table of a calculation: table, rows."""
    return pd.DataFrame({"table": list(tables), "rows": [0 if t is None else len(t) for t in tables.values()]})


__all__ = [
    "MONEY_KINDS", "Payback", "Statement", "change", "assignee_by_portfolio", "assignee_lot_filters", "assignee_stream",
    "assignee_terms", "calculation_overview", "distribution_fee_shares", "feed_overview", "filter_frame",
    "month_ends", "monthly_revenue", "monthly_revenue_by_party", "omnibus_account_history",
    "omnibus_account_totals", "omnibus_accounts_overview", "omnibus_attribution_series", "omnibus_formula_lines",
    "payback", "payback_curve", "payments_schedule", "plan_timeline", "portfolio_labels", "problems_frame",
    "purchase_price", "revenue_by_group", "revenue_comparison", "runoff", "runoff_at", "runoff_totals", "statement",
    "statement_csv", "statement_excel", "statement_html", "statement_sheets", "termination_date",
    "top_portfolios", "twelve_b1_shares",
]
