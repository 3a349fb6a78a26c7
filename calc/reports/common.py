"""What every report shares: labels, month ends, filters by period and portfolio, relative change.

Keys are the engine's names (:mod:`calc.vocabulary` for kinds of money, roles and schedules,
:mod:`calc.report` for columns); the labels are for display.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from calc.vocabulary import (
    CDSC,
    DISTRIBUTION_FEE,
    ROLE_ASSIGNEE,
    ROLE_DISTRIBUTOR,
    ROLE_RIGHTS_HOLDER,
    SCHEDULES,
    SERVICE_FEE,
)

# The three kinds of money, in the order the reports show them.
MONEY_KINDS: dict[str, str] = {
    DISTRIBUTION_FEE: "Distribution Fee",
    SERVICE_FEE: "Service fee",
    CDSC: "CDSC",
}
SCHEDULE_LABELS: dict[str, str] = dict(zip(SCHEDULES, ("A-1 (AIM)", "A-2 (INVESCO)"), strict=True))
PORTFOLIO_COLUMNS = ["portfolio_id", "name", "fund", "schedule"]  # of the feed's portfolios, beside the money
ROLE_LABELS: dict[str, str] = {
    ROLE_RIGHTS_HOLDER: "rights holder",
    ROLE_ASSIGNEE: "assignee",
    ROLE_DISTRIBUTOR: "distributor (service fee)",
}

# The header of each column of the engine's tables (and of the tie-out) where a
# report shows it with a readable header (the statement's sheets).
COLUMN_LABELS: dict[str, str] = {
    "portfolio_id": "Portfolio",
    "name": "Name",
    "party": "Party",
    "role": "Role",
    "rights_holder": "Rights holder",
    "account_id": "Account",
    "txn_id": "Transaction",
    "date": "Date",
    "issue_date": "Issue date",
    "due_date": "Due date",
    "average_net_assets": "Average net assets",
    DISTRIBUTION_FEE: MONEY_KINDS[DISTRIBUTION_FEE],
    SERVICE_FEE: MONEY_KINDS[SERVICE_FEE],
    CDSC: MONEY_KINDS[CDSC],
    "cdsc_waived": "CDSC waived",
    "offset": "Offset",
    "payable": "Payable",
    "base": "Base",
    "waived": "Waived",
    "rate": "Rate",
    "year_held": "Year held",
    "shares": "Shares",
    "shares_outstanding": "Shares outstanding",
    "commission_shares": "Commission Shares",
    "free_shares": "Free Shares (ordinary)",
    "omnibus_free_shares": "Omnibus Free Shares",
    "attributed_shares": "Attributed shares",
    "share": "12b-1 Share",
    "code": "Code",
    "detail": "Detail",
    "item": "Item",
    "portfolio_total": "Portfolio total",
    "parties": "Parties added up",
    "difference": "Difference",
    "ok": "Ties out",
}


def month_ends(summary: pd.DataFrame) -> list[pd.Timestamp]:
    """The month ends present in ``summary``, oldest first."""
    if summary is None or summary.empty:
        return []
    return sorted(pd.to_datetime(summary["month_end"]).drop_duplicates())


def as_ids(portfolio_ids: str | Iterable[str] | None) -> list[str] | None:
    """A portfolio choice as a list of ids; None for all portfolios ('' or empty means all)."""
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
    ids = as_ids(portfolio_ids)
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


def date_text(dates: pd.Series, missing: str = "open") -> pd.Series:
    """Dates as ``2020-06-30``; a missing one (an end date not set: still running) as ``missing``."""
    parsed = pd.to_datetime(dates, errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), missing).astype(object)


def cents(value: float) -> float:
    """A sum of cent amounts, cleaned of binary noise."""
    return float(round(float(value), 2))


__all__ = [
    "COLUMN_LABELS", "MONEY_KINDS", "PORTFOLIO_COLUMNS", "ROLE_LABELS", "SCHEDULE_LABELS", "as_ids", "cents", "change", "date_text", "filter_frame",
    "month_ends", "portfolio_labels",
]
