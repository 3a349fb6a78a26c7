"""The Monthly Calculation: feed in, the six tables of RULES.md section 8 and the
month-end state out.

``compute`` runs the ledger (sections 3-4, ``calc.engine.ledger``), the
attribution (section 5, ``calc.engine.attribution``) and the money (section 6,
``calc.engine.money``), then lays the results out as
``calc.report.MonthlyCalculation`` and hands back the
``calc.engine.state.MonthEndState`` of its last month.  Given that state as
``opening``, a feed of the later transactions and NAVs continues the
calculation: its months equal those of one run over everything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from calc.calendar import month_end_of_index, month_index
from calc.engine import money
from calc.engine.attribution import Attribution, AttributionOpening, attribute
from calc.engine.ledger import (
    LedgerChanges,
    Positions,
    WalkError,
    _codes,
    feed_error,
    merge,
    prepare,
    resolve,
    totals,
    walk,
)
from calc.engine.parties import Parties, Tenures, build_tenures
from calc.engine.state import MonthEndState, empty_frame, reference_checksum
from calc.feed import Feed, FeedError, Problem
from calc.report import COLUMNS, LOT_COLUMNS, MonthlyCalculation, empty_table
from calc.rules.payment import due_dates
from calc.rules.rounding import CENT, round_cents, split_cents
from calc.vocabulary import (
    DISTRIBUTION_FEE,
    KINDS_OF_MONEY,
    OFFSET_UNAPPLIED,
    ROLE_ASSIGNEE,
    ROLE_RIGHTS_HOLDER,
    SERVICE_FEE,
    SHARE_TOLERANCE,
)

Progress = Callable[..., None]


def feed_months(feed: Feed) -> np.ndarray:
    """Month indices from the earliest to the latest transaction or NAV date (section 6);
    a continuation's from the month after its state's."""
    ends = feed.months()
    if len(ends) == 0:
        return np.array([], dtype=np.int64)
    return month_index(ends.values.astype("datetime64[D]"))


def monthly_calculation(feed: Feed, progress: Progress | None = None) -> MonthlyCalculation:
    """Compute every month of ``feed`` (RULES.md sections 3-8)."""
    return compute(feed, progress=progress)[0]


def compute(
    feed: Feed,
    opening: MonthEndState | None = None,
    *,
    through: pd.Timestamp | str | None = None,
    partitions: int = 1,
    distribution_fee_rates: dict[tuple[str, int], float] | None = None,
    client=None,
    progress: Progress | None = None,
) -> tuple[MonthlyCalculation, MonthEndState | None]:
    """The Monthly Calculation of ``feed`` and the state at its last month end.

    With ``opening``, ``feed`` continues that state: its reference tables whole,
    its transactions and NAVs after the state's month end (checked when it was
    read with ``read_feed(folder, opening=state.opening())``); the tables hold
    the months after the state's.  ``through`` (a date) runs the months on to the
    end of its month when the feed's dates stop earlier (a quiet month closed).
    ``distribution_fee_rates`` {(portfolio, month index): rate} replaces the rate in
    those months (projections of a Plan amendment).  ``partitions`` > 1 walks the accounts in that
    many groups and adds their changes up (the same result, to the bit); ``client`` (a
    ``distributed.Client``, see ``calc.engine.cluster``) walks the accounts in slices on
    its workers (the same result, to the bit).
    Returns no state when the feed has no month.
    """
    say = progress or (lambda *a, **k: None)
    if opening is not None:
        opening.check_fits(feed)
        feed = feed if feed.opening_month_end is not None else _as_continuation(feed, opening)
    months = feed_months(feed)
    if through is not None:
        last = int(month_index(np.array([pd.Timestamp(through)], dtype="datetime64[D]"))[0])
        first = int(months[0]) if len(months) else (
            int(month_index(np.array([opening.month_end], dtype="datetime64[D]"))[0]) + 1 if opening is not None else last)
        months = np.arange(first, max(last, int(months[-1]) if len(months) else last) + 1, dtype=np.int64)
    if len(months) == 0:
        return MonthlyCalculation(**{name: empty_table(name) for name in COLUMNS}), opening
    parties = Parties.of(feed)
    tenures = build_tenures(feed, parties)
    start = _Opening.of(opening, feed, parties) if opening is not None else None
    say(f"ledger: {len(feed.transactions):,} transactions, {len(parties.accounts):,} accounts")
    changes = _walk(feed, parties, tenures, int(months[-1]), start, partitions, client, progress)
    ledger_totals = totals(changes)
    say("attribution: Exhibit A 2(a)-(c) and the 12b-1 Share")
    att = attribute(ledger_totals, changes, parties, tenures, months, None if start is None else start.attribution)
    say("money: accruals, CDSCs, assignments, offsets, rounding")
    result, carried, lot_totals = _money_tables(feed, parties, tenures, months, att, changes, ledger_totals, start,
                                                distribution_fee_rates)
    state = _closing_state(feed, parties, months, att, changes, lot_totals, carried, start)
    say("done")
    return result, state


def walk_partitioned(feed: Feed, parties: Parties, tenures: Tenures, last_month: int, groups: int,
                     **kwargs) -> LedgerChanges:
    """The ledger over ``groups`` groups of accounts (every ``groups``-th account code),
    merged: the partition seam the Dask run of the scale work uses."""
    codes = np.arange(len(parties.accounts))
    parts = [walk(feed, parties, tenures, last_month, accounts=codes[g::groups], **kwargs) for g in range(groups)]
    return merge(parts)


def _walk(feed, parties, tenures, last_month, start, partitions, client, progress) -> LedgerChanges:
    kwargs = {} if start is None else {
        "opening": start.positions, "omnibus_known": set(start.attribution.omnibus_first),
    }
    if client is not None:
        from calc.engine.cluster import walk_on_dask

        prepared = prepare(feed, parties, tenures, last_month, **kwargs)
        try:
            changes = walk_on_dask(prepared, client, progress=progress)
        except WalkError as err:
            raise feed_error(err, feed) from None
        return resolve(changes, feed)
    if partitions > 1:
        return walk_partitioned(feed, parties, tenures, last_month, partitions, **kwargs)
    return walk(feed, parties, tenures, last_month, progress=progress, **kwargs)


def _as_continuation(feed: Feed, opening: MonthEndState) -> Feed:
    """A feed checked without its opening: reject what the state already holds."""
    end = opening.month_end
    early = feed.transactions[feed.transactions["date"] <= end]
    problems = [Problem("transactions.csv", int(line), "date",
                        f"the date {d:%Y-%m-%d} is on or before {end:%Y-%m-%d}, the month end of the state")
                for line, d in zip(early["line"], early["date"], strict=True)]
    if (feed.nav["date"] <= end).any():
        problems.append(Problem("nav.csv", None, "date", f"NAVs dated on or before {end:%Y-%m-%d}, the month end "
                                "of the state, belong to the state"))
    if problems:
        raise FeedError(problems)
    return dataclasses.replace(feed, opening_month_end=end)


class _Opening:
    """A MonthEndState in this run's codes: what the walk, the attribution and the money start from."""

    def __init__(self, positions, next_seq, attribution: AttributionOpening, lot_totals: pd.DataFrame,
                 carried: pd.DataFrame, last_nav: pd.DataFrame, lot_months: pd.DataFrame):
        self.positions, self.next_seq, self.attribution = positions, next_seq, attribution
        self.lot_totals, self.carried, self.last_nav = lot_totals, carried, last_nav
        self.lot_months = lot_months

    @classmethod
    def of(cls, state: MonthEndState, feed: Feed, parties: Parties) -> _Opening:
        p_ix, h_ix = parties.portfolio_index, parties.holder_index
        frames = state.frames()
        problems = []
        account_code = {}  # each ledger frame's account codes (-1: not in accounts.csv)
        for name in ("lots", "free_shares", "omnibus_positions", "omnibus"):
            frame = frames[name]
            account_code[name] = codes = parties.account_codes(frame["account_id"])
            unknown = sorted(set(frame["account_id"][codes < 0]))
            if unknown:
                problems.append(f"accounts {', '.join(unknown[:5])} of the state are not in accounts.csv")
            unknown = sorted(set(frame["portfolio_id"].unique()) - set(p_ix))
            if unknown:
                problems.append(f"portfolios {', '.join(unknown[:5])} of the state are not in portfolios.csv")
        # an account whose omnibus flag differs from the positions the state holds for it
        n_a = len(parties.accounts)
        flag = parties.omnibus_flags(feed)
        held_omnibus, held = np.zeros(n_a, dtype=bool), np.zeros(n_a, dtype=bool)
        for name in ("omnibus_positions", "omnibus", "free_shares"):
            codes = account_code[name][account_code[name] >= 0]
            held[codes] = True
            if name != "free_shares":
                held_omnibus[codes] = True
        flipped = np.flatnonzero(held & (flag != held_omnibus))  # codes in name order
        if len(flipped):
            names = ", ".join(parties.accounts[a] for a in flipped[:5])
            problems.append(f"accounts {names} changed their omnibus flag since the state")
        if problems:
            raise FeedError([Problem("accounts.csv", None, None, "; ".join(problems))])

        positions = Positions.of_frames(state.lots, state.free_shares, state.omnibus_positions, state.accounts,
                                        parties, tuple(account_code[n] for n in ("lots", "free_shares",
                                                                                 "omnibus_positions")))
        next_seq = positions.next_seq

        n_p, n_h = len(parties.portfolios), len(parties.holders)
        commission, free, share = np.zeros((n_p, n_h)), np.zeros((n_p, n_h)), np.zeros((n_p, n_h))
        listed = np.zeros((n_p, n_h), dtype=bool)
        at = state.attributed
        pi = np.array([p_ix[p] for p in at["portfolio_id"]], dtype=np.int64)
        hi = np.array([h_ix[h] for h in at["rights_holder"]], dtype=np.int64)
        commission[pi, hi] = at["commission_shares"].to_numpy(dtype=float)
        free[pi, hi] = at["free_shares"].to_numpy(dtype=float)
        share[pi, hi] = at["share"].to_numpy(dtype=float)
        listed[pi, hi] = at["listed"].to_numpy(dtype=bool)
        om = state.omnibus
        month_ends = om["first_month_end"].to_numpy().astype("datetime64[D]")
        pairs = list(zip(_codes(om["portfolio_id"], parties.portfolios).tolist(), account_code["omnibus"].tolist(),
                         strict=True))
        first = dict(zip(pairs, month_index(month_ends).tolist(), strict=True))
        j_of = {pair: j for j, pair in enumerate(pairs)}
        f_tot = om["free_shares"].to_numpy(dtype=float)
        k_h, f_h = np.zeros((len(pairs), n_h)), np.zeros((len(pairs), n_h))
        oh = state.omnibus_holders
        if len(oh):
            j = np.array([j_of[pair] for pair in zip(_codes(oh["portfolio_id"], parties.portfolios).tolist(),
                                                      parties.account_codes(oh["account_id"]).tolist(),
                                                      strict=True)])
            h = np.array([h_ix[x] for x in oh["rights_holder"]])
            f_h[j, h] = oh["free_shares"].to_numpy(dtype=float)
            k_h[j, h] = oh["commission_shares"].to_numpy(dtype=float)
        attribution = AttributionOpening(commission, free, share, listed, first, pairs, f_tot, k_h, f_h)
        carried = state.offsets_carried.rename(columns={"rights_holder": "party"})
        return cls(positions, next_seq, attribution, state.lot_totals, carried, state.last_nav,
                   state.lot_months)


def _money_tables(
    feed: Feed,
    parties: Parties,
    tenures: Tenures,
    months: np.ndarray,
    att: Attribution,
    changes: LedgerChanges,
    ledger_totals,
    start: _Opening | None,
    distribution_fee_rates: dict[tuple[str, int], float] | None = None,
) -> tuple[MonthlyCalculation, pd.DataFrame, pd.DataFrame]:
    accruals = money.accrue_fees(feed, parties, tenures, months, att.share,
                                 opening_share=None if start is None else start.attribution.share,
                                 opening_nav=None if start is None else start.last_nav,
                                 distribution_fee_rates=distribution_fee_rates)
    schedules = dict(zip(feed.portfolios["portfolio_id"], feed.portfolios["cdsc_schedule"], strict=True))
    parts = money.cdsc_parts(changes, parties, schedules)
    cdsc_parties, cdsc_totals = money.cdsc_accruals(parts, feed.assignments, parties.portfolios, parties.holders)
    all_parties = pd.concat([accruals.parties, cdsc_parties], ignore_index=True)
    all_totals = pd.concat([accruals.totals, cdsc_totals[["month", "portfolio_id", "kind", "total"]]], ignore_index=True)
    split = split_cents(all_parties, all_totals)

    month_end = dict(zip(months, month_end_of_index(months), strict=True))
    due = dict(zip(months, due_dates(month_end_of_index(months)).to_numpy(), strict=True))

    payments = _payments(feed, parties, tenures, months, split, month_end, due)
    offsets_applied, unapplied = money.apply_offsets(
        payments[payments["role"] == ROLE_RIGHTS_HOLDER].rename(
            columns={"distribution_fee": "distribution_fee_cents", "cdsc": "cdsc_cents"}
        )[["month", "portfolio_id", "party", "distribution_fee_cents", "cdsc_cents"]],
        feed.offsets,
        months,
        None if start is None else start.carried,
    )
    payments = payments.merge(
        offsets_applied.assign(role=ROLE_RIGHTS_HOLDER), on=["month", "portfolio_id", "party", "role"], how="left"
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
    cdsc_table = money.cdsc_in_date_order(parts, feed, COLUMNS["cdsc"]).reset_index(drop=True)
    lots, lot_totals, lot_months = _lots(ledger_totals, parties, months, month_end,
                                         None if start is None else start.lot_totals,
                                         None if start is None else start.lot_months)
    result = MonthlyCalculation(
        summary=summary.reset_index(drop=True),
        allocation=allocation.reset_index(drop=True),
        payments=payments.reset_index(drop=True),
        omnibus=omnibus,
        cdsc=cdsc_table,
        exceptions=exceptions.reset_index(drop=True),
        omnibus_accounts=att.omnibus_accounts,
        lots=lots,
        cdsc_values=parts[["month", "portfolio_id", "rights_holder", "issue_date", "rate", "cost", "value",
                           "cdsc_exact"]].reset_index(drop=True) if len(parts) else None,
    )
    return result, unapplied, (lot_totals, lot_months)


def _closing_state(feed, parties, months, att: Attribution, changes: LedgerChanges,
                   lot_totals: tuple[pd.DataFrame, pd.DataFrame], carried: pd.DataFrame,
                   start: _Opening | None) -> MonthEndState:
    """The MonthEndState at the last month end (see calc.engine.state); ``lot_totals``: the
    lots' running sums by issue year and by issue month."""
    lot_totals, lot_months = lot_totals
    P, H, A = parties.portfolios, parties.holders, parties.accounts
    ledger = changes.positions.with_next_seq(start.next_seq if start is not None else changes.positions.next_seq[:0])
    frames = ledger.frames(parties)
    lots, free, om_pos, accounts = frames["lots"], frames["free_shares"], frames["omnibus_positions"], frames["accounts"]

    c = att.closing
    om = pd.DataFrame({
        "account_id": [A[a] for _, a in c.omnibus_pairs],
        "portfolio_id": [P[p] for p, _ in c.omnibus_pairs],
        "first_month_end": month_end_of_index(np.array([c.omnibus_first[pair] for pair in c.omnibus_pairs],
                                                       dtype=np.int64)) if c.omnibus_pairs else [],
        "free_shares": c.omnibus_free,
    })
    j, h = np.nonzero((c.omnibus_free_by_holder != 0.0) | (c.omnibus_commission != 0.0))
    om_h = pd.DataFrame({
        "account_id": [A[c.omnibus_pairs[x][1]] for x in j],
        "portfolio_id": [P[c.omnibus_pairs[x][0]] for x in j],
        "rights_holder": np.array(H, dtype=object)[h] if len(h) else [],
        "free_shares": c.omnibus_free_by_holder[j, h],
        "commission_shares": c.omnibus_commission[j, h],
    })
    p_idx, h_idx = np.nonzero((c.commission != 0.0) | (c.free != 0.0) | (c.share != 0.0) | c.listed)
    attributed = pd.DataFrame({
        "portfolio_id": np.array(P, dtype=object)[p_idx] if len(p_idx) else [],
        "rights_holder": np.array(H, dtype=object)[h_idx] if len(h_idx) else [],
        "commission_shares": c.commission[p_idx, h_idx],
        "free_shares": c.free[p_idx, h_idx],
        "share": c.share[p_idx, h_idx],
        "listed": c.listed[p_idx, h_idx],
    })
    carried_frame = carried.rename(columns={"party": "rights_holder"})[["portfolio_id", "rights_holder", "amount"]] \
        if len(carried) else empty_frame("offsets_carried")
    month_end = month_end_of_index(months[-1:])[0]
    nav = feed.nav[["portfolio_id", "date", "nav", "shares"]]
    if start is not None and len(start.last_nav):
        nav = pd.concat([start.last_nav, nav], ignore_index=True)
    nav = nav[nav["date"] <= month_end]
    last_nav = nav.sort_values(["portfolio_id", "date"], kind="stable").groupby("portfolio_id", sort=True).tail(1)
    return MonthEndState(
        month_end=month_end,
        reference_checksum=reference_checksum(feed, month_end),
        feed_checksum=feed.checksum,
        lots=lots[["account_id", "portfolio_id", "issue_date", "shares", "cost", "rights_holder", "seq",
                   "conversion_month_end"]],
        free_shares=free,
        omnibus_positions=om_pos,
        accounts=accounts,
        omnibus=om,
        omnibus_holders=om_h,
        attributed=attributed,
        lot_totals=lot_totals,
        lot_months=lot_months,
        offsets_carried=carried_frame,
        last_nav=last_nav.reset_index(drop=True),
    )


def _payments(feed, parties, tenures, months, split, month_end, due) -> pd.DataFrame:
    """One row per month, portfolio, party and role: tenure rights holders, assignees in effect,
    and every party with money."""
    money_rows = split.pivot_table(
        index=["month", "portfolio_id", "party", "role"], columns="kind", values="cents", aggfunc="sum", fill_value=0
    )
    for kind in KINDS_OF_MONEY:
        if kind not in money_rows.columns:
            money_rows[kind] = 0
    money_rows = money_rows[list(KINDS_OF_MONEY)].reset_index()
    money_rows.columns.name = None

    pairs = feed.tenures[["portfolio_id", "rights_holder"]].drop_duplicates()
    keys = [pd.DataFrame({
        "month": np.tile(months, len(pairs)),
        "portfolio_id": np.repeat(pairs["portfolio_id"].to_numpy(dtype=object), len(months)),
        "party": np.repeat(pairs["rights_holder"].to_numpy(dtype=object), len(months)),
        "role": ROLE_RIGHTS_HOLDER,
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
            "role": ROLE_ASSIGNEE,
        }))
    key_frame = pd.concat(keys, ignore_index=True).drop_duplicates()
    frame = key_frame.merge(money_rows, on=["month", "portfolio_id", "party", "role"], how="outer")
    for kind in KINDS_OF_MONEY:
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
        # round_cents inline: a call per value was a third of this table's time
        return [float(v.quantize(CENT, rounding=ROUND_HALF_UP)) if type(v) is Decimal else 0.0
                for v in frame.get(col, [None] * len(frame))]

    frame["average_net_assets"] = cents("ana")
    frame["distribution_fee"] = cents(DISTRIBUTION_FEE)
    frame["service_fee"] = cents(SERVICE_FEE)
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
    keep = tenure_holder[p_idx, h_idx] | att.listed
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
            "code": OFFSET_UNAPPLIED,
            "detail": [f"{round_cents(a):.2f} of the claims against {p} unapplied" for a, p in zip(unapplied["amount"], unapplied["party"], strict=True)],
        }))
    frame = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(not f.empty for f in frames) else empty_table("exceptions")
    if frame.empty:
        return frame
    return frame.sort_values(["month_end", "portfolio_id", "account_id", "code"], kind="stable")


def _running(frame: pd.DataFrame, keys: list[str], months, opening_month: bool):
    """The running sums of ``d_shares`` and ``d_cost`` by ``keys`` at each of ``months``
    (changes keyed by ``month``; with ``opening_month``, rows of the month before the
    first are the opening sums): the keys (a frame) and two [keys, months] arrays."""
    columns = np.concatenate([[months[0] - 1], months]) if opening_month else months
    grid = frame.groupby([*keys, "month"])[["d_shares", "d_cost"]].sum()
    grid = grid.unstack("month", fill_value=0.0).reindex(columns=pd.MultiIndex.from_product([["d_shares", "d_cost"], columns]), fill_value=0.0)
    shares = np.cumsum(grid["d_shares"].to_numpy(), axis=1)[:, -len(months):]
    cost = np.cumsum(grid["d_cost"].to_numpy(), axis=1)[:, -len(months):]
    return grid.index.to_frame(index=False), shares, cost


def _changes(keys, vals, names: list[str], months, parties: Parties, opening: pd.DataFrame | None) -> pd.DataFrame:
    """Lot changes keyed (month, p, h, *names) with the opening sums as changes of the month before the first."""
    frame = pd.DataFrame({"month": keys[:, 0], "p": keys[:, 1], "h": keys[:, 2],
                          **{n: keys[:, 3 + j] for j, n in enumerate(names)},
                          "d_shares": vals[:, 0] if len(vals) else [], "d_cost": vals[:, 1] if len(vals) else []})
    if opening is not None and len(opening):
        frame = pd.concat([pd.DataFrame({
            "month": months[0] - 1,
            "p": _known_codes(opening["portfolio_id"], parties.portfolios),
            "h": _known_codes(opening["rights_holder"], parties.holders),
            **{n: opening[n].to_numpy(dtype=np.int64) for n in names},
            "d_shares": opening["commission_shares"].to_numpy(dtype=float),
            "d_cost": opening["cost"].to_numpy(dtype=float),
        }), frame], ignore_index=True)
    return frame


def _known_codes(names: pd.Series, known: list[str]) -> np.ndarray:
    """Each name's code (its position in ``known``), looked up in Arrow, not name by name;
    a name not known raises KeyError, as a lookup in the index would."""
    codes = _codes(names, known)
    if (codes < 0).any():
        raise KeyError(names[codes < 0].iloc[0])
    return codes


def _anniversary_parts(by_month: pd.DataFrame, years: pd.DataFrame, months, parties: Parties, opening_month: bool
                       ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The anniversary parts [issue-year rows ``years``, months] of the shares and of the cost, and the
    running sums by issue month at the last month end (the state's ``lot_months``).

    The running sums by issue month (changes ``by_month`` keyed month, p, h, issue_year,
    issue_month, from the opening sums of the month before the first when ``opening_month``) at
    each month end whose month is at or after the issue month (its anniversary that year has
    passed), added up per issue year in issue-month order.  One dense grid at a time, summed in
    place (the grid has up to 12 rows per issue year)."""
    keys = ["p", "h", "issue_year", "issue_month"]
    columns = np.concatenate([[months[0] - 1], months]) if opening_month else np.asarray(months)
    n_m, n_y = len(months), len(years)
    if by_month.empty:
        return np.zeros((n_y, n_m)), np.zeros((n_y, n_m)), empty_frame("lot_months")
    group = by_month.groupby(keys, sort=True)
    code = group.ngroup().to_numpy()
    idx = group.size().index.to_frame(index=False)
    col = np.searchsorted(columns, by_month["month"].to_numpy())
    passed = idx["issue_month"].to_numpy()[:, None] <= (np.asarray(months) % 12 + 1)[None, :]
    row = pd.MultiIndex.from_frame(years).get_indexer(pd.MultiIndex.from_frame(idx[["p", "h", "issue_year"]]))
    keep = row >= 0  # a year whose running sums are all zero in a continuation has no row: nothing to show
    parts, closing = [], {}
    for name in ("shares", "cost"):
        grid = np.zeros((len(idx), len(columns)))
        np.add.at(grid, (code, col), by_month[f"d_{name}"].to_numpy(dtype=float))
        np.cumsum(grid, axis=1, out=grid)
        running = grid[:, -n_m:]
        closing[name] = running[:, -1].copy()
        running[~passed] = 0.0
        part = np.zeros((n_y, n_m))
        np.add.at(part, row[keep], running[keep] if not keep.all() else running)
        parts.append(part)
        del grid, running
    closing_months = pd.DataFrame({
        "portfolio_id": np.array(parties.portfolios, dtype=object)[idx["p"].to_numpy()],
        "rights_holder": np.array(parties.holders, dtype=object)[idx["h"].to_numpy()],
        "issue_year": idx["issue_year"].to_numpy(dtype=np.int64),
        "issue_month": idx["issue_month"].to_numpy(dtype=np.int64),
        "commission_shares": closing["shares"], "cost": closing["cost"]})
    closing_months = closing_months[(closing_months["commission_shares"] != 0.0)
                                    | (closing_months["cost"] != 0.0)].reset_index(drop=True)
    return parts[0], parts[1], closing_months


def _lots(ledger_totals, parties: Parties, months, month_end, opening: pd.DataFrame | None,
          opening_months: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Commission Shares and their cost by month end, portfolio, rights holder and issue year,
    with the part of them whose anniversary of issue in the month end's year has passed
    (issue month <= the month end's month: ``anniversary_shares``, ``anniversary_cost``);
    and the running sums at the last month end by issue year and by issue month (for the state)."""
    frame = _changes(ledger_totals.lots_keys, ledger_totals.lots, ["issue_year"], months, parties, opening)
    by_month = _changes(ledger_totals.lot_months_keys, ledger_totals.lot_months, ["issue_year", "issue_month"], months,
                        parties, opening_months)
    if frame.empty:
        return pd.DataFrame({c: [] for c in LOT_COLUMNS}), empty_frame("lot_totals"), empty_frame("lot_months")
    idx, shares, cost = _running(frame, ["p", "h", "issue_year"], months, opening is not None and len(opening) > 0)
    a_shares, a_cost, closing_months = _anniversary_parts(by_month, idx, months, parties,
                                                          opening_months is not None and len(opening_months) > 0)
    n_m = len(months)
    portfolios = np.array(parties.portfolios, dtype=object)[idx["p"].to_numpy()]
    holders = np.array(parties.holders, dtype=object)[idx["h"].to_numpy()]
    out = pd.DataFrame({
        "month_end": np.tile(month_end_of_index(months), len(idx)),
        "portfolio_id": np.repeat(portfolios, n_m),
        "rights_holder": np.repeat(holders, n_m),
        "issue_year": np.repeat(idx["issue_year"].to_numpy(), n_m),
        "commission_shares": shares.reshape(-1),
        "cost": cost.reshape(-1),
        "anniversary_shares": a_shares.reshape(-1),
        "anniversary_cost": a_cost.reshape(-1),
    })
    out = out[np.abs(out["commission_shares"]) > SHARE_TOLERANCE]
    closing = pd.DataFrame({"portfolio_id": portfolios, "rights_holder": holders,
                            "issue_year": idx["issue_year"].to_numpy(dtype=np.int64),
                            "commission_shares": shares[:, -1], "cost": cost[:, -1]})
    closing = closing[(closing["commission_shares"] != 0.0) | (closing["cost"] != 0.0)].reset_index(drop=True)
    lots = out.sort_values(["month_end", "portfolio_id", "rights_holder", "issue_year"], kind="stable").reset_index(drop=True)
    return lots, closing, closing_months
