"""The ledger: Commission Share lots, Free Shares, lot relief, exchanges and
conversion to Class A (RULES.md sections 3 and 4; FOURTH (D), (E)).

Each account is independent of every other until the portfolio sums, so the
ledger walks one account at a time through its transactions in (date, txn_id)
order, with the month-end conversions in between.  It does not keep month-end
snapshots: it emits *changes* keyed by month (``LedgerChanges``), and the
month-end state is their running sum (``calc.attribution``).  That keeps the
work proportional to the number of transactions, not accounts x months.

The walk is inherently sequential per account and is written once, plainly.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from calc.calendar import EPOCH_ORDINAL, month_index
from calc.feed import SHARE_TOLERANCE, Feed, FeedError, Problem

# A lot: [shares, issue_day, cost, holder, seq, conversion_month]
_SH, _ISSUE, _COST, _HOLDER, _SEQ, _CONV = range(6)


@dataclass
class Parties:
    """Integer codes for portfolios, rights holders and accounts."""

    portfolios: list[str]
    holders: list[str]
    accounts: list[str]
    portfolio_index: dict[str, int] = field(default_factory=dict)
    holder_index: dict[str, int] = field(default_factory=dict)
    account_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.portfolio_index = {p: i for i, p in enumerate(self.portfolios)}
        self.holder_index = {h: i for i, h in enumerate(self.holders)}
        self.account_index = {a: i for i, a in enumerate(self.accounts)}

    def holder(self, name: str) -> int:
        if name not in self.holder_index:
            self.holder_index[name] = len(self.holders)
            self.holders.append(name)
        return self.holder_index[name]


@dataclass
class Tenures:
    """The tenure serving each portfolio on a day, as arrays for lookup."""

    starts: list[np.ndarray]  # per portfolio: start day numbers, ascending
    holders: list[np.ndarray]  # per portfolio: rights holder codes

    def __post_init__(self) -> None:
        # plain lists for the one-day lookup of the walk (bisect on a list is
        # several times faster than numpy on a handful of tenures)
        self._starts_list = [s.tolist() for s in self.starts]
        self._holders_list = [h.tolist() for h in self.holders]

    def serving(self, pi: int, day: int) -> int:
        """Rights holder of the tenure serving ``day`` (before the first: the first's)."""
        k = bisect.bisect_right(self._starts_list[pi], day) - 1
        return self._holders_list[pi][max(k, 0)]

    def serving_many(self, pi: int, days: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.starts[pi], days, side="right") - 1
        return self.holders[pi][np.maximum(k, 0)]


@dataclass
class LedgerChanges:
    """What the ledger walk produced, keyed by month index.

    - ``commission``: (month, portfolio, holder) -> change in Commission Shares (all accounts)
    - ``free``: (month, portfolio, holder) -> change in attributed Free Shares of ordinary accounts
    - ``omnibus``: (month, portfolio, account) -> [I, R, change in F]
    - ``omnibus_commission``: (month, portfolio, account, holder) -> change in K_h
    - ``omnibus_first``: (portfolio, account) -> month of the account's first transaction there
    - ``lots``: (month, portfolio, holder, issue_year) -> [change in shares, change in cost]
    - ``cdsc``: one row per Commission lot part taken by a redeem
    """

    commission: dict = field(default_factory=lambda: defaultdict(float))
    free: dict = field(default_factory=lambda: defaultdict(float))
    omnibus: dict = field(default_factory=dict)
    omnibus_commission: dict = field(default_factory=lambda: defaultdict(float))
    omnibus_first: dict = field(default_factory=dict)
    lots: dict = field(default_factory=dict)
    cdsc: list = field(default_factory=list)


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


def build_tenures(feed: Feed, parties: Parties) -> Tenures:
    starts, holders = [], []
    for pid in parties.portfolios:
        t = feed.tenures[feed.tenures["portfolio_id"] == pid].sort_values("start_date")
        starts.append(_days(t["start_date"]))
        holders.append(np.array([parties.holder(h) for h in t["rights_holder"]], dtype=np.int64))
    return Tenures(starts, holders)


def walk(feed: Feed, parties: Parties, tenures: Tenures, last_month: int, progress=None) -> LedgerChanges:
    """Walk every account through its transactions and conversions (sections 3 and 4)."""
    tx = feed.transactions
    out = LedgerChanges()
    if tx.empty:
        return out

    conv_years = feed.portfolios.set_index("portfolio_id").loc[parties.portfolios, "conversion_years"].to_numpy()
    omnibus_flags = feed.accounts.set_index("account_id")["omnibus"]
    is_omnibus = omnibus_flags.reindex(parties.accounts, fill_value=False).to_numpy(dtype=bool)

    acct = _codes(tx["account_id"], parties.accounts)
    port_codes = _codes(tx["portfolio_id"], parties.portfolios)
    day_codes = _days(tx["date"])
    # txn_id only orders transactions within an account and day: its rank in text order will do
    txn_rank = pd.factorize(tx["txn_id"], sort=True)[0]
    order = np.lexsort((txn_rank, day_codes, acct))
    del txn_rank
    kinds = _shared_text(tx["kind"])
    xid = _shared_text(tx["exchange_id"])
    line = tx["line"].to_numpy(dtype=np.int64)
    txn_id = tx["txn_id"]  # for a message only
    # Python lists, not numpy arrays: the walk reads them one item at a time
    port = port_codes.tolist()
    day = day_codes.tolist()
    months = month_index(day_codes).tolist()
    shares = tx["shares"].to_numpy(dtype=float).tolist()
    price = tx["price"].to_numpy(dtype=float).tolist()

    acct_sorted = acct[order]
    bounds = np.flatnonzero(np.diff(acct_sorted)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(order)]])
    n_accounts = len(starts)
    every = max(1, n_accounts // 100)

    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        _walk_account(
            order[s:e].tolist(), int(acct_sorted[s]), bool(is_omnibus[acct_sorted[s]]), kinds, port, day, months,
            shares, price, xid, txn_id, line, conv_years, tenures, last_month, out,
        )
        if progress is not None and (k % every == 0 or k == n_accounts - 1):
            progress("ledger: accounts walked", k + 1, n_accounts)
    return out


def _walk_account(
    rows, ai, omnibus, kinds, port, day, months, shares, price, xid, txn_id, line,
    conv_years, tenures: Tenures, last_month: int, out: LedgerChanges,
) -> None:
    holdings: dict[int, list] = {}  # portfolio -> [lots, free]; free: dict holder->shares, or float (omnibus)
    seq = 0
    next_conv = 1 << 62
    pending: dict[str, tuple] = {}
    commission, free_acc, lots_acc = out.commission, out.free, out.lots
    om_acc, omk_acc = out.omnibus, out.omnibus_commission

    def holding(pi: int, mi: int) -> list:
        h = holdings.get(pi)
        if h is None:
            h = holdings[pi] = [[], 0.0 if omnibus else {}]
            if omnibus:
                out.omnibus_first[(pi, ai)] = mi
        return h

    def lot_change(mi, pi, lot, d_shares, d_cost):
        commission[(mi, pi, lot[_HOLDER])] += d_shares
        key = (mi, pi, lot[_HOLDER], _year_of_day(lot[_ISSUE]))
        acc = lots_acc.get(key)
        if acc is None:
            lots_acc[key] = [d_shares, d_cost]
        else:
            acc[0] += d_shares
            acc[1] += d_cost
        if omnibus:
            omk_acc[(mi, pi, ai, lot[_HOLDER])] += d_shares

    def omnibus_change(mi, pi, i_, r_, df):
        acc = om_acc.get((mi, pi, ai))
        if acc is None:
            om_acc[(mi, pi, ai)] = [i_, r_, df]
        else:
            acc[0] += i_
            acc[1] += r_
            acc[2] += df

    def add_free_ordinary(mi, pi, free: dict, split: dict):
        for h, n in split.items():
            if n != 0.0:
                free[h] = free.get(h, 0.0) + n
                free_acc[(mi, pi, h)] += n

    def take_free_ordinary(mi, pi, free: dict, n: float) -> dict:
        total = sum(free.values())
        if total <= SHARE_TOLERANCE:
            return {}
        if total - n <= SHARE_TOLERANCE:
            taken = dict(free)
            for h, v in taken.items():
                free_acc[(mi, pi, h)] -= v
            free.clear()
            return taken
        frac = n / total
        taken = {}
        for h in list(free):
            t = free[h] * frac
            taken[h] = t
            free[h] -= t
            free_acc[(mi, pi, h)] -= t
        return taken

    def relieve(ti, pi, mi, n, kind_redeem):
        """Take n shares: Free Shares first, then lots oldest issue date first."""
        h = holding(pi, mi)
        lots, free = h
        if omnibus:
            free_total = free
        else:
            free_total = sum(free.values())
        free_taken_total = min(n, max(free_total, 0.0))
        if free_total - free_taken_total <= SHARE_TOLERANCE:
            free_taken_total = max(free_total, 0.0)
        if omnibus:
            taken_free = free_taken_total
            h[1] = 0.0 if free_taken_total == free_total else free - free_taken_total
            omnibus_change(mi, pi, 0.0, free_taken_total if kind_redeem else 0.0, -free_taken_total)
        else:
            taken_free = take_free_ordinary(mi, pi, free, free_taken_total) if free_taken_total > 0 else {}
        remaining = n - free_taken_total
        parts = []
        while remaining > SHARE_TOLERANCE and lots:
            lot = lots[0]
            t = min(lot[_SH], remaining)
            if lot[_SH] - t <= SHARE_TOLERANCE:
                t = lot[_SH]
                cost = lot[_COST]
                lots.pop(0)
            else:
                cost = lot[_COST] * (t / lot[_SH])
                lot[_SH] -= t
                lot[_COST] -= cost
            remaining -= t
            parts.append((t, lot[_ISSUE], cost, lot[_HOLDER], lot[_CONV]))
            lot_change(mi, pi, lot, -t, -cost)
        if remaining > SHARE_TOLERANCE:
            raise FeedError([
                Problem(
                    "transactions.csv", int(line[ti]), "shares",
                    f"{kinds[ti]} {txn_id.iloc[ti]} takes {shares[ti]:g} shares but the account holds only "
                    f"{n - remaining:g} shares of the portfolio then (after conversions to Class A): "
                    "no account may hold fewer than zero shares",
                )
            ])
        return taken_free, parts

    def convert(mi: int) -> int:
        """Convert every lot due by month mi at that month end; return the next due month."""
        nxt = 1 << 62
        for pi, h in holdings.items():
            lots, free = h
            due = [lot for lot in lots if lot[_CONV] <= mi]
            if due:
                held = sum(lot[_SH] for lot in lots)
                converting = sum(lot[_SH] for lot in due)
                for lot in due:
                    lot_change(mi, pi, lot, -lot[_SH], -lot[_COST])
                h[0] = lots = [lot for lot in lots if lot[_CONV] > mi]
                if omnibus:
                    if free != 0.0 and held > 0:
                        gone = free * converting / held
                        if free - gone <= SHARE_TOLERANCE:
                            gone = free
                        h[1] = free - gone
                        omnibus_change(mi, pi, 0.0, 0.0, -gone)
                elif free and held > 0:
                    total = sum(free.values())
                    take_free_ordinary(mi, pi, free, total * converting / held)
            for lot in lots:
                if lot[_CONV] < nxt:
                    nxt = lot[_CONV]
        return nxt

    for ti in rows:
        mi = months[ti]  # months, port, day, shares, price: Python lists of int / float
        while next_conv < mi:
            next_conv = convert(next_conv)
        pi = port[ti]
        kind = kinds[ti]
        d = day[ti]
        n = shares[ti]
        h = holding(pi, mi)
        if kind == "purchase":
            holder = tenures.serving(pi, d)
            conv = mi + 12 * int(conv_years[pi])
            lot = [n, d, n * price[ti], holder, seq, conv]
            seq += 1
            _insert_lot(h[0], lot)
            lot_change(mi, pi, lot, n, lot[_COST])
            next_conv = min(next_conv, conv)
        elif kind == "reinvest" or kind == "nav_purchase":
            if omnibus:
                h[1] += n
                omnibus_change(mi, pi, n, 0.0, n)
            else:
                add_free_ordinary(mi, pi, h[1], _issue_split(h, n, tenures, pi, d))
        elif kind == "redeem":
            _, parts = relieve(ti, pi, mi, n, True)
            for t, issue, cost, holder, _conv in parts:
                out.cdsc.append((ti, issue, t, cost, holder, pi))
        elif kind == "exchange_out":
            taken_free, parts = relieve(ti, pi, mi, n, False)
            pending[xid[ti]] = (n, taken_free, parts)
        elif kind == "exchange_in":
            n_out, taken_free, parts = pending.pop(xid[ti])
            ratio = n / n_out
            for t, issue, cost, holder, _conv in parts:
                conv = max(_month_of_day(issue) + 12 * int(conv_years[pi]), mi)
                lot = [t * ratio, issue, cost, holder, seq, conv]
                seq += 1
                _insert_lot(h[0], lot)
                lot_change(mi, pi, lot, lot[_SH], cost)
                next_conv = min(next_conv, conv)
            if omnibus:
                received = taken_free * ratio
                h[1] += received
                omnibus_change(mi, pi, 0.0, 0.0, received)
            else:
                add_free_ordinary(mi, pi, h[1], {hh: v * ratio for hh, v in taken_free.items()})
    while next_conv <= last_month:
        next_conv = convert(next_conv)


def _issue_split(h: list, n: float, tenures: Tenures, pi: int, d: int) -> dict:
    """Exhibit A 2(b): new Free Shares split by the account's holdings by rights holder."""
    lots, free = h
    by_holder: dict[int, float] = defaultdict(float)
    for lot in lots:
        by_holder[lot[_HOLDER]] += lot[_SH]
    for hh, v in free.items():
        by_holder[hh] += v
    total = sum(by_holder.values())
    if total <= SHARE_TOLERANCE:
        return {tenures.serving(pi, d): n}
    return {hh: n * v / total for hh, v in by_holder.items() if v != 0.0}


def _insert_lot(lots: list, lot: list) -> None:
    """Keep lots in relief order: oldest issue date first, then the lot created first."""
    bisect.insort_right(lots, lot, key=lambda x: (x[_ISSUE], x[_SEQ]))


@functools.cache  # a few thousand distinct days
def _month_of_day(d: int) -> int:
    date = _dt.date.fromordinal(d + EPOCH_ORDINAL)
    return date.year * 12 + date.month - 1


@functools.cache  # a few thousand distinct days
def _year_of_day(d: int) -> int:
    return _dt.date.fromordinal(d + EPOCH_ORDINAL).year
