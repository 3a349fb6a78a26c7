"""Revenue: this month and year to date against a year earlier; money by month, party, Fund and schedule; top portfolios.

The Revenue page shows these (``summary`` and ``payments`` of the calculation,
``portfolios`` of the feed).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from calc.report import MONEY_COLUMNS
from calc.reports.common import (
    MONEY_KINDS,
    PORTFOLIO_COLUMNS,
    SCHEDULE_LABELS,
    cents,
    change,
    filter_frame,
)
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, SERVICE_FEE


def _rounded_with_total(out: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``cols`` rounded to the cent and their ``total``."""
    out[cols] = out[cols].round(2)
    out["total"] = out[cols].sum(axis=1).round(2)
    return out


def _prior_year(month_end: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(month_end) - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)


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
        rows[label] = {k: cents(v[col].sum()) for k, v in periods.items()}
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


__all__ = ["monthly_revenue", "monthly_revenue_by_party", "revenue_by_group", "revenue_comparison", "top_portfolios"]
