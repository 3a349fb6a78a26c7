"""The Monthly Calculation: feed in, the six tables of RULES.md section 8 out.

``monthly_calculation`` runs the ledger (sections 3-4), the attribution
(section 5) and the money (section 6), then lays the results out as
``calc.report.MonthlyCalculation``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd

from calc import money
from calc.attribution import Attribution, attribute
from calc.calendar import due_dates, month_end_of_index, month_index
from calc.feed import Feed
from calc.ledger import LedgerChanges, Parties, build_tenures, walk
from calc.report import COLUMNS, LOT_COLUMNS, MonthlyCalculation, empty_table

Progress = Callable[..., None]


def _parties(feed: Feed) -> Parties:
    portfolios = sorted(feed.portfolios["portfolio_id"].tolist())
    holders = sorted(set(feed.tenures["rights_holder"]))
    accounts = sorted(feed.accounts["account_id"].tolist())
    return Parties(portfolios, holders, accounts)


def feed_months(feed: Feed) -> np.ndarray:
    """Month indices from the earliest to the latest transaction or NAV date (section 6)."""
    ends = feed.months()
    if len(ends) == 0:
        return np.array([], dtype=np.int64)
    return month_index(ends.values.astype("datetime64[D]"))


def monthly_calculation(feed: Feed, progress: Progress | None = None) -> MonthlyCalculation:
    """Compute every month of ``feed`` (RULES.md sections 3-8)."""
    say = progress or (lambda *a, **k: None)
    months = feed_months(feed)
    if len(months) == 0:
        return MonthlyCalculation(**{name: empty_table(name) for name in COLUMNS})
    parties = _parties(feed)
    tenures = build_tenures(feed, parties)
    say(f"ledger: {len(feed.transactions):,} transactions in {feed.transactions['account_id'].nunique():,} accounts")
    changes = walk(feed, parties, tenures, int(months[-1]), progress=progress)
    say("attribution: Exhibit A 2(a)-(c) and the 12b-1 Share")
    attribution = attribute(changes, parties, tenures, months)
    say("money: accruals, CDSCs, assignments, offsets, rounding")
    result = _money_tables(feed, parties, tenures, months, attribution, changes)
    say("done")
    return result


def _money_tables(
    feed: Feed,
    parties: Parties,
    tenures,
    months: np.ndarray,
    att: Attribution,
    changes: LedgerChanges,
) -> MonthlyCalculation:
    accruals = money.accrue_fees(feed, parties, tenures, months, att.share)
    parts = money.cdsc_parts(feed, parties, changes)
    cdsc_parties, cdsc_totals = money.cdsc_accruals(parts, feed)
    all_parties = pd.concat([accruals.parties, cdsc_parties], ignore_index=True)
    all_totals = pd.concat([accruals.totals, cdsc_totals[["month", "portfolio_id", "kind", "total"]]], ignore_index=True)
    split = money.split_cents(all_parties, all_totals)

    month_end = dict(zip(months, month_end_of_index(months), strict=True))
    due = dict(zip(months, due_dates(month_end_of_index(months)).to_numpy(), strict=True))

    payments = _payments(feed, parties, tenures, months, split, month_end, due)
    offsets_applied, unapplied = money.apply_offsets(
        payments[payments["role"] == money.ROLE_RIGHTS_HOLDER].rename(
            columns={"distribution_fee": "distribution_fee_cents", "cdsc": "cdsc_cents"}
        )[["month", "portfolio_id", "party", "distribution_fee_cents", "cdsc_cents"]],
        feed.offsets,
        months,
    )
    payments = payments.merge(
        offsets_applied.assign(role=money.ROLE_RIGHTS_HOLDER), on=["month", "portfolio_id", "party", "role"], how="left"
    )
    payments["offset"] = payments["offset_cents"].fillna(0).astype(np.int64)
    for col in ("distribution_fee", "cdsc", "service_fee"):
        payments[col] = payments[col].astype(np.int64)
    payments["payable"] = payments["distribution_fee"] + payments["cdsc"] + payments["service_fee"] - payments["offset"]
    for col in ("distribution_fee", "cdsc", "service_fee", "offset", "payable"):
        payments[col] = payments[col] / 100.0
    payments["month_end"] = payments["month"].map(month_end)
    payments["due_date"] = payments["month"].map(due)
    payments = payments.sort_values(["month_end", "portfolio_id", "party", "role"], kind="stable")[COLUMNS["payments"]]

    summary = _summary(parties, months, att, accruals, cdsc_totals, month_end, due)
    allocation = _allocation(parties, tenures, months, att)
    omnibus = att.omnibus.reset_index(drop=True)
    exceptions = _exceptions(att, unapplied, months[-1], month_end)
    cdsc_table = parts.sort_values(["date", "txn_id"], kind="stable")[COLUMNS["cdsc"]].reset_index(drop=True)
    lots = _lots(changes, parties, months, month_end)
    return MonthlyCalculation(
        summary=summary.reset_index(drop=True),
        allocation=allocation.reset_index(drop=True),
        payments=payments.reset_index(drop=True),
        omnibus=omnibus,
        cdsc=cdsc_table,
        exceptions=exceptions.reset_index(drop=True),
        omnibus_accounts=att.omnibus_accounts,
        lots=lots,
    )


def _payments(feed, parties, tenures, months, split, month_end, due) -> pd.DataFrame:
    """One row per month, portfolio, party and role: tenure rights holders, assignees in effect,
    and every party with money."""
    money_rows = split.pivot_table(
        index=["month", "portfolio_id", "party", "role"], columns="kind", values="cents", aggfunc="sum", fill_value=0
    )
    for kind in money.KINDS_OF_MONEY:
        if kind not in money_rows.columns:
            money_rows[kind] = 0
    money_rows = money_rows[list(money.KINDS_OF_MONEY)].reset_index()
    money_rows.columns.name = None

    pairs = feed.tenures[["portfolio_id", "rights_holder"]].drop_duplicates()
    keys = [pd.DataFrame({
        "month": np.tile(months, len(pairs)),
        "portfolio_id": np.repeat(pairs["portfolio_id"].to_numpy(dtype=object), len(months)),
        "party": np.repeat(pairs["rights_holder"].to_numpy(dtype=object), len(months)),
        "role": money.ROLE_RIGHTS_HOLDER,
    })]
    a = feed.assignments
    for assignment in a.itertuples(index=False):
        start = month_index(np.array([assignment.start_date], dtype="datetime64[D]"))[0]
        end = months[-1] if pd.isna(assignment.end_date) else month_index(np.array([assignment.end_date], dtype="datetime64[D]"))[0]
        covered = months[(months >= start) & (months <= end)]
        portfolios = [assignment.portfolio_id] if assignment.portfolio_id else parties.portfolios
        keys.append(pd.DataFrame({
            "month": np.tile(covered, len(portfolios)),
            "portfolio_id": np.repeat(np.array(portfolios, dtype=object), len(covered)),
            "party": assignment.assignee,
            "role": money.ROLE_ASSIGNEE,
        }))
    key_frame = pd.concat(keys, ignore_index=True).drop_duplicates()
    frame = key_frame.merge(money_rows, on=["month", "portfolio_id", "party", "role"], how="outer")
    for kind in money.KINDS_OF_MONEY:
        frame[kind] = frame[kind].fillna(0).astype(np.int64)
    return frame


def _summary(parties, months, att: Attribution, accruals, cdsc_totals, month_end, due) -> pd.DataFrame:
    n_m, n_p = len(months), len(parties.portfolios)
    frame = pd.DataFrame({
        "month": np.repeat(months, n_p),
        "portfolio_id": np.tile(np.array(parties.portfolios, dtype=object), n_m),
        "shares_outstanding": att.outstanding.reshape(-1),
    })
    ana = accruals.average_net_assets.rename(columns={"average_net_assets": "ana"})
    frame = frame.merge(ana, on=["month", "portfolio_id"], how="left")
    totals = accruals.totals.pivot_table(index=["month", "portfolio_id"], columns="kind", values="total", aggfunc="first")
    totals = totals.reset_index() if not totals.empty else pd.DataFrame(columns=["month", "portfolio_id"])
    totals.columns.name = None
    frame = frame.merge(totals, on=["month", "portfolio_id"], how="left")
    if not cdsc_totals.empty:
        frame = frame.merge(
            cdsc_totals[["month", "portfolio_id", "total", "waived"]].rename(columns={"total": "cdsc_total"}),
            on=["month", "portfolio_id"], how="left",
        )
    else:
        frame["cdsc_total"] = None
        frame["waived"] = None

    def cents(col):
        return [float(money.round_cents(v)) if isinstance(v, Decimal) else 0.0 for v in frame.get(col, [None] * len(frame))]

    frame["average_net_assets"] = cents("ana")
    frame["distribution_fee"] = cents(money.DISTRIBUTION_FEE)
    frame["service_fee"] = cents(money.SERVICE_FEE)
    frame["cdsc"] = cents("cdsc_total")
    frame["cdsc_waived"] = cents("waived")
    frame["month_end"] = frame["month"].map(month_end)
    frame["due_date"] = frame["month"].map(due)
    return frame.sort_values(["month_end", "portfolio_id"], kind="stable")[COLUMNS["summary"]]


def _allocation(parties, tenures, months, att: Attribution) -> pd.DataFrame:
    """Rows for each tenure rights holder, and any other from its first month with attributed shares."""
    n_m, n_p, n_h = att.share.shape
    t_idx, p_idx, h_idx = np.meshgrid(np.arange(n_m), np.arange(n_p), np.arange(n_h), indexing="ij")
    tenure_holder = np.zeros((n_p, n_h), dtype=bool)
    for pi in range(n_p):
        tenure_holder[pi, np.unique(tenures.holders[pi])] = True
    has_value = (np.abs(att.commission) + np.abs(att.free) + np.abs(att.omnibus_free) + np.abs(att.share)) > 0
    seen = np.maximum.accumulate(has_value, axis=0)
    keep = tenure_holder[p_idx, h_idx] | seen
    t, p, h = t_idx[keep], p_idx[keep], h_idx[keep]
    attributed = att.attributed
    return pd.DataFrame({
        "month_end": att.month_ends[t],
        "portfolio_id": np.array(parties.portfolios, dtype=object)[p],
        "rights_holder": np.array(parties.holders, dtype=object)[h],
        "commission_shares": att.commission[t, p, h],
        "free_shares": att.free[t, p, h],
        "omnibus_free_shares": att.omnibus_free[t, p, h],
        "attributed_shares": attributed[t, p, h],
        "share": att.share[t, p, h],
    }).sort_values(["month_end", "portfolio_id", "rights_holder"], kind="stable")


def _exceptions(att: Attribution, unapplied: pd.DataFrame, last_month: int, month_end) -> pd.DataFrame:
    frames = [att.exceptions]
    if not unapplied.empty:
        frames.append(pd.DataFrame({
            "month_end": month_end[last_month],
            "portfolio_id": unapplied["portfolio_id"],
            "account_id": "",
            "code": money.OFFSET_UNAPPLIED,
            "detail": [f"{money.round_cents(a):.2f} of the claims against {p} unapplied" for a, p in zip(unapplied["amount"], unapplied["party"], strict=True)],
        }))
    frame = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(not f.empty for f in frames) else empty_table("exceptions")
    if frame.empty:
        return frame
    return frame.sort_values(["month_end", "portfolio_id", "account_id", "code"], kind="stable")


def _lots(changes: LedgerChanges, parties, months, month_end) -> pd.DataFrame:
    """Commission Shares and their cost by month end, portfolio, rights holder and issue year."""
    if not changes.lots:
        return pd.DataFrame({c: [] for c in LOT_COLUMNS})
    keys = np.array(list(changes.lots.keys()), dtype=np.int64)
    vals = np.array(list(changes.lots.values()), dtype=float)
    frame = pd.DataFrame({"month": keys[:, 0], "p": keys[:, 1], "h": keys[:, 2], "issue_year": keys[:, 3],
                          "d_shares": vals[:, 0], "d_cost": vals[:, 1]})
    grid = frame.groupby(["p", "h", "issue_year", "month"])[["d_shares", "d_cost"]].sum()
    grid = grid.unstack("month", fill_value=0.0).reindex(columns=pd.MultiIndex.from_product([["d_shares", "d_cost"], months]), fill_value=0.0)
    shares = np.cumsum(grid["d_shares"].to_numpy(), axis=1)
    cost = np.cumsum(grid["d_cost"].to_numpy(), axis=1)
    idx = grid.index.to_frame(index=False)
    n_m = len(months)
    out = pd.DataFrame({
        "month_end": np.tile(month_end_of_index(months), len(idx)),
        "portfolio_id": np.repeat(np.array(parties.portfolios, dtype=object)[idx["p"].to_numpy()], n_m),
        "rights_holder": np.repeat(np.array(parties.holders, dtype=object)[idx["h"].to_numpy()], n_m),
        "issue_year": np.repeat(idx["issue_year"].to_numpy(), n_m),
        "commission_shares": shares.reshape(-1),
        "cost": cost.reshape(-1),
    })
    out = out[np.abs(out["commission_shares"]) > 1e-6]
    return out.sort_values(["month_end", "portfolio_id", "rights_holder", "issue_year"], kind="stable").reset_index(drop=True)
