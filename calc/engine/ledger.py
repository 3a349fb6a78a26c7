"""The ledger: every account walked through its transactions and conversions
(RULES.md sections 3 and 4) with the lot rules of :mod:`calc.rules.lots`.

Each account is independent of every other until the portfolio sums, so the
walk takes one account at a time, in account-code order, and records its
*changes* keyed by month, each record tagged with its account.  That is the
partition seam: walk any groups of accounts (:func:`walk` with ``accounts``),
:func:`merge` their :class:`LedgerChanges`, and :func:`totals` adds the records
in account order, so the sums are those of one walk over the whole feed, to the
last bit.  The month-end state is the running sum of those totals
(``calc.engine.attribution``); the walk also hands back every account's
positions at the end (``LedgerChanges.positions``), which a continuation starts
from.

The walk is inherently sequential per account and is written once, plainly.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from calc.calendar import EPOCH_ORDINAL, month_index
from calc.engine.parties import Parties, Tenures
from calc.feed import Feed, FeedError, Problem
from calc.rules import lots as L
from calc.vocabulary import EXCHANGE_IN, EXCHANGE_OUT, NAV_PURCHASE, PURCHASE, REDEEM, REINVEST

Positions = dict[int, L.Position]  # portfolio code -> the account's position


@dataclass
class LedgerChanges:
    """What a walk produced: records of changes, each tagged with its account code.

    - ``commission``: (account, month, portfolio, holder, change in Commission Shares)
    - ``free``: (account, month, portfolio, holder, change in Free Shares of an ordinary account)
    - ``omnibus``: (account, month, portfolio, account, I, R, change in F)
    - ``omnibus_commission``: (account, month, portfolio, account, holder, change in K_h)
    - ``lots``: (account, month, portfolio, holder, issue_year, change in shares, change in cost)
    - ``cdsc``: (account, txn_id, day, price, waived, issue_day, shares, cost, holder, portfolio):
      one per Commission lot part taken by a redeem, with what the money step needs
    - ``omnibus_first``: (portfolio, account) -> month of the account's first transaction there
    - ``positions``: account -> its positions after the walk (the ledger's month-end state)
    - ``next_seq``: account -> the creation number its next lot gets
    """

    commission: list = field(default_factory=list)
    free: list = field(default_factory=list)
    omnibus: list = field(default_factory=list)
    omnibus_commission: list = field(default_factory=list)
    lots: list = field(default_factory=list)
    cdsc: list = field(default_factory=list)
    omnibus_first: dict = field(default_factory=dict)
    positions: dict[int, Positions] = field(default_factory=dict)
    next_seq: dict[int, int] = field(default_factory=dict)


RECORD_LISTS = ("commission", "free", "omnibus", "omnibus_commission", "lots", "cdsc")


def merge(parts: list[LedgerChanges]) -> LedgerChanges:
    """The changes of disjoint groups of accounts as one walk over all of them would give
    them: records in account order (stable within an account)."""
    out = LedgerChanges()
    for name in RECORD_LISTS:
        records = [r for part in parts for r in getattr(part, name)]
        records.sort(key=lambda r: r[0])  # stable: each account's records keep their order
        setattr(out, name, records)
    for part in parts:
        out.omnibus_first.update(part.omnibus_first)
        out.positions.update(part.positions)
        out.next_seq.update(part.next_seq)
    out.positions = dict(sorted(out.positions.items()))
    return out


@dataclass
class LedgerTotals:
    """The changes added up by key (in account order), as unique keys and sums.

    ``*_keys`` are int64 arrays, one row per key, starting with the month index.
    """

    commission_keys: np.ndarray  # month, portfolio, holder
    commission: np.ndarray
    free_keys: np.ndarray  # month, portfolio, holder
    free: np.ndarray
    omnibus_keys: np.ndarray  # month, portfolio, account
    omnibus: np.ndarray  # [N, 3]: I, R, change in F
    omnibus_commission_keys: np.ndarray  # month, portfolio, account, holder
    omnibus_commission: np.ndarray
    lots_keys: np.ndarray  # month, portfolio, holder, issue_year
    lots: np.ndarray  # [N, 2]: shares, cost


def _sum_by_key(records: list, n_key: int, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the value columns by key, each added in record order (as a running ``+=``)."""
    if not records:
        return np.zeros((0, n_key), dtype=np.int64), np.zeros((0, n_val)) if n_val > 1 else np.zeros(0)
    arr = np.array(records, dtype=object)
    keys = arr[:, 1:1 + n_key].astype(np.int64)
    vals = arr[:, 1 + n_key:1 + n_key + n_val].astype(float)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.stack([np.bincount(inverse, weights=vals[:, c], minlength=len(uniq)) for c in range(n_val)], axis=1)
    return uniq, (sums if n_val > 1 else sums[:, 0])


def totals(changes: LedgerChanges) -> LedgerTotals:
    """Add the records up by key (np.bincount adds in record order: account order)."""
    ck, cv = _sum_by_key(changes.commission, 3, 1)
    fk, fv = _sum_by_key(changes.free, 3, 1)
    ok, ov = _sum_by_key(changes.omnibus, 3, 3)
    okk, okv = _sum_by_key(changes.omnibus_commission, 4, 1)
    lk, lv = _sum_by_key(changes.lots, 4, 2)
    return LedgerTotals(ck, cv, fk, fv, ok, ov, okk, okv, lk, lv)


def _days(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _codes(series: pd.Series, names: list[str]) -> np.ndarray:
    """Each value's position in ``names`` (-1 if absent), through Arrow (fast for millions of rows)."""
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    text = pyarrow.array(series.astype(str))
    found = pc.index_in(text, value_set=pyarrow.array(names, type=text.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _shared_text(series: pd.Series) -> np.ndarray:
    """The column as an object array whose equal values are one Python string each.

    Ten million rows of a few kinds (or mostly empty ids) then cost eight bytes
    a row, not a string object a row.
    """
    codes, distinct = pd.factorize(series, use_na_sentinel=False)
    return np.asarray(distinct, dtype=object)[codes]


def account_codes(feed: Feed, parties: Parties) -> np.ndarray:
    """Each transaction's account code."""
    return _codes(feed.transactions["account_id"], parties.accounts)


def walk(
    feed: Feed,
    parties: Parties,
    tenures: Tenures,
    last_month: int,
    *,
    opening: dict[int, Positions] | None = None,
    opening_seq: dict[int, int] | None = None,
    omnibus_known: set[tuple[int, int]] | None = None,
    accounts: np.ndarray | None = None,
    progress=None,
) -> LedgerChanges:
    """Walk accounts through their transactions and conversions up to ``last_month``
    (sections 3 and 4).

    ``opening``: each account's positions at the start (a continuation), with
    ``opening_seq`` its next lot number and ``omnibus_known`` the omnibus
    (portfolio, account) pairs already seen; ``accounts``: the account codes to
    walk (a partition; default every account with a transaction or a position).
    """
    tx = feed.transactions
    out = LedgerChanges()
    opening = opening or {}
    opening_seq = opening_seq or {}
    known = omnibus_known or set()

    conv_years = feed.portfolios.set_index("portfolio_id").loc[parties.portfolios, "conversion_years"].to_numpy()
    omnibus_flags = feed.accounts.set_index("account_id")["omnibus"]
    is_omnibus = omnibus_flags.reindex(parties.accounts, fill_value=False).to_numpy(dtype=bool)

    acct = _codes(tx["account_id"], parties.accounts)
    if accounts is not None:
        chosen = np.zeros(len(parties.accounts), dtype=bool)
        chosen[np.asarray(accounts, dtype=np.int64)] = True
        rows = np.flatnonzero(chosen[acct]) if len(acct) else np.zeros(0, dtype=np.int64)
    else:
        chosen = None
        rows = np.arange(len(tx))
    acct_r = acct[rows]
    day_all = _days(tx["date"]) if len(tx) else np.zeros(0, dtype=np.int64)
    day_r = day_all[rows]
    # txn_id only orders transactions within an account and day: its rank in text order will do
    txn_rank = pd.factorize(tx["txn_id"].iloc[rows], sort=True)[0] if len(rows) else np.zeros(0, dtype=np.int64)
    order = rows[np.lexsort((txn_rank, day_r, acct_r))]
    del txn_rank
    kinds = _shared_text(tx["kind"])
    xid = _shared_text(tx["exchange_id"])
    waiver = _shared_text(tx["waiver"])
    txn_ids = tx["txn_id"].to_numpy(dtype=object)
    line = tx["line"].to_numpy(dtype=np.int64)
    # Python lists, not numpy arrays: the walk reads them one item at a time
    port = _codes(tx["portfolio_id"], parties.portfolios).tolist()
    day = day_all.tolist()
    months = month_index(day_all).tolist()
    shares = tx["shares"].to_numpy(dtype=float).tolist()
    price = tx["price"].to_numpy(dtype=float).tolist()
    ctx = _Walk(kinds, port, day, months, shares, price, xid, waiver, txn_ids, line, conv_years, tenures,
                last_month, out, known)

    acct_sorted = acct[order]
    bounds = np.flatnonzero(np.diff(acct_sorted)) + 1
    starts = np.concatenate([[0], bounds]).astype(np.int64) if len(order) else np.zeros(0, dtype=np.int64)
    ends = np.concatenate([bounds, [len(order)]]).astype(np.int64) if len(order) else np.zeros(0, dtype=np.int64)
    with_rows = {int(acct_sorted[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}
    held = [a for a in opening if chosen is None or chosen[a]]
    walked = sorted(set(with_rows) | set(held))
    every = max(1, len(walked) // 100)
    for k, a in enumerate(walked):
        s, e = with_rows.get(a, (0, 0))
        ctx.account(a, bool(is_omnibus[a]), order[s:e].tolist(), opening.get(a), opening_seq.get(a, 0))
        if progress is not None and (k % every == 0 or k == len(walked) - 1):
            progress("ledger: accounts walked", k + 1, len(walked))
    return out


class _Walk:
    """One walk's inputs, and the walk of one account at a time."""

    def __init__(self, kinds, port, day, months, shares, price, xid, waiver, txn_ids, line, conv_years,
                 tenures: Tenures, last_month: int, out: LedgerChanges, known: set) -> None:
        self.kinds, self.port, self.day, self.months = kinds, port, day, months
        self.shares, self.price, self.xid, self.waiver = shares, price, xid, waiver
        self.txn_ids, self.line, self.conv_years = txn_ids, line, conv_years
        self.tenures, self.last_month, self.out, self.known = tenures, last_month, out, known

    def account(self, ai: int, omnibus: bool, rows: list[int], opening: Positions | None, seq: int) -> None:
        out = self.out
        commission, free_rec, lots_rec = out.commission, out.free, out.lots
        om_rec, omk_rec = out.omnibus, out.omnibus_commission
        kinds, port, day, months, shares, price = self.kinds, self.port, self.day, self.months, self.shares, self.price
        conv_years, tenures = self.conv_years, self.tenures
        positions: Positions = opening if opening is not None else {}
        pending: dict[str, tuple] = {}
        next_conv = min((m for p in positions.values() if (m := L.next_conversion(p)) is not None), default=1 << 62)

        def position(pi: int, mi: int) -> L.Position:
            p = positions.get(pi)
            if p is None:
                p = positions[pi] = L.Position(omnibus)
                if omnibus and (pi, ai) not in self.known:
                    out.omnibus_first[(pi, ai)] = mi
            return p

        def lot_change(mi, pi, lot, d_shares, d_cost):
            h = lot[L.HOLDER]
            commission.append((ai, mi, pi, h, d_shares))
            lots_rec.append((ai, mi, pi, h, _year_of_day(lot[L.ISSUE]), d_shares, d_cost))
            if omnibus:
                omk_rec.append((ai, mi, pi, ai, h, d_shares))

        def free_change(mi, pi, by_holder: dict, sign: float):
            for h, v in by_holder.items():
                free_rec.append((ai, mi, pi, h, sign * v))

        def relieve(ti, pi, mi, n, redeem):
            p = position(pi, mi)
            r = L.relieve(p, n)
            if omnibus:
                om_rec.append((ai, mi, pi, ai, 0.0, r.free_shares if redeem else 0.0, -r.free_shares))
            elif r.free:
                free_change(mi, pi, r.free, -1.0)
            for t, issue, cost, holder, conv in r.parts:
                lot_change(mi, pi, [t, issue, cost, holder, 0, conv], -t, -cost)
            if r.short:
                raise FeedError([Problem(
                    "transactions.csv", int(self.line[ti]), "shares",
                    f"{kinds[ti]} {self.txn_ids[ti]} takes {shares[ti]:g} shares but the account holds only "
                    f"{n - r.short:g} shares of the portfolio then (after conversions to Class A): "
                    "no account may hold fewer than zero shares",
                )])
            return r

        def convert(mi: int) -> int:
            """Convert every lot due by month mi at that month end; return the next due month."""
            nxt = 1 << 62
            for pi, p in positions.items():
                c = L.convert_due(p, mi)
                if c is not None:
                    for lot in c.lots:
                        lot_change(mi, pi, lot, -lot[L.SHARES], -lot[L.COST])
                    if omnibus:
                        if c.free != 0.0:
                            om_rec.append((ai, mi, pi, ai, 0.0, 0.0, -c.free))
                    elif c.free:
                        free_change(mi, pi, c.free, -1.0)
                m = L.next_conversion(p)
                if m is not None and m < nxt:
                    nxt = m
            return nxt

        for ti in rows:
            mi = months[ti]
            while next_conv < mi:
                next_conv = convert(next_conv)
            pi = port[ti]
            kind = kinds[ti]
            n = shares[ti]
            p = position(pi, mi)
            if kind == PURCHASE:
                holder = tenures.serving(pi, day[ti])
                conv = mi + 12 * int(conv_years[pi])
                lot = [n, day[ti], n * price[ti], holder, seq, conv]
                seq += 1
                L.insert_lot(p.lots, lot)
                lot_change(mi, pi, lot, n, lot[L.COST])
                next_conv = min(next_conv, conv)
            elif kind == REINVEST or kind == NAV_PURCHASE:
                if omnibus:
                    p.free += n
                    om_rec.append((ai, mi, pi, ai, n, 0.0, n))
                else:
                    split = L.issue_split(p, n, tenures.serving(pi, day[ti]))
                    free_change(mi, pi, L.add_free(p.free, split), 1.0)
            elif kind == REDEEM:
                r = relieve(ti, pi, mi, n, True)
                waived = bool(self.waiver[ti])
                for t, issue, cost, holder, _conv in r.parts:
                    out.cdsc.append((ai, self.txn_ids[ti], day[ti], price[ti], waived, issue, t, cost, holder, pi))
            elif kind == EXCHANGE_OUT:
                r = relieve(ti, pi, mi, n, False)
                pending[self.xid[ti]] = (n, r)
            elif kind == EXCHANGE_IN:
                n_out, r = pending.pop(self.xid[ti])
                ratio = n / n_out
                for t, issue, cost, holder, _conv in r.parts:
                    conv = max(_month_of_day(issue) + 12 * int(conv_years[pi]), mi)
                    lot = [t * ratio, issue, cost, holder, seq, conv]
                    seq += 1
                    L.insert_lot(p.lots, lot)
                    lot_change(mi, pi, lot, lot[L.SHARES], cost)
                    next_conv = min(next_conv, conv)
                if omnibus:
                    received = r.free * ratio
                    p.free += received
                    om_rec.append((ai, mi, pi, ai, 0.0, 0.0, received))
                else:
                    free_change(mi, pi, L.add_free(p.free, {h: v * ratio for h, v in r.free.items()}), 1.0)
        while next_conv <= self.last_month:
            next_conv = convert(next_conv)
        out.positions[ai] = positions
        out.next_seq[ai] = seq


@functools.cache  # a few thousand distinct days
def _month_of_day(d: int) -> int:
    date = _dt.date.fromordinal(d + EPOCH_ORDINAL)
    return date.year * 12 + date.month - 1


@functools.cache  # a few thousand distinct days
def _year_of_day(d: int) -> int:
    return _dt.date.fromordinal(d + EPOCH_ORDINAL).year
