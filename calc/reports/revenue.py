"""Revenue: this month and year to date against a year earlier; money by month, party, Fund and schedule; top portfolios.

The Revenue page shows these (``summary`` and ``payments`` of the calculation,
``portfolios`` and ``assignments`` of the feed).  Every function that adds
money up takes a *money frame* (:func:`money_frame`): per month and portfolio
the money of the whole complex, or of one party, so that the same report
follows the party filter.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from calc.report import MONEY_COLUMNS
from calc.reports.common import (
    MONEY_KINDS,
    PORTFOLIO_COLUMNS,
    ROLE_LABELS,
    SCHEDULE_LABELS,
    cents,
    change,
    filter_frame,
)
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, ROLE_ASSIGNEE, SERVICE_FEE

OFFSET, PAYABLE, NET_ASSETS = "offset", "payable", "average_net_assets"
MONEY_FRAME_COLUMNS = ["month_end", "portfolio_id", *MONEY_KINDS, OFFSET, PAYABLE, NET_ASSETS]
NET_OF_OFFSETS = "Net of offsets"
PARTY_REVENUE_COLUMNS = [
    "party", "role", "assigned_by", DISTRIBUTION_FEE, CDSC, SERVICE_FEE, "gross", "assigned", OFFSET, "retained",
]
PERIOD_COLUMNS = [*MONEY_KINDS, "total", OFFSET, PAYABLE, NET_ASSETS, "fee_rate", "months"]


def money_frame(summary: pd.DataFrame, payments: pd.DataFrame, party: str | None = None) -> pd.DataFrame:
    """Each month's and portfolio's money as the reports add it up, for the complex or one party.

    ``party=None``: the portfolios' Distribution Fee, service fee and CDSC (``summary``), the offsets
    applied and what is payable to all parties (``payments``).  A party: its own rows of ``payments``
    (a rights holder's Portions after assignments, a distributor's service fee, an assignee's
    Portions), its offsets and what is payable to it.  ``average_net_assets`` is the portfolio's for
    the complex; for a party, the part its Distribution Fee is earned on (the portfolio's average
    net assets x the party's part of the portfolio's fee).  Columns: ``MONEY_FRAME_COLUMNS``.
    """
    keys = ["month_end", "portfolio_id"]
    pay = payments if party is None else payments[payments["party"] == party]
    paid = pay.groupby(keys, as_index=False)[[*MONEY_KINDS, OFFSET, PAYABLE]].sum()
    assets = summary[[*keys, NET_ASSETS, *MONEY_KINDS]]
    if party is None:
        out = assets.merge(paid[[*keys, OFFSET, PAYABLE]], on=keys, how="left")
        out[[OFFSET, PAYABLE]] = out[[OFFSET, PAYABLE]].fillna(0.0)
    else:  # the net assets the party's Distribution Fee is earned on: its part of the portfolio's fee
        out = paid.merge(assets[[*keys, NET_ASSETS, DISTRIBUTION_FEE]], on=keys, how="left", suffixes=("", "_portfolio"))
        whole = out[f"{DISTRIBUTION_FEE}_portfolio"]
        part = (out[DISTRIBUTION_FEE] / whole.where(whole != 0)).fillna(0.0)
        out[NET_ASSETS] = out[NET_ASSETS].fillna(0.0) * part
    return out[MONEY_FRAME_COLUMNS].sort_values(keys).reset_index(drop=True)


def _days(month_end: pd.Series) -> pd.Series:
    return pd.to_datetime(month_end).dt.days_in_month


def _year_days(month_end: pd.Series) -> pd.Series:
    return np.where(pd.to_datetime(month_end).dt.is_leap_year, 366, 365)


def _period_row(frame: pd.DataFrame) -> dict[str, float]:
    """Money added up over ``frame`` (a money frame's rows), its average net assets and fee rate.

    ``average_net_assets`` is the day-weighted average of the months' net assets (each month the
    portfolios' averages added up); ``fee_rate`` the Distribution Fee a year on them:
    sum(fee) x days in the year / sum(net assets x days in the month).
    """
    row = {c: cents(frame[c].sum()) for c in [*MONEY_KINDS, OFFSET, PAYABLE]}
    row["total"] = cents(sum(row[c] for c in MONEY_KINDS))
    monthly = frame.groupby("month_end")[[NET_ASSETS, DISTRIBUTION_FEE]].sum()
    days = _days(pd.Series(monthly.index)).to_numpy()
    weighted = float((monthly[NET_ASSETS].to_numpy() * days).sum())
    year_days = _year_days(pd.Series(monthly.index))
    row[NET_ASSETS] = weighted / days.sum() if len(days) and days.sum() else float("nan")
    row["fee_rate"] = (float((monthly[DISTRIBUTION_FEE].to_numpy() * year_days).sum()) / weighted
                       if weighted else float("nan"))
    row["months"] = int(len(monthly))
    return row


def _rounded_with_total(out: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``cols`` rounded to the cent and their ``total``."""
    out[cols] = out[cols].round(2)
    out["total"] = out[cols].sum(axis=1).round(2)
    return out


def _prior_year(month_end: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(month_end) - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)


def _periods(frame: pd.DataFrame, month_end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The rows of the month, the same month a year earlier, year to date and its prior."""
    m = pd.Timestamp(month_end)
    p = _prior_year(m)
    me = frame["month_end"]
    return {
        "month": frame[me == m],
        "month_prior_year": frame[me == p],
        "ytd": frame[(me >= pd.Timestamp(m.year, 1, 1)) & (me <= m)],
        "ytd_prior_year": frame[(me >= pd.Timestamp(p.year, 1, 1)) & (me <= p)],
    }


def _with_changes(out: pd.DataFrame) -> pd.DataFrame:
    out["month_change"] = [change(a, b) for a, b in zip(out["month"], out["month_prior_year"], strict=True)]
    out["ytd_change"] = [change(a, b) for a, b in zip(out["ytd"], out["ytd_prior_year"], strict=True)]
    return out[["month", "month_prior_year", "month_change", "ytd", "ytd_prior_year", "ytd_change"]]


def revenue_comparison(
    summary: pd.DataFrame,
    month_end: pd.Timestamp,
    portfolio_ids: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """This month and year to date against the same periods a year earlier.

    Index: Distribution Fee, Service fee, CDSC, Total.  Columns: ``month``,
    ``month_prior_year``, ``month_change`` (fraction, NaN when the prior is 0),
    ``ytd``, ``ytd_prior_year``, ``ytd_change``.  On a money frame
    (:func:`money_frame`) two more rows: Offsets and Net of offsets (what is
    payable).  Year to date runs from
    January of ``month_end``'s year to ``month_end``; its prior from January a
    year earlier to the same month a year earlier.
    """
    frame = filter_frame(summary, portfolio_ids=portfolio_ids)
    periods = _periods(frame, month_end)
    rows = {}
    for col, label in MONEY_KINDS.items():
        rows[label] = {k: cents(v[col].sum()) for k, v in periods.items()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.loc["Total"] = out.sum().round(2)
    if OFFSET in frame.columns:  # a money frame: what the offsets took and what is received
        out.loc["Offsets"] = [cents(v[OFFSET].sum()) for v in periods.values()]
        out.loc[NET_OF_OFFSETS] = [cents(v[PAYABLE].sum()) for v in periods.values()]
    return _with_changes(out)


def net_assets_comparison(frame: pd.DataFrame, month_end: pd.Timestamp,
                          portfolio_ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Average net assets and the effective Distribution Fee rate, this month and year to date, against a year earlier.

    ``frame`` is a money frame.  Index: ``average_net_assets``, ``fee_rate`` (a year, as a fraction);
    columns as :func:`revenue_comparison`.
    """
    periods = _periods(filter_frame(frame, portfolio_ids=portfolio_ids), month_end)
    rows = {k: _period_row(v) for k, v in periods.items()}
    out = pd.DataFrame({k: {NET_ASSETS: r[NET_ASSETS], "fee_rate": r["fee_rate"]} for k, r in rows.items()})
    return _with_changes(out)


def annual_revenue(frame: pd.DataFrame, portfolio_ids: str | Iterable[str] | None = None,
                   through: pd.Timestamp | None = None) -> pd.DataFrame:
    """Money by calendar year (the multi-year trend), through ``through`` when given.

    ``frame`` is a money frame.  Columns: year, distribution_fee, service_fee, cdsc, total, offset,
    payable, average_net_assets, fee_rate, months (months in the run that year), last_month.
    """
    frame = filter_frame(frame, end=through, portfolio_ids=portfolio_ids)
    rows = []
    for year, g in frame.groupby(frame["month_end"].dt.year, sort=True):
        rows.append({"year": int(year), **_period_row(g), "last_month": g["month_end"].max()})
    return pd.DataFrame(rows, columns=["year", *PERIOD_COLUMNS, "last_month"])


def year_by_month(frame: pd.DataFrame, year: int, portfolio_ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The full-year table: each month of ``year`` in the run, then the year's total.

    ``frame`` is a money frame.  Columns: month (``Jan 2017`` ... and ``Year 2017``), then those of
    :func:`annual_revenue` but year.
    """
    frame = filter_frame(frame, portfolio_ids=portfolio_ids)
    frame = frame[frame["month_end"].dt.year == int(year)]
    rows = [{"month": f"{m:%b %Y}", **_period_row(g)} for m, g in frame.groupby("month_end", sort=True)]
    if rows:
        rows.append({"month": f"Year {year}", **_period_row(frame)})
    return pd.DataFrame(rows, columns=["month", *PERIOD_COLUMNS])


def assigned_by(assignee_rows: pd.DataFrame, assignments: pd.DataFrame) -> pd.Series:
    """The rights holder that assigned each assignee row of ``payments`` (EIGHTH), by row index.

    The assignment of that assignee covering the row's portfolio (or all portfolios) in effect during
    the row's month; a CDSC Portion paid after the window closed goes to the assignment that covered
    the portfolio.  Several rights holders: the first by name.
    """
    if assignee_rows.empty or assignments.empty:
        return pd.Series("", index=assignee_rows.index, dtype=object)
    terms = assignments[["assignee", "rights_holder", "portfolio_id", "start_date", "end_date"]].rename(
        columns={"portfolio_id": "covers"})
    rows = assignee_rows[["month_end", "portfolio_id", "party"]].reset_index(names="row")
    merged = rows.merge(terms, left_on="party", right_on="assignee", how="inner")
    merged = merged[(merged["covers"] == "") | (merged["covers"] == merged["portfolio_id"])]
    month_start = merged["month_end"] - pd.offsets.MonthBegin(1)
    in_window = (merged["start_date"] <= merged["month_end"]) & (
        merged["end_date"].isna() | (merged["end_date"] >= month_start))
    merged = merged.assign(outside=~in_window).sort_values(["row", "outside", "rights_holder"])
    first = merged.drop_duplicates("row").set_index("row")["rights_holder"]
    return first.reindex(assignee_rows.index).fillna("").astype(object)


def party_revenue(
    payments: pd.DataFrame,
    assignments: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    portfolio_ids: str | Iterable[str] | None = None,
    party: str | None = None,
) -> pd.DataFrame:
    """Each party's gross and what it retains after assignments and offsets, over the period.

    A rights holder's gross is the Distribution Fee and CDSC of its shares before assignment (its
    own Portions and those it assigned) and, as distributor, the service fee; ``assigned`` is what
    its assignees received; ``retained`` = gross - assigned - offsets, what is payable to it.  An
    assignee's gross is its Portions (``assigned_by`` names the rights holder), part of the
    assigning rights holder's gross too: add the gross of rights holders and distributors only.
    Columns: ``PARTY_REVENUE_COLUMNS``; with ``party``, that party's row.
    """
    frame = filter_frame(payments, start, end, portfolio_ids)
    money = [DISTRIBUTION_FEE, CDSC, SERVICE_FEE, OFFSET, PAYABLE]
    own = frame.groupby("party")[money].sum()
    roles = frame.groupby("party")["role"].agg(lambda r: ", ".join(ROLE_LABELS.get(x, x) for x in sorted(set(r))))
    assignee_rows = frame[frame["role"] == ROLE_ASSIGNEE]
    holders = assigned_by(assignee_rows, assignments)
    away = assignee_rows.assign(holder=holders).groupby("holder")[[DISTRIBUTION_FEE, CDSC]].sum()
    by_assignee = assignee_rows.assign(holder=holders).groupby("party")["holder"].agg(
        lambda h: ", ".join(sorted({x for x in h if x})))
    out = own.copy()
    out["role"] = roles
    out["assigned_by"] = by_assignee.reindex(out.index).fillna("")
    is_assignee = out["assigned_by"] != ""
    for col in (DISTRIBUTION_FEE, CDSC):
        extra = away[col].reindex(out.index).fillna(0.0).where(~is_assignee, 0.0)
        out[col] = out[col] + extra
    out["assigned"] = (away[DISTRIBUTION_FEE] + away[CDSC]).reindex(out.index).fillna(0.0).where(~is_assignee, 0.0)
    out["gross"] = out[DISTRIBUTION_FEE] + out[CDSC] + out[SERVICE_FEE]
    out["retained"] = out[PAYABLE]
    amounts = [DISTRIBUTION_FEE, CDSC, SERVICE_FEE, "gross", "assigned", OFFSET, "retained"]
    out[amounts] = out[amounts].round(2)
    out = out.reset_index()
    out = out.assign(_assignee=is_assignee.to_numpy()).sort_values(
        ["_assignee", "gross", "party"], ascending=[True, False, True]).drop(columns="_assignee")
    out = out[out[["gross", "retained"]].abs().sum(axis=1) > 0]
    if party is not None:
        out = out[out["party"] == party]
    return out[PARTY_REVENUE_COLUMNS].reset_index(drop=True)


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
    cols = MONEY_COLUMNS["payments"]  # distribution_fee, cdsc, service_fee, offset, payable
    out = frame.groupby(["month_end", "party"], as_index=False)[cols].sum()
    out[cols] = out[cols].round(2)
    out["total"] = (out[DISTRIBUTION_FEE] + out[CDSC] + out[SERVICE_FEE]).round(2)
    active = out.groupby("party")["total"].transform(lambda s: s.abs().sum()) > 0
    out = out[active].sort_values(["month_end", "party"]).reset_index(drop=True)
    return out[["month_end", "party", DISTRIBUTION_FEE, CDSC, SERVICE_FEE, "total", "offset", "payable"]]


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
    out = _rounded_with_total(out, cols)
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
    out = _rounded_with_total(out, cols)
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
    out = _rounded_with_total(out, cols)
    grand = out["total"].sum()
    out["share_of_total"] = out["total"] / grand if grand else float("nan")
    out = out.merge(portfolios[PORTFOLIO_COLUMNS], on="portfolio_id", how="left")
    out = out.sort_values(["total", "portfolio_id"], ascending=[False, True]).head(n).reset_index(drop=True)
    return out[[*PORTFOLIO_COLUMNS, *cols, "total", "share_of_total"]]


YEAR_MONTHS, YEARS, BY_FUND, BY_SCHEDULE, TOP_PORTFOLIOS = BREAKDOWNS = (
    "Year month by month", "Year by year", "By Fund", "By schedule", "Top portfolios")


def breakdown_scope(view: str, year: int, start: pd.Timestamp, end: pd.Timestamp
                    ) -> tuple[int, pd.Timestamp | None, pd.Timestamp | None]:
    """What breakdown ``view`` depends on, as (year, start, end): the chosen year for the year's
    months, nothing for the multi-year trend, the period for the others (0 and None elsewhere),
    so that a cache keyed by it computes a view again only when its own inputs change."""
    if view == YEAR_MONTHS:
        return year, None, None
    if view == YEARS:
        return 0, None, None
    return 0, start, end


def breakdown(view: str, money: pd.DataFrame, portfolios: pd.DataFrame, year: int,
              start: pd.Timestamp | None, end: pd.Timestamp | None,
              portfolio_ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One of the Revenue page's :data:`BREAKDOWNS` of ``money`` (:func:`money_frame`): the months of
    ``year``, the years, or the period ``start``..``end`` by Fund, by schedule or its top ten portfolios."""
    if view == YEAR_MONTHS:
        return year_by_month(money, year, portfolio_ids)
    if view == YEARS:
        return annual_revenue(money, portfolio_ids)
    if view == BY_FUND:
        return revenue_by_group(money, portfolios, "fund", start, end, portfolio_ids)
    if view == BY_SCHEDULE:
        return revenue_by_group(money, portfolios, "schedule", start, end, portfolio_ids)
    if view == TOP_PORTFOLIOS:
        return top_portfolios(money, portfolios, start, end, n=10, portfolio_ids=portfolio_ids)
    raise ValueError(f"no breakdown {view!r}: one of {', '.join(BREAKDOWNS)}")


__all__ = [
    "BREAKDOWNS", "BY_FUND", "BY_SCHEDULE", "MONEY_FRAME_COLUMNS", "NET_OF_OFFSETS", "TOP_PORTFOLIOS", "YEARS",
    "YEAR_MONTHS", "annual_revenue", "breakdown", "breakdown_scope", "assigned_by", "money_frame", "monthly_revenue",
    "monthly_revenue_by_party", "net_assets_comparison", "party_revenue", "revenue_by_group", "revenue_comparison",
    "top_portfolios", "year_by_month",
]
