"""The monthly statement: one month's numbers per portfolio and party, its tie-out, and its sheets.

:func:`statement` gathers a month of the calculation (the Monthly Calculation
page and its downloads); :func:`statement_sheets` gives its views as display
frames (readable headers from :data:`calc.reports.common.COLUMN_LABELS`,
subtotal and total rows); :data:`SHEET_KINDS` says which headers are money,
shares, percents and dates, from the engine's table definitions.  Writing
them out (CSV, Excel, HTML) is :mod:`calc.reports.render`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from calc.report import DATE_COLUMNS, FRACTION_COLUMNS, MONEY_COLUMNS, SHARE_COLUMNS
from calc.reports.common import COLUMN_LABELS, MONEY_KINDS, ROLE_LABELS, as_ids, cents, filter_frame
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, SERVICE_FEE

PAYMENT_MONEY = MONEY_COLUMNS["payments"]  # distribution_fee, cdsc, service_fee, offset, payable
SUMMARY_MONEY = MONEY_COLUMNS["summary"]  # average_net_assets, distribution_fee, service_fee, cdsc, cdsc_waived
TIE_OUT_COLUMNS = ["portfolio_id", "item", "portfolio_total", "parties", "difference", "ok"]
TIE_OUT_MONEY = ["portfolio_total", "parties", "difference"]
SHEET_TABLES = ("summary", "payments", "allocation", "cdsc")  # the engine's tables with numbers on the sheets


def _headers(columns: Mapping[str, Sequence[str]], extra: Sequence[str] = ()) -> frozenset[str]:
    """The sheets' headers of the engine's columns of one kind (``month_end`` is not on a sheet)."""
    names = [c for table in SHEET_TABLES for c in columns.get(table, []) if c != "month_end"]
    return frozenset(COLUMN_LABELS[c] for c in [*names, *extra])


# The headers of each kind of column on the statement's sheets (the renderers' and the page's formats).
SHEET_KINDS: dict[str, frozenset[str]] = {
    "money": _headers(MONEY_COLUMNS, TIE_OUT_MONEY),
    "shares": _headers(SHARE_COLUMNS),
    "percent": _headers(FRACTION_COLUMNS),
    "dates": _headers(DATE_COLUMNS),
}


def sheet_kinds(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The columns of a sheet by kind (money, shares, percent, dates); kinds without a column left out."""
    kinds = {kind: [c for c in frame.columns if c in headers] for kind, headers in SHEET_KINDS.items()}
    return {kind: cols for kind, cols in kinds.items() if cols}


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
    party: str | None = None  # the payments, by party, allocation and CDSC of this party only
    whole: tuple[str, ...] = ()  # the sheets that stay of the whole portfolios with a party chosen

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
    party: str | None = None,
) -> Statement:
    """The statement of ``month_end`` (all portfolios, or those given), for every party or one.

    ``summary`` and ``payments`` get a total row; ``by_party`` adds each
    party's money over the portfolios (per role); ``tie_out`` checks, per
    portfolio and kind of money, that the parties' cents add up to the
    portfolio's total (and ``payable`` to money less offsets).  With
    ``party``, the payments, by party and the ``payments_*`` totals are that
    party's; the allocation and CDSC rows too where it is a rights holder;
    the summary, exceptions and tie-out stay of the whole portfolios (named
    in ``whole``).
    """
    m = pd.Timestamp(month_end)
    ids = as_ids(portfolio_ids)
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

    by_party = pay.groupby(["party", "role"], as_index=False)[PAYMENT_MONEY].sum()
    by_party[PAYMENT_MONEY] = by_party[PAYMENT_MONEY].round(2)
    by_party["due_date"] = due
    by_party = by_party.sort_values(["party", "role"]).reset_index(drop=True)

    checks: list[dict] = []
    for pid, srow in summ.set_index("portfolio_id").iterrows():
        prows = pay[pay["portfolio_id"] == pid]
        for col, label in MONEY_KINDS.items():
            parties = cents(prows[col].sum())
            total = cents(srow[col])
            checks.append({"portfolio_id": pid, "item": label, "portfolio_total": total, "parties": parties,
                           "difference": cents(parties - total), "ok": abs(parties - total) < 0.005})
        gross = prows[DISTRIBUTION_FEE] + prows[CDSC] + prows[SERVICE_FEE] - prows["offset"]
        pay_sum, net = cents(prows["payable"].sum()), cents(gross.sum())
        checks.append({"portfolio_id": pid, "item": "Payable = money - offsets", "portfolio_total": net,
                       "parties": pay_sum, "difference": cents(pay_sum - net), "ok": abs(pay_sum - net) < 0.005})
    tie = pd.DataFrame(checks, columns=TIE_OUT_COLUMNS)

    whole: tuple[str, ...] = ()
    if party is not None:
        pay = pay[pay["party"] == party].reset_index(drop=True)
        by_party = by_party[by_party["party"] == party].reset_index(drop=True)
        whole = ("Summary", "Exceptions", "Tie-out")
        if (alloc["rights_holder"] == party).any() or (cd["rights_holder"] == party).any():
            alloc = alloc[alloc["rights_holder"] == party].reset_index(drop=True)
            cd = cd[cd["rights_holder"] == party].reset_index(drop=True)
        else:
            whole = ("Summary", "Allocation", "CDSC", "Exceptions", "Tie-out")
    totals = {c: cents(summ[c].sum()) for c in SUMMARY_MONEY}
    totals.update({f"payments_{c}": cents(pay[c].sum()) for c in PAYMENT_MONEY})
    return Statement(m, due, ids, summ, pay, by_party, alloc, cd, ex, tie, totals, party, whole)


def _with_total(frame: pd.DataFrame, label_col: str, sum_cols: Sequence[str], label: str = "Total",
                fill: dict[str, object] | None = None) -> pd.DataFrame:
    """``frame`` with a total row: ``sum_cols`` added up, ``fill`` values elsewhere, '' in other text columns."""
    if frame.empty:
        return frame.copy()
    total: dict[str, object] = {c: "" for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])}
    total.update(fill or {})
    total.update({c: cents(frame[c].sum()) for c in sum_cols})
    total[label_col] = label
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def _role_labels(roles: pd.Series) -> pd.Series:
    return roles.map(lambda r: ROLE_LABELS.get(r, r))


def statement_sheets(s: Statement, portfolio_names: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The statement's views as display frames (readable headers, total rows), one per sheet."""
    names = portfolio_names or {}
    summ = s.summary.drop(columns=["month_end"])
    summ.insert(1, "name", summ["portfolio_id"].map(names).fillna(""))
    summ = _with_total(summ, "portfolio_id", SUMMARY_MONEY,
                       fill={"shares_outstanding": float(s.summary["shares_outstanding"].sum()), "due_date": s.due_date})

    pay_parts = []
    for pid, group in s.payments.groupby("portfolio_id", sort=True):
        g = group.drop(columns=["month_end"]).copy()
        g["role"] = _role_labels(g["role"])
        sub = {c: cents(group[c].sum()) for c in PAYMENT_MONEY}
        sub.update({"portfolio_id": pid, "party": "Subtotal", "role": "", "due_date": s.due_date})
        pay_parts.append(pd.concat([g, pd.DataFrame([sub])], ignore_index=True))
    pay = pd.concat(pay_parts, ignore_index=True) if pay_parts else s.payments.drop(columns=["month_end"]).copy()
    if not s.payments.empty:
        grand = {c: cents(s.payments[c].sum()) for c in PAYMENT_MONEY}
        grand.update({"portfolio_id": "Total", "party": "", "role": "", "due_date": s.due_date})
        pay = pd.concat([pay, pd.DataFrame([grand])], ignore_index=True)

    party = s.by_party.copy()
    party["role"] = _role_labels(party["role"])
    party = _with_total(party, "party", PAYMENT_MONEY, fill={"due_date": s.due_date})

    sheets = {
        "Summary": summ,
        "Payments": pay,
        "By party": party,
        "Allocation": s.allocation.drop(columns=["month_end"]),
        "CDSC": s.cdsc,
        "Exceptions": s.exceptions.drop(columns=["month_end"]),
        "Tie-out": s.tie_out,
    }
    return {name: frame.rename(columns=COLUMN_LABELS) for name, frame in sheets.items()}


__all__ = ["SHEET_KINDS", "Statement", "sheet_kinds", "statement", "statement_sheets"]
