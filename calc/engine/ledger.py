"""The ledger: every account walked through its transactions and conversions
(RULES.md sections 3 and 4) with the compiled lot kernels of :mod:`calc.rules.lots`.

Each account is independent of every other until the portfolio sums, so the
walk takes one account at a time, in account-code order, and records its
*changes* keyed by month, each record tagged with its account.  That is the
partition seam: walk any groups of accounts (:func:`walk` with ``accounts``,
or :func:`walk_slice` over a slice of :func:`prepare`'s arrays, which is what a
Dask worker runs), :func:`merge` their :class:`LedgerChanges`, and
:func:`totals` adds the records in account order, so the sums are those of one
walk over the whole feed, to the last bit.  The month-end state is the running
sum of those totals (``calc.engine.attribution``); the walk also hands back
every account's positions at the end (``LedgerChanges.positions``), which a
continuation starts from (:class:`Positions`).

The walk is one compiled loop (numba) over plain arrays: the transactions in
(account, date, txn_id) order, a book of lots per account
(:mod:`calc.rules.lots`), and record arrays that grow as needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc
from numba import njit

from calc.arrays import arrow_text, increasing, names_at, stable_order
from calc.calendar import month_end_of_index, month_index
from calc.engine.parties import Parties, Tenures
from calc.feed import Feed, FeedError, Problem
from calc.rules import lots as L
from calc.vocabulary import (
    EXCHANGE_IN,
    EXCHANGE_OUT,
    NAV_PURCHASE,
    PURCHASE,
    REDEEM,
    REINVEST,
    TRANSACTION_KINDS,
)

# Transaction kinds as the kernel sees them (their position in TRANSACTION_KINDS).
K_PURCHASE, K_NAV_PURCHASE, K_REINVEST, K_REDEEM, K_EXCHANGE_OUT, K_EXCHANGE_IN = (
    TRANSACTION_KINDS.index(k) for k in (PURCHASE, NAV_PURCHASE, REINVEST, REDEEM, EXCHANGE_OUT, EXCHANGE_IN))

# The records of a walk (every one tagged with its account code).
LOT_CHANGE = np.dtype([("account", np.int32), ("month", np.int32), ("portfolio", np.int32), ("holder", np.int32),
                       ("issue_year", np.int32), ("issue_month", np.int8), ("shares", np.float64),
                       ("cost", np.float64)])
FREE_CHANGE = np.dtype([("account", np.int32), ("month", np.int32), ("portfolio", np.int32), ("holder", np.int32),
                        ("shares", np.float64)])
OMNIBUS_CHANGE = np.dtype([("account", np.int32), ("month", np.int32), ("portfolio", np.int32),
                           ("issued", np.float64), ("redeemed", np.float64), ("change", np.float64)])
CDSC_PART = np.dtype([("account", np.int32), ("row", np.int64), ("issue", np.int64), ("shares", np.float64),
                      ("cost", np.float64), ("holder", np.int32), ("portfolio", np.int32)])
FIRST_MONTH = np.dtype([("portfolio", np.int32), ("account", np.int32), ("month", np.int32)])
# Positions (the ledger's month-end state), by account, portfolio and relief or bucket order.
OPEN_LOT = np.dtype([("account", np.int32), ("portfolio", np.int32), ("issue", np.int64), ("shares", np.float64),
                     ("cost", np.float64), ("holder", np.int32), ("seq", np.int64), ("conversion", np.int64)])
OPEN_FREE = np.dtype([("account", np.int32), ("portfolio", np.int32), ("holder", np.int32),
                      ("shares", np.float64)])
OPEN_OMNIBUS = np.dtype([("account", np.int32), ("portfolio", np.int32), ("shares", np.float64)])
NEXT_SEQ = np.dtype([("account", np.int32), ("next_seq", np.int64)])

ERROR_SHORT, ERROR_NO_EXCHANGE_OUT = 1, 2


@dataclass
class Positions:
    """Every account's positions (the ledger's state): open Commission lots in relief
    order, ordinary accounts' Free Share buckets in bucket order, omnibus accounts'
    Free Shares (one row per position the account ever had), sorted by account and
    portfolio code; ``next_seq``: each account's next lot number."""

    lots: np.ndarray = field(default_factory=lambda: np.zeros(0, OPEN_LOT))
    free: np.ndarray = field(default_factory=lambda: np.zeros(0, OPEN_FREE))
    omnibus: np.ndarray = field(default_factory=lambda: np.zeros(0, OPEN_OMNIBUS))
    next_seq: np.ndarray = field(default_factory=lambda: np.zeros(0, NEXT_SEQ))

    def accounts(self) -> np.ndarray:
        """The accounts holding any position (sorted codes)."""
        return np.unique(np.concatenate([self.lots["account"], self.free["account"], self.omnibus["account"]]))

    @classmethod
    def of_frames(cls, lots: pd.DataFrame, free: pd.DataFrame, omnibus: pd.DataFrame, accounts: pd.DataFrame,
                  parties: Parties, account_codes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                  ) -> Positions:
        """A month-end state's ledger frames (``calc.engine.state``: lots, free_shares,
        omnibus_positions, accounts) in ``parties``' codes; rows of one position keep
        their order (relief order, bucket order).  ``account_codes``: the account codes
        of lots, free and omnibus when already found."""
        given = dict(zip((id(lots), id(free), id(omnibus)), account_codes or (), strict=False))

        def codes(frame: pd.DataFrame, column: str, names: list[str]) -> np.ndarray:
            if column == "account_id":
                found = given[id(frame)] if id(frame) in given else parties.account_codes(frame[column])
                return found.astype(np.int32)
            return _codes(frame[column], names).astype(np.int32)

        out_lots = np.zeros(len(lots), OPEN_LOT)
        if len(lots):
            out_lots["account"] = codes(lots, "account_id", parties.accounts)
            out_lots["portfolio"] = codes(lots, "portfolio_id", parties.portfolios)
            out_lots["issue"] = lots["issue_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
            out_lots["shares"] = lots["shares"].to_numpy(dtype=float)
            out_lots["cost"] = lots["cost"].to_numpy(dtype=float)
            out_lots["holder"] = codes(lots, "rights_holder", parties.holders)
            out_lots["seq"] = lots["seq"].to_numpy(dtype=np.int64)
            out_lots["conversion"] = month_index(lots["conversion_month_end"].to_numpy(dtype="datetime64[D]"))
        out_free = np.zeros(len(free), OPEN_FREE)
        if len(free):
            out_free["account"] = codes(free, "account_id", parties.accounts)
            out_free["portfolio"] = codes(free, "portfolio_id", parties.portfolios)
            out_free["holder"] = codes(free, "rights_holder", parties.holders)
            out_free["shares"] = free["shares"].to_numpy(dtype=float)
        out_om = np.zeros(len(omnibus), OPEN_OMNIBUS)
        if len(omnibus):
            out_om["account"] = codes(omnibus, "account_id", parties.accounts)
            out_om["portfolio"] = codes(omnibus, "portfolio_id", parties.portfolios)
            out_om["shares"] = omnibus["free_shares"].to_numpy(dtype=float)
        seq = np.zeros(len(accounts), NEXT_SEQ)
        if len(accounts):
            seq["account"] = codes(accounts, "account_id", parties.accounts)
            seq["next_seq"] = accounts["next_seq"].to_numpy(dtype=np.int64)

        def ordered(records: np.ndarray, by: tuple[str, ...]) -> np.ndarray:
            if _sorted_by(records, by):  # a state's frames are in code order already
                return records
            return records[np.lexsort(tuple(records[c] for c in reversed(by)))]

        return cls(ordered(out_lots, ("account", "portfolio")), ordered(out_free, ("account", "portfolio")),
                   ordered(out_om, ("account", "portfolio")), ordered(seq, ("account",)))

    def frames(self, parties: Parties) -> dict[str, pd.DataFrame]:
        """The state's ledger frames (lots, free_shares, omnibus_positions, accounts) with
        names for codes, in code order (names are sorted: the same order)."""
        names = {"account": parties.account_names, "portfolio": parties.portfolios, "holder": parties.holders}

        def named(records: np.ndarray, column: str) -> pd.Series:
            return names_at(names[column], records[column]) if len(records) else pd.Series([], dtype="str")

        lots = pd.DataFrame({
            "account_id": named(self.lots, "account"),
            "portfolio_id": named(self.lots, "portfolio"),
            "issue_date": self.lots["issue"].astype("datetime64[D]").astype("datetime64[ns]"),
            "shares": self.lots["shares"],
            "cost": self.lots["cost"],
            "rights_holder": named(self.lots, "holder"),
            "seq": self.lots["seq"].astype(np.int64),
            "conversion_month_end": month_end_of_index(self.lots["conversion"]) if len(self.lots)
            else pd.Series([], dtype="datetime64[ns]"),
        })
        free = pd.DataFrame({
            "account_id": named(self.free, "account"),
            "portfolio_id": named(self.free, "portfolio"),
            "rights_holder": named(self.free, "holder"),
            "shares": self.free["shares"],
        })
        omnibus = pd.DataFrame({
            "account_id": named(self.omnibus, "account"),
            "portfolio_id": named(self.omnibus, "portfolio"),
            "free_shares": self.omnibus["shares"],
        })
        accounts = pd.DataFrame({
            "account_id": named(self.next_seq, "account"),
            "next_seq": self.next_seq["next_seq"].astype(np.int64),
        })
        return {"lots": lots, "free_shares": free, "omnibus_positions": omnibus, "accounts": accounts}

    def with_next_seq(self, earlier: np.ndarray) -> Positions:
        """These positions with the next lot numbers of ``earlier`` (NEXT_SEQ records) for
        the accounts not walked since."""
        if len(earlier) == 0:
            return self
        later = self.next_seq
        if len(later) == 0 or (_increasing(earlier["account"]) and _increasing(later["account"])):
            # one row per account in each (a state's, a walk's): a mark and a value per account code,
            # the walk's taking the place of the earlier; no sort of a million records
            n = int(max(earlier["account"][-1], later["account"][-1] if len(later) else -1)) + 1
            held = np.zeros(n, dtype=bool)
            value = np.empty(n, dtype=np.int64)
            for records in (earlier, later):
                held[records["account"]] = True
                value[records["account"]] = records["next_seq"]
            seq = np.empty(int(held.sum()), NEXT_SEQ)
            seq["account"] = np.flatnonzero(held)
            seq["next_seq"] = value[seq["account"]]
            return Positions(self.lots, self.free, self.omnibus, seq)
        seq = np.concatenate([earlier, self.next_seq])
        seq = seq[np.argsort(seq["account"], kind="stable")]
        last = np.append(seq["account"][1:] != seq["account"][:-1], True)
        return Positions(self.lots, self.free, self.omnibus, seq[last])


@dataclass
class LedgerChanges:
    """What a walk produced: record arrays of changes, each tagged with its account code.

    - ``lots`` (:data:`LOT_CHANGE`): each change of a Commission lot (issued, relieved,
      converted, arrived by exchange): month, portfolio, rights holder, issue year and
      month, shares and dollar cost.  Commission Shares by (month, portfolio, holder), an
      omnibus account's ``K_h`` and the lots by issue year all add these up;
    - ``free`` (:data:`FREE_CHANGE`): Free Shares of ordinary accounts by rights holder;
    - ``omnibus`` (:data:`OMNIBUS_CHANGE`): each omnibus account's I, R and change in F;
    - ``cdsc``: one row per Commission lot part taken by a redeem, with what the money
      step needs (account, txn_id, day, price, waived, issue_day, shares, cost,
      holder, portfolio), as a frame;
    - ``omnibus_first``: (portfolio, account) -> month of the account's first transaction there;
    - ``walked``: the accounts walked; ``positions``: their positions after the walk;
    - ``omnibus_accounts``: bool by account code (which ``lots`` records are ``K_h``).
    """

    lots: np.ndarray = field(default_factory=lambda: np.zeros(0, LOT_CHANGE))
    free: np.ndarray = field(default_factory=lambda: np.zeros(0, FREE_CHANGE))
    omnibus: np.ndarray = field(default_factory=lambda: np.zeros(0, OMNIBUS_CHANGE))
    cdsc: pd.DataFrame = field(default_factory=lambda: _cdsc_frame(np.zeros(0, CDSC_PART)))
    omnibus_first: dict = field(default_factory=dict)
    walked: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    positions: Positions = field(default_factory=Positions)
    omnibus_accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


RECORDS = ("lots", "free", "omnibus")


def _by_account(records: np.ndarray) -> np.ndarray:
    """Records in account order, each account's in the order they were made."""
    if len(records) == 0:
        return records
    return records[np.argsort(records["account"], kind="stable")]


def merge(parts: list[LedgerChanges]) -> LedgerChanges:
    """The changes of disjoint groups of accounts as one walk over all of them would give
    them: records in account order (stable within an account)."""
    if len(parts) == 1:
        return parts[0]
    out = LedgerChanges()
    for name in RECORDS:
        setattr(out, name, _by_account(np.concatenate([getattr(p, name) for p in parts])))
    cdsc = pd.concat([p.cdsc for p in parts], ignore_index=True)
    out.cdsc = cdsc.iloc[np.argsort(cdsc["account"].to_numpy(), kind="stable")].reset_index(drop=True)
    for part in parts:
        out.omnibus_first.update(part.omnibus_first)
    out.walked = np.sort(np.concatenate([p.walked for p in parts]))
    out.positions = Positions(*(_by_account(np.concatenate([getattr(p.positions, f) for p in parts]))
                                for f in ("lots", "free", "omnibus", "next_seq")))
    out.omnibus_accounts = parts[0].omnibus_accounts
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
    lot_months_keys: np.ndarray  # month, portfolio, holder, issue_year, issue_month (1-12)
    lot_months: np.ndarray  # [N, 2]: shares, cost

DENSE_KEYS = 1 << 24  # up to this many possible keys, sums by key are made without sorting


def _sum_by_key(columns: list[np.ndarray], values: list[np.ndarray], rows: list | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the value columns by key (the key columns, lexicographic order), each
    added in record order (``numpy.bincount``: a running ``+=`` per key).  With ``rows``
    (a list), each record's row in the keys is appended to it."""
    n_key, n_val = len(columns), len(values)
    if len(columns[0]) == 0:
        if rows is not None:
            rows.append(np.zeros(0, dtype=np.int64))
        return np.zeros((0, n_key), dtype=np.int64), np.zeros((0, n_val)) if n_val > 1 else np.zeros(0)
    cols = [np.asarray(c, dtype=np.int64) for c in columns]
    lows = [int(c.min()) for c in cols]
    spans = [int(c.max()) - lo + 1 for c, lo in zip(cols, lows, strict=True)]
    key = np.zeros(len(cols[0]), dtype=np.int64)
    for c, lo, span in zip(cols, lows, spans, strict=True):
        key *= span
        key += c - lo
    space = int(np.prod(spans, dtype=object))
    if space <= max(DENSE_KEYS, 2 * len(key)):
        counts = np.bincount(key, minlength=space)
        present = np.flatnonzero(counts)
        uniq, inverse, size = present, None, space
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.reshape(-1)
        size = len(uniq)
    sums = []
    for v in values:
        s = np.bincount(key if inverse is None else inverse, weights=v, minlength=size)
        sums.append(s[uniq] if inverse is None else s)
    if rows is not None:
        rows.append(np.searchsorted(uniq, key) if inverse is None else inverse)
    keys = np.zeros((len(uniq), n_key), dtype=np.int64)
    rest = uniq.copy()
    for j in range(n_key - 1, -1, -1):
        rest, keys[:, j] = np.divmod(rest, spans[j])
        keys[:, j] += lows[j]
    out = np.stack(sums, axis=1) if n_val > 1 else sums[0]
    return keys, out


def totals(changes: LedgerChanges) -> LedgerTotals:
    """Add the records up by key (np.bincount adds in record order: account order)."""
    lots, free, om = changes.lots, changes.free, changes.omnibus
    ck, cv = _sum_by_key([lots["month"], lots["portfolio"], lots["holder"]], [lots["shares"]])
    fk, fv = _sum_by_key([free["month"], free["portfolio"], free["holder"]], [free["shares"]])
    ok, ov = _sum_by_key([om["month"], om["portfolio"], om["account"]], [om["issued"], om["redeemed"], om["change"]])
    flags = changes.omnibus_accounts
    of_omnibus = lots[flags[lots["account"]]] if len(lots) else lots
    okk, okv = _sum_by_key([of_omnibus["month"], of_omnibus["portfolio"], of_omnibus["account"],
                            of_omnibus["holder"]], [of_omnibus["shares"]])
    lot_rows: list[np.ndarray] = []
    lk, lv = _sum_by_key([lots["month"], lots["portfolio"], lots["holder"], lots["issue_year"]],
                         [lots["shares"], lots["cost"]], lot_rows)
    # by issue month too: keyed by the row of (month, portfolio, holder, issue year) and the
    # issue month (a key space of 12 per row, not 12 per possible key)
    mk, mv = _sum_by_key([lot_rows[0], lots["issue_month"]], [lots["shares"], lots["cost"]])
    mk = np.column_stack([lk[mk[:, 0]], mk[:, 1]]) if len(mk) else np.zeros((0, 5), dtype=np.int64)
    return LedgerTotals(ck, cv, fk, fv, ok, ov, okk, okv, lk, lv, mk, mv)


# --------------------------------------------------------------------------- the walk's inputs


def _codes(series: pd.Series, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Each value's position in ``names`` (-1 if absent), through Arrow (fast for millions of rows)."""
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    text = arrow_text(series)
    found = pc.index_in(text, value_set=pyarrow.array(list(names), type=text.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def account_codes(feed: Feed, parties: Parties) -> np.ndarray:
    """Each transaction's account code: as the validator found them when it did, for these
    transactions in these accounts (ten million ids are not looked up twice)."""
    known = feed.known_account_codes(parties.account_names)
    return known if known is not None else parties.account_codes(feed.transactions["account_id"])


def _ranks(text: pd.Series) -> np.ndarray:
    """Each value's rank in text order (equal values equal ranks); ids already in order
    (the usual feed) are ranked without sorting."""
    if increasing(text):
        return np.arange(len(text), dtype=np.int64)
    return pd.factorize(text, sort=True)[0]


def ledger_order(day: np.ndarray, txn_id: pd.Series, account: np.ndarray) -> np.ndarray:
    """Row positions in (account, date, txn_id) order: each account's transactions in the
    order they apply.  txn_id only orders transactions within an account and day: its
    rank in text order will do."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    rank = _ranks(txn_id)
    if np.all(rank[1:] > rank[:-1]) and np.all(day[1:] >= day[:-1]):
        by_time = np.arange(len(day))  # the rows are in (date, txn_id) order already
    else:
        by_time = np.lexsort((rank, day))
    del rank
    return by_time[stable_order(account[by_time])]


@dataclass
class Prepared:
    """The transactions in ledger order and everything the compiled walk reads, for a set
    of accounts (``accounts``, ascending; ``row_ptr``: each one's rows).  A contiguous
    slice of accounts is a partition (:meth:`slice`)."""

    accounts: np.ndarray  # int64 account codes walked
    omnibus: np.ndarray  # bool per account walked
    row_ptr: np.ndarray  # int64 [W + 1] into the row arrays
    row: np.ndarray  # int64: the transaction's row in the feed
    kind: np.ndarray  # int8 (TRANSACTION_KINDS)
    portfolio: np.ndarray  # int32
    day: np.ndarray  # int32 epoch days
    month: np.ndarray  # int32 month indices
    shares: np.ndarray
    price: np.ndarray
    exchange: np.ndarray  # int32 exchange code (-1 for other kinds)
    waived: np.ndarray  # bool
    conversion_years: np.ndarray  # int64 per portfolio
    tenure_ptr: np.ndarray  # int64 [P + 1]
    tenure_start: np.ndarray  # int64 start days
    tenure_holder: np.ndarray  # int64 rights holder codes
    n_holders: int
    last_month: int
    opening: Positions  # the accounts' positions at the start (a continuation), sorted by account
    known: np.ndarray  # FIRST_MONTH records of the omnibus pairs already seen (sorted by account)
    omnibus_accounts: np.ndarray  # bool by account code

    def slice(self, w0: int, w1: int) -> Prepared:
        """The accounts ``w0:w1`` (positions in ``accounts``) and only their rows."""
        r0, r1 = int(self.row_ptr[w0]), int(self.row_ptr[w1])
        acc = self.accounts[w0:w1]
        lo, hi = (int(acc[0]), int(acc[-1]) + 1) if len(acc) else (0, 0)

        def within(records: np.ndarray) -> np.ndarray:
            a = records["account"]
            return records[np.searchsorted(a, lo):np.searchsorted(a, hi)]

        return Prepared(
            acc, self.omnibus[w0:w1], self.row_ptr[w0:w1 + 1] - r0,
            *(getattr(self, f)[r0:r1] for f in ("row", "kind", "portfolio", "day", "month", "shares", "price",
                                                  "exchange", "waived")),
            self.conversion_years, self.tenure_ptr, self.tenure_start, self.tenure_holder, self.n_holders,
            self.last_month, Positions(*(within(getattr(self.opening, f)) for f in ("lots", "free", "omnibus",
                                                                                    "next_seq"))),
            within(self.known), self.omnibus_accounts,
        )


def prepare(feed: Feed, parties: Parties, tenures: Tenures, last_month: int, *,
            opening: Positions | None = None, omnibus_known: set[tuple[int, int]] | None = None,
            accounts: np.ndarray | None = None) -> Prepared:
    """The walk's inputs: ``feed``'s transactions in ledger order with integer codes, the
    opening positions of a continuation (``opening``; ``omnibus_known``: the (portfolio,
    account) omnibus pairs already seen), restricted to the account codes ``accounts``
    when given (a partition; default every account with a transaction or a position)."""
    tx = feed.transactions
    opening = opening or Positions()
    n_accounts = len(parties.accounts)
    omnibus_accounts = parties.omnibus_flags(feed)
    acct = account_codes(feed, parties)
    chosen = None
    if accounts is not None:
        chosen = np.zeros(n_accounts, dtype=bool)
        chosen[np.asarray(accounts, dtype=np.int64)] = True
        rows = np.flatnonzero(chosen[acct]) if len(acct) else np.zeros(0, dtype=np.int64)
    else:
        rows = np.arange(len(tx), dtype=np.int64)
    day_all = tx["date"].to_numpy(dtype="datetime64[D]").astype(np.int64) if len(tx) else np.zeros(0, np.int64)
    txn = tx["txn_id"] if accounts is None else tx["txn_id"].iloc[rows]
    order = rows[ledger_order(day_all[rows], txn, acct[rows])]
    del txn
    acct_sorted = acct[order]
    del acct
    kind = _codes(tx["kind"], TRANSACTION_KINDS).astype(np.int8)
    legs = np.flatnonzero((kind == K_EXCHANGE_OUT) | (kind == K_EXCHANGE_IN))
    exchange = np.full(len(tx), -1, dtype=np.int32)
    if len(legs):
        exchange[legs] = pd.factorize(tx["exchange_id"].iloc[legs])[0]
    day = day_all[order]
    del day_all
    waived = pc.greater(pc.binary_length(arrow_text(tx["waiver"])), 0).fill_null(False).to_numpy(
        zero_copy_only=False) if len(tx) else np.zeros(0, dtype=bool)

    def keep(records: np.ndarray) -> np.ndarray:
        if not _sorted_by(records, ("account",)):
            records = records[np.argsort(records["account"], kind="stable")]
        return records if chosen is None else records[chosen[records["account"]]]

    opening = Positions(*(keep(getattr(opening, f)) for f in ("lots", "free", "omnibus", "next_seq")))
    known = np.array([(p, a, 0) for p, a in sorted(omnibus_known or (), key=lambda pa: (pa[1], pa[0]))],
                     dtype=FIRST_MONTH)
    known = keep(known)
    walked = _walked(acct_sorted, opening, n_accounts)
    row_ptr = np.searchsorted(acct_sorted, np.append(walked, n_accounts)).astype(np.int64)
    row_ptr[-1] = len(order)
    conv_years = feed.portfolios.set_index("portfolio_id").loc[parties.portfolios, "conversion_years"]
    ten_ptr = np.zeros(len(parties.portfolios) + 1, dtype=np.int64)
    ten_ptr[1:] = np.cumsum([len(s) for s in tenures.starts])
    return Prepared(
        accounts=walked, omnibus=omnibus_accounts[walked], row_ptr=row_ptr, row=order,
        kind=kind[order], portfolio=_codes(tx["portfolio_id"], parties.portfolios).astype(np.int32)[order],
        day=day.astype(np.int32), month=_months_of_days(day),
        shares=tx["shares"].to_numpy(dtype=float)[order], price=tx["price"].to_numpy(dtype=float)[order],
        exchange=exchange[order].astype(np.int32), waived=waived[order],
        conversion_years=conv_years.to_numpy(dtype=np.int64), tenure_ptr=ten_ptr,
        tenure_start=np.concatenate(tenures.starts).astype(np.int64) if tenures.starts else np.zeros(0, np.int64),
        tenure_holder=np.concatenate(tenures.holders).astype(np.int64) if tenures.holders else np.zeros(0, np.int64),
        n_holders=len(parties.holders), last_month=int(last_month), opening=opening, known=known,
        omnibus_accounts=omnibus_accounts,
    )


def _increasing(codes: np.ndarray) -> bool:
    """Whether ``codes`` strictly increase (so none repeats), none negative."""
    return len(codes) == 0 or (bool(np.all(codes[1:] > codes[:-1])) and codes[0] >= 0)


def _sorted_by(records: np.ndarray, by: tuple[str, ...]) -> bool:
    """Whether ``records`` are in ascending order of the fields ``by`` (then a stable sort
    of them is the identity)."""
    if len(records) < 2:
        return True
    undecided = np.ones(len(records) - 1, dtype=bool)  # pairs equal on the fields so far
    for name in by:
        a, b = records[name][:-1], records[name][1:]
        if np.any(undecided & (b < a)):
            return False
        undecided &= a == b
    return True


def _walked(acct_sorted: np.ndarray, opening: Positions, n_accounts: int) -> np.ndarray:
    """The accounts walked (ascending codes): those with a transaction or an opening
    position; a mark per account instead of sorting the codes."""
    held = [getattr(opening, f)["account"] for f in ("lots", "free", "omnibus")]
    if len(acct_sorted) and acct_sorted[0] < 0:  # unknown accounts (no code)
        return np.union1d(np.unique(acct_sorted), opening.accounts()).astype(np.int64)
    mark = np.zeros(n_accounts, dtype=bool)
    mark[acct_sorted] = True
    for codes in held:
        mark[codes] = True
    return np.flatnonzero(mark).astype(np.int64)


def _months_of_days(day: np.ndarray) -> np.ndarray:
    """Month indices of epoch days (int32), looked up from the few distinct days."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.int32)
    first = int(day.min())
    months = month_index(np.arange(first, int(day.max()) + 1).astype("datetime64[D]")).astype(np.int32)
    return months[day - first]


# --------------------------------------------------------------------------- the walk


def walk(
    feed: Feed,
    parties: Parties,
    tenures: Tenures,
    last_month: int,
    *,
    opening: Positions | None = None,
    omnibus_known: set[tuple[int, int]] | None = None,
    accounts: np.ndarray | None = None,
    progress=None,
) -> LedgerChanges:
    """Walk accounts through their transactions and conversions up to ``last_month``
    (sections 3 and 4).

    ``opening``: the positions at the start (a continuation), with ``omnibus_known``
    the omnibus (portfolio, account) pairs already seen; ``accounts``: the account
    codes to walk (a partition; default every account with a transaction or a position).
    """
    prepared = prepare(feed, parties, tenures, last_month, opening=opening, omnibus_known=omnibus_known,
                       accounts=accounts)
    try:
        return _walk_prepared(prepared, feed, progress)
    except WalkError as err:
        raise feed_error(err, feed) from None


def _walk_prepared(prepared: Prepared, feed: Feed, progress) -> LedgerChanges:
    # one compiled call over every account: slices would have to be put together again
    # (a copy of every record: seconds and a gigabyte at ten million transactions)
    changes = walk_slice(prepared)
    if progress is not None:
        progress("ledger: accounts walked", len(prepared.accounts), len(prepared.accounts))
    return resolve(changes, feed)


def concat(parts: list[LedgerChanges]) -> LedgerChanges:
    """The changes of consecutive slices of accounts, in order (no sorting needed)."""
    if len(parts) == 1:
        return parts[0]
    out = LedgerChanges()
    for name in RECORDS:
        setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
    out.cdsc = pd.concat([p.cdsc for p in parts], ignore_index=True)
    for part in parts:
        out.omnibus_first.update(part.omnibus_first)
    out.walked = np.concatenate([p.walked for p in parts])
    out.positions = Positions(*(np.concatenate([getattr(p.positions, f) for p in parts])
                                for f in ("lots", "free", "omnibus", "next_seq")))
    out.omnibus_accounts = parts[0].omnibus_accounts
    return out


def walk_slice(prepared: Prepared) -> LedgerChanges:
    """The compiled walk over the accounts of ``prepared`` (raises FeedError on a
    redemption beyond the holding).  The ``cdsc`` frame holds the rows' positions in
    the feed (``row``) until :func:`resolve` looks their transactions up."""
    p = prepared
    o = p.opening
    w = len(p.accounts)

    def ranges(records: np.ndarray) -> np.ndarray:
        return np.searchsorted(records["account"], np.append(p.accounts, np.iinfo(np.int32).max), side="left")

    seq_of = np.zeros(w, dtype=np.int64)
    if len(o.next_seq):
        at = np.searchsorted(o.next_seq["account"], p.accounts)
        hit = (at < len(o.next_seq)) & (o.next_seq["account"][np.minimum(at, len(o.next_seq) - 1)] == p.accounts)
        seq_of[hit] = o.next_seq["next_seq"][at[hit]]
    out = _walk_accounts(
        p.accounts, p.omnibus, p.row_ptr, p.row, p.kind, p.portfolio, p.day, p.month, p.shares, p.price, p.exchange,
        p.waived, p.conversion_years, p.tenure_ptr, p.tenure_start, p.tenure_holder, p.n_holders, p.last_month,
        o.lots, ranges(o.lots), o.free, ranges(o.free), o.omnibus, ranges(o.omnibus), seq_of, p.known,
        ranges(p.known), len(p.conversion_years),
    )
    lots, free, om, cdsc, first, open_lots, open_free, open_om, next_seq, error = out
    if error[0]:
        _raise(p, error)
    return LedgerChanges(
        lots=lots, free=free, omnibus=om, cdsc=_cdsc_frame(cdsc),
        omnibus_first={(int(r["portfolio"]), int(r["account"])): int(r["month"]) for r in first},
        walked=p.accounts.copy(), positions=Positions(open_lots, open_free, open_om, next_seq),
        omnibus_accounts=p.omnibus_accounts,
    )


class WalkError(Exception):
    """A transaction the walk cannot apply (the row in the feed, what it asked and what was
    held); :func:`feed_error` words it as the feed's problem."""

    def __init__(self, code: int, row: int, shares: float, held: float):
        super().__init__(code, row, shares, held)
        self.code, self.row, self.shares, self.held = code, row, shares, held


def _raise(p: Prepared, error: np.ndarray) -> None:
    at = int(error[1])
    raise WalkError(int(error[0]), int(p.row[at]), float(p.shares[at]), float(error[2]))


def feed_error(err: WalkError, feed: Feed) -> FeedError:
    """The problem a :class:`WalkError` is in the feed: its file, line and rule."""
    tx = feed.transactions.iloc[err.row]
    if err.code == ERROR_SHORT:
        rule = (f"{tx['kind']} {tx['txn_id']} takes {err.shares:g} shares but the account holds only "
                f"{err.held:g} shares of the portfolio then (after conversions to Class A): "
                "no account may hold fewer than zero shares")
    else:
        rule = f"exchange_in {tx['txn_id']} has no exchange_out just before it in its account"
    return FeedError([Problem("transactions.csv", int(tx["line"]), "shares", rule)])


def _cdsc_frame(parts: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({name: parts[name] for name in CDSC_PART.names})


def resolve(changes: LedgerChanges, feed: Feed) -> LedgerChanges:
    """Attach to each CDSC part its redemption's txn_id, day, price and waiver."""
    raw = changes.cdsc
    if "txn_id" in raw.columns:
        return changes
    tx = feed.transactions
    rows = raw["row"].to_numpy(dtype=np.int64)
    day = tx["date"].to_numpy(dtype="datetime64[D]")[rows].astype(np.int64) if len(rows) else np.zeros(0, np.int64)
    changes.cdsc = pd.DataFrame({
        "account": raw["account"].to_numpy(dtype=np.int64),
        "row": rows,
        "txn_id": tx["txn_id"].iloc[rows].reset_index(drop=True) if len(rows) else pd.Series([], dtype="str"),
        "day": day,
        "price": tx["price"].to_numpy(dtype=float)[rows],
        "waived": pc.not_equal(pc.take(arrow_text(tx["waiver"]), pyarrow.array(rows)), "").fill_null(True).to_numpy(
            zero_copy_only=False) if len(rows) else np.zeros(0, bool),
        "issue": raw["issue"].to_numpy(dtype=np.int64),
        "shares": raw["shares"].to_numpy(dtype=float),
        "cost": raw["cost"].to_numpy(dtype=float),
        "holder": raw["holder"].to_numpy(dtype=np.int64),
        "portfolio": raw["portfolio"].to_numpy(dtype=np.int64),
    })
    return changes


# --------------------------------------------------------------------------- the compiled walk


@njit(cache=True)
def _year_month(d):
    """(year, month 1-12) of epoch day ``d`` (proleptic Gregorian, exact integers)."""
    z = d + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m


@njit(cache=True)
def _serving(ten_ptr, ten_start, ten_holder, p, day):
    """The rights holder of the tenure serving portfolio ``p`` on ``day`` (before the first: the first's)."""
    first, end = ten_ptr[p], ten_ptr[p + 1]
    k = first
    while k < end and ten_start[k] <= day:
        k += 1
    k -= 1
    if k < first:
        k = first
    return ten_holder[k]


@njit(cache=True)
def _grown(buf):
    out = np.empty(2 * len(buf) + 16, buf.dtype)
    out[:len(buf)] = buf
    return out


@njit(cache=True)
def _lot_change(rec, n, account, month, p, holder, issue, shares, cost):
    if n == len(rec):
        rec = _grown(rec)
    r = rec[n]
    r["account"] = account
    r["month"] = month
    r["portfolio"] = p
    r["holder"] = holder
    year, month_of_issue = _year_month(issue)
    r["issue_year"] = year
    r["issue_month"] = month_of_issue
    r["shares"] = shares
    r["cost"] = cost
    return rec, n + 1


@njit(cache=True)
def _free_change(rec, n, account, month, p, holder, shares):
    if n == len(rec):
        rec = _grown(rec)
    r = rec[n]
    r["account"] = account
    r["month"] = month
    r["portfolio"] = p
    r["holder"] = holder
    r["shares"] = shares
    return rec, n + 1


@njit(cache=True)
def _omnibus_change(rec, n, account, month, p, issued, redeemed, change):
    if n == len(rec):
        rec = _grown(rec)
    r = rec[n]
    r["account"] = account
    r["month"] = month
    r["portfolio"] = p
    r["issued"] = issued
    r["redeemed"] = redeemed
    r["change"] = change
    return rec, n + 1


@njit(cache=True)
def _touch(p, touched, order, nt, head, tail, om_free, bn):
    """Open position ``p`` of the account (empty) unless it is open; returns the count of open positions."""
    if touched[p]:
        return nt
    touched[p] = True
    order[nt] = p
    head[p] = L.NO_LOT
    tail[p] = L.NO_LOT
    om_free[p] = 0.0
    bn[p] = 0
    return nt + 1


@njit(cache=True)
def _convert_all(mi, ai, omnibus, order, nt, pool, meta, head, om_free, bh, bv, bn, due, th, tv, gh, gv,
                 lot_rec, nl, free_rec, nf, om_rec, no):
    """Every position's lots due by the end of month ``mi`` convert (RULES.md section 4);
    returns the next month a lot is due, and the records."""
    nxt = L.NEVER
    for j in range(nt):
        p = order[j]
        n_due, gone, n_taken = L.convert_position(pool, meta, head, p, mi, omnibus, om_free, bh, bv, bn, due, th, tv,
                                                  gh, gv)
        if n_due > 0:
            for k in range(n_due):
                lot = due[k]
                lot_rec, nl = _lot_change(lot_rec, nl, ai, mi, p, lot["holder"], lot["issue"], -lot["shares"],
                                          -lot["cost"])
            if omnibus:
                if gone != 0.0:
                    om_rec, no = _omnibus_change(om_rec, no, ai, mi, p, 0.0, 0.0, -gone)
            else:
                for k in range(n_taken):
                    free_rec, nf = _free_change(free_rec, nf, ai, mi, p, th[k], -1.0 * tv[k])
        m = L.next_conversion_month(pool, head, p)
        if m < nxt:
            nxt = m
    return nxt, lot_rec, nl, free_rec, nf, om_rec, no


@njit(cache=True)
def _walk_accounts(accounts, omnibus_of, row_ptr, rows, kinds, ports, days, months, shares, prices, xids, waived,
                   conv_years, ten_ptr, ten_start, ten_holder, n_h, last_month,
                   op_lots, op_lot_at, op_free, op_free_at, op_om, op_om_at, op_seq, known, known_at, n_p):
    """Walk each account of ``accounts`` (ascending codes) through its rows (``row_ptr``;
    ledger order) and conversions up to ``last_month``, from its opening positions."""
    # Room for more records than a walk makes: memory untouched is never resident, and the
    # records are handed back as views (a record array grows, by copying, only beyond it).
    n_rows = len(kinds)
    lot_rec = np.empty(3 * n_rows + len(op_lots) + 16, LOT_CHANGE)
    free_rec = np.empty(3 * n_rows + len(op_free) + 16, FREE_CHANGE)
    om_rec = np.empty(n_rows + len(op_om) + 16, OMNIBUS_CHANGE)
    cdsc_rec = np.empty(n_rows + 16, CDSC_PART)
    first_rec = np.empty(n_rows + 16, FIRST_MONTH)
    out_lots = np.empty(2 * n_rows + len(op_lots) + 16, OPEN_LOT)
    out_free = np.empty(2 * n_rows + len(op_free) + 16, OPEN_FREE)
    out_om = np.empty(n_rows + len(op_om) + 16, OPEN_OMNIBUS)
    out_seq = np.empty(len(accounts), NEXT_SEQ)
    nl = nf = no = nc = n1 = nol = nof = noo = 0
    error = np.zeros(3)

    pool, meta = L.new_pool(64)
    parts = np.zeros(len(pool), L.LOT)
    xparts = np.zeros(len(pool), L.LOT)
    head = np.full(n_p, L.NO_LOT, np.int64)
    tail = np.full(n_p, L.NO_LOT, np.int64)
    om_free = np.zeros(n_p)
    width = n_h + 2
    bh = np.zeros((n_p, width), np.int64)
    bv = np.zeros((n_p, width))
    bn = np.zeros(n_p, np.int64)
    th, tv = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    xth, xtv = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    gh, gv = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    sh, sv = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    ah, av = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    byh, byv = np.zeros(2 * width, np.int64), np.zeros(2 * width)
    touched = np.zeros(n_p, np.bool_)
    is_known = np.zeros(n_p, np.bool_)
    order = np.zeros(n_p, np.int64)

    for w in range(len(accounts)):
        ai = accounts[w]
        omnibus = omnibus_of[w]
        nt = 0
        # the opening positions (a continuation): lots in relief order, buckets in order
        for j in range(op_lot_at[w], op_lot_at[w + 1]):
            r = op_lots[j]
            p = r["portfolio"]
            nt = _touch(p, touched, order, nt, head, tail, om_free, bn)
            pool = L.reserve(pool, meta, 1)
            parts, xparts = L.parts_buffers(pool, parts, xparts)
            slot = L.new_lot(pool, meta, r["shares"], r["issue"], r["cost"], r["holder"], r["seq"], r["conversion"])
            L.append_slot(pool, head, tail, p, slot)
        for j in range(op_free_at[w], op_free_at[w + 1]):
            r = op_free[j]
            p = r["portfolio"]
            nt = _touch(p, touched, order, nt, head, tail, om_free, bn)
            bh[p, bn[p]] = r["holder"]
            bv[p, bn[p]] = r["shares"]
            bn[p] += 1
        for j in range(op_om_at[w], op_om_at[w + 1]):
            p = op_om[j]["portfolio"]
            nt = _touch(p, touched, order, nt, head, tail, om_free, bn)
            om_free[p] = op_om[j]["shares"]
        for j in range(known_at[w], known_at[w + 1]):
            is_known[known[j]["portfolio"]] = True
        seq = op_seq[w]
        next_conv = L.NEVER
        for j in range(nt):
            m = L.next_conversion_month(pool, head, order[j])
            if m < next_conv:
                next_conv = m
        x_id = -1  # the pending exchange_out: its id, shares, Free Shares taken, parts
        x_n = 0.0
        x_free = 0.0
        x_parts = 0
        x_taken = 0

        for r in range(row_ptr[w], row_ptr[w + 1]):
            mi = months[r]
            while next_conv < mi:
                next_conv, lot_rec, nl, free_rec, nf, om_rec, no = _convert_all(
                    next_conv, ai, omnibus, order, nt, pool, meta, head, om_free, bh, bv, bn, parts, th, tv, gh, gv,
                    lot_rec, nl, free_rec, nf, om_rec, no)
            pi = ports[r]
            k = kinds[r]
            n = shares[r]
            if not touched[pi]:
                nt = _touch(pi, touched, order, nt, head, tail, om_free, bn)
                if omnibus and not is_known[pi]:
                    if n1 == len(first_rec):
                        first_rec = _grown(first_rec)
                    first_rec[n1]["portfolio"] = pi
                    first_rec[n1]["account"] = ai
                    first_rec[n1]["month"] = mi
                    n1 += 1
            if k == K_PURCHASE:
                holder = _serving(ten_ptr, ten_start, ten_holder, pi, days[r])
                conv = mi + 12 * conv_years[pi]
                cost = n * prices[r]
                pool = L.reserve(pool, meta, 1)
                parts, xparts = L.parts_buffers(pool, parts, xparts)
                slot = L.new_lot(pool, meta, n, days[r], cost, holder, seq, conv)
                seq += 1
                L.insert_slot(pool, head, pi, slot)
                lot_rec, nl = _lot_change(lot_rec, nl, ai, mi, pi, holder, days[r], n, cost)
                next_conv = L._min(next_conv, conv)
            elif k == K_REINVEST or k == K_NAV_PURCHASE:
                if omnibus:
                    om_free[pi] += n
                    om_rec, no = _omnibus_change(om_rec, no, ai, mi, pi, n, 0.0, n)
                else:
                    holder = _serving(ten_ptr, ten_start, ten_holder, pi, days[r])
                    ns = L.split_issue(pool, head, pi, bh, bv, bn, n, holder, sh, sv, byh, byv)
                    na = L.add_buckets(bh, bv, bn, pi, sh, sv, ns, ah, av, gh, gv)
                    for j in range(na):
                        free_rec, nf = _free_change(free_rec, nf, ai, mi, pi, ah[j], 1.0 * av[j])
            elif k == K_REDEEM or k == K_EXCHANGE_OUT:
                redeem = k == K_REDEEM
                taken, short, n_parts, n_taken = L.relieve_position(pool, meta, head, pi, omnibus, om_free, bh, bv, bn,
                                                                    n, parts, th, tv, gh, gv)
                if omnibus:
                    om_rec, no = _omnibus_change(om_rec, no, ai, mi, pi, 0.0, taken if redeem else 0.0, -taken)
                else:
                    for j in range(n_taken):
                        free_rec, nf = _free_change(free_rec, nf, ai, mi, pi, th[j], -1.0 * tv[j])
                for j in range(n_parts):
                    lot = parts[j]
                    lot_rec, nl = _lot_change(lot_rec, nl, ai, mi, pi, lot["holder"], lot["issue"], -lot["shares"],
                                              -lot["cost"])
                if short:
                    error[0] = ERROR_SHORT
                    error[1] = r
                    error[2] = n - short
                    break
                if redeem:
                    for j in range(n_parts):
                        if nc == len(cdsc_rec):
                            cdsc_rec = _grown(cdsc_rec)
                        c = cdsc_rec[nc]
                        c["account"] = ai
                        c["row"] = rows[r]
                        c["issue"] = parts[j]["issue"]
                        c["shares"] = parts[j]["shares"]
                        c["cost"] = parts[j]["cost"]
                        c["holder"] = parts[j]["holder"]
                        c["portfolio"] = pi
                        nc += 1
                else:
                    x_id, x_n, x_free, x_parts, x_taken = xids[r], n, taken, n_parts, n_taken
                    xparts[:n_parts] = parts[:n_parts]
                    xth[:n_taken] = th[:n_taken]
                    xtv[:n_taken] = tv[:n_taken]
            else:  # K_EXCHANGE_IN: what its exchange_out just took, in the new portfolio
                if x_id < 0 or x_id != xids[r]:
                    error[0] = ERROR_NO_EXCHANGE_OUT
                    error[1] = r
                    break
                x_id = -1
                ratio = n / x_n
                pool = L.reserve(pool, meta, x_parts)
                parts, xparts = L.parts_buffers(pool, parts, xparts)
                for j in range(x_parts):
                    lot = xparts[j]
                    y, m = _year_month(lot["issue"])
                    conv = L._max(y * 12 + m - 1 + 12 * conv_years[pi], mi)
                    arrived = lot["shares"] * ratio
                    slot = L.new_lot(pool, meta, arrived, lot["issue"], lot["cost"], lot["holder"], seq, conv)
                    seq += 1
                    L.insert_slot(pool, head, pi, slot)
                    lot_rec, nl = _lot_change(lot_rec, nl, ai, mi, pi, lot["holder"], lot["issue"], arrived,
                                              lot["cost"])
                    next_conv = L._min(next_conv, conv)
                if omnibus:
                    received = x_free * ratio
                    om_free[pi] += received
                    om_rec, no = _omnibus_change(om_rec, no, ai, mi, pi, 0.0, 0.0, received)
                else:
                    for j in range(x_taken):
                        sh[j] = xth[j]
                        sv[j] = xtv[j] * ratio
                    na = L.add_buckets(bh, bv, bn, pi, sh, sv, x_taken, ah, av, gh, gv)
                    for j in range(na):
                        free_rec, nf = _free_change(free_rec, nf, ai, mi, pi, ah[j], 1.0 * av[j])
        if error[0] != 0:
            break
        while next_conv <= last_month:
            next_conv, lot_rec, nl, free_rec, nf, om_rec, no = _convert_all(
                next_conv, ai, omnibus, order, nt, pool, meta, head, om_free, bh, bv, bn, parts, th, tv, gh, gv,
                lot_rec, nl, free_rec, nf, om_rec, no)

        # the account's positions after the walk, by portfolio code; then an empty book
        ports_held = np.sort(order[:nt])
        for j in range(nt):
            p = ports_held[j]
            cur = head[p]
            while cur != L.NO_LOT:
                if nol == len(out_lots):
                    out_lots = _grown(out_lots)
                o = out_lots[nol]
                o["account"] = ai
                o["portfolio"] = p
                o["issue"] = pool[cur]["issue"]
                o["shares"] = pool[cur]["shares"]
                o["cost"] = pool[cur]["cost"]
                o["holder"] = pool[cur]["holder"]
                o["seq"] = pool[cur]["seq"]
                o["conversion"] = pool[cur]["conversion"]
                nol += 1
                cur = pool[cur]["next"]
            L.clear_position(pool, meta, head, p)  # the next account starts from an empty book
            if omnibus:
                if noo == len(out_om):
                    out_om = _grown(out_om)
                out_om[noo]["account"] = ai
                out_om[noo]["portfolio"] = p
                out_om[noo]["shares"] = om_free[p]
                noo += 1
            else:
                for b in range(bn[p]):
                    if nof == len(out_free):
                        out_free = _grown(out_free)
                    out_free[nof]["account"] = ai
                    out_free[nof]["portfolio"] = p
                    out_free[nof]["holder"] = bh[p, b]
                    out_free[nof]["shares"] = bv[p, b]
                    nof += 1
            touched[p] = False
            is_known[p] = False
        is_known[:] = False
        out_seq[w]["account"] = ai
        out_seq[w]["next_seq"] = seq
    return (lot_rec[:nl], free_rec[:nf], om_rec[:no], cdsc_rec[:nc], first_rec[:n1], out_lots[:nol],
            out_free[:nof], out_om[:noo], out_seq, error)
