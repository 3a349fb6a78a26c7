"""Lots and lot relief (RULES.md section 3; FOURTH (D), (E)), conversion to Class A
(section 4) and the split of new Free Shares in an ordinary account (Exhibit A 2(b)).

The one implementation of these rules, compiled (numba): the engine's ledger
(``calc.engine.ledger``) and the sample generator (``calc.sample.ledger``) both walk
accounts with the kernels below from their own compiled walks, and the Python
functions at the end of the module (:class:`Position`, :func:`relieve`, ...)
call the same kernels for callers that hold a position as Python lists.

**The book.**  A walk keeps the positions of one account at a time as arrays:

- ``pool``: the Commission Share lots, a record array of :data:`LOT` (shares,
  issue day, dollar cost, rights holder code, creation number ``seq``, conversion
  month, ``next``); ``meta`` = [first free slot, lots in use];
- ``head[p]``: the first lot of portfolio ``p``'s position; its lots are linked
  through ``next`` in relief order (oldest issue date first, then the lot created
  first);
- Free Shares: ``om_free[p]``, one number in an omnibus account (their attribution
  is the monthly roll-forward of Exhibit A 2(c)); in an ordinary account, buckets
  by rights holder in the order they were opened: ``bh[p, k]`` holder, ``bv[p, k]``
  shares, ``bn[p]`` buckets.

Days are epoch-day numbers, months indices ``year * 12 + month - 1``, rights holders
integer codes.  Every kernel does the arithmetic of the rule in the order written
in its docstring, so a walk gives the same bits wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from calc.vocabulary import SHARE_TOLERANCE

TOL = SHARE_TOLERANCE
NEVER = 1 << 62  # a month after every month: no conversion due
NO_LOT = -1

LOT = np.dtype([("shares", np.float64), ("issue", np.int64), ("cost", np.float64), ("holder", np.int64),
                ("seq", np.int64), ("conversion", np.int64), ("next", np.int64)], align=True)

# A lot as a Python list (the adapter below): [shares, issue_day, cost, holder, seq, conversion_month]
SHARES, ISSUE, COST, HOLDER, SEQ, CONVERSION = range(6)

# A part taken from a lot: (shares, issue_day, cost, holder, conversion_month)
Part = tuple[float, int, float, int, int]


# --------------------------------------------------------------------------- the pool


@njit(cache=True)
def _min(a, b):
    """Python's ``min(a, b)``: ``b`` only when it is smaller."""
    return b if b < a else a


@njit(cache=True)
def _max(a, b):
    """Python's ``max(a, b)``: ``b`` only when it is larger."""
    return b if b > a else a


@njit(cache=True)
def new_pool(capacity):
    """An empty pool of ``capacity`` lots (every slot free) and its ``meta``."""
    pool = np.zeros(max(capacity, 1), LOT)
    for i in range(len(pool)):
        pool[i]["next"] = i + 1
    pool[len(pool) - 1]["next"] = NO_LOT
    meta = np.zeros(2, np.int64)
    return pool, meta


@njit(cache=True)
def reserve(pool, meta, n):
    """The pool with room for ``n`` more lots (a larger copy when it lacks it)."""
    cap = len(pool)
    if meta[1] + n <= cap:
        return pool
    size = cap
    while meta[1] + n > size:
        size *= 2
    grown = np.zeros(size, LOT)
    grown[:cap] = pool
    for i in range(cap, size):
        grown[i]["next"] = i + 1
    grown[size - 1]["next"] = meta[0]
    meta[0] = cap
    return grown


@njit(cache=True)
def parts_buffers(pool, parts, xparts):
    """Buffers for the lot parts a relief takes, at least as long as the pool (a position's
    lots all fit in them), keeping the pending exchange_out's parts (``xparts``)."""
    if len(parts) >= len(pool):
        return parts, xparts
    grown = np.zeros(len(pool), LOT)
    grown[:len(xparts)] = xparts
    return np.zeros(len(pool), LOT), grown


@njit(cache=True)
def new_lot(pool, meta, shares, issue, cost, holder, seq, conversion):
    """Take a free slot (``reserve`` first) for a new lot; returns the slot."""
    slot = meta[0]
    meta[0] = pool[slot]["next"]
    meta[1] += 1
    lot = pool[slot]
    lot["shares"] = shares
    lot["issue"] = issue
    lot["cost"] = cost
    lot["holder"] = holder
    lot["seq"] = seq
    lot["conversion"] = conversion
    lot["next"] = NO_LOT
    return slot


@njit(cache=True)
def release(pool, meta, slot):
    pool[slot]["next"] = meta[0]
    meta[0] = slot
    meta[1] -= 1


@njit(cache=True)
def clear_position(pool, meta, head, p):
    """Free every lot of position ``p`` (the walk moves on to another account)."""
    cur = head[p]
    while cur != NO_LOT:
        nxt = pool[cur]["next"]
        release(pool, meta, cur)
        cur = nxt
    head[p] = NO_LOT


@njit(cache=True)
def insert_slot(pool, head, p, slot):
    """Link lot ``slot`` into position ``p`` in relief order: after every lot whose
    (issue date, creation number) is not greater than its own."""
    issue, seq = pool[slot]["issue"], pool[slot]["seq"]
    prev = NO_LOT
    cur = head[p]
    while cur != NO_LOT:
        ci = pool[cur]["issue"]
        if ci > issue or (ci == issue and pool[cur]["seq"] > seq):
            break
        prev = cur
        cur = pool[cur]["next"]
    pool[slot]["next"] = cur
    if prev == NO_LOT:
        head[p] = slot
    else:
        pool[prev]["next"] = slot


@njit(cache=True)
def append_slot(pool, head, tail, p, slot):
    """Link lot ``slot`` at the end of position ``p`` (loading lots already in relief
    order; ``tail[p]`` the last lot so far, NO_LOT at first)."""
    pool[slot]["next"] = NO_LOT
    if tail[p] == NO_LOT:
        head[p] = slot
    else:
        pool[tail[p]]["next"] = slot
    tail[p] = slot


@njit(cache=True)
def commission_total(pool, head, p):
    """The Commission Shares of position ``p``: its lots' shares added in relief order."""
    total = 0.0
    cur = head[p]
    while cur != NO_LOT:
        total += pool[cur]["shares"]
        cur = pool[cur]["next"]
    return total


@njit(cache=True)
def free_total(om_free, bv, bn, p, omnibus):
    """The Free Shares of position ``p`` (an ordinary account's buckets added in order)."""
    if omnibus:
        return om_free[p]
    total = 0.0
    for k in range(bn[p]):
        total += bv[p, k]
    return total


@njit(cache=True)
def next_conversion_month(pool, head, p):
    """The month of the position's next conversion to Class A (NEVER without lots)."""
    nxt = NEVER
    cur = head[p]
    while cur != NO_LOT:
        if pool[cur]["conversion"] < nxt:
            nxt = pool[cur]["conversion"]
        cur = pool[cur]["next"]
    return nxt


# --------------------------------------------------------------------------- Free Shares (Exhibit A 2(b))


@njit(cache=True)
def sweep_buckets(bh, bv, bn, p, gone_h, gone_v):
    """RULES.md preamble: a rights holder's Free Share bucket within the share tolerance
    of zero is gone.  Removes such buckets; writes what each held into ``gone_*``;
    returns how many."""
    j = 0
    g = 0
    for k in range(bn[p]):
        v = bv[p, k]
        if abs(v) <= TOL:
            gone_h[g] = bh[p, k]
            gone_v[g] = v
            g += 1
        else:
            bh[p, j] = bh[p, k]
            bv[p, j] = v
            j += 1
    bn[p] = j
    return g


@njit(cache=True)
def take_buckets(bh, bv, bn, p, n, taken_h, taken_v, gone_h, gone_v):
    """Take ``n`` Free Shares of an ordinary account pro rata across its rights holders
    (Exhibit A 2(b): Free Shares leave pro rata across the account's split).

    ``total`` = the buckets added in order; nothing when it is within the tolerance;
    every bucket when ``total - n`` is; else each bucket gives ``v * (n / total)``
    and a bucket left within the tolerance is then gone whole.  Writes what left
    each bucket (bucket order) into ``taken_*``; returns how many."""
    total = 0.0
    for k in range(bn[p]):
        total += bv[p, k]
    if total <= TOL:
        return 0
    count = bn[p]
    if total - n <= TOL:
        for k in range(count):
            taken_h[k] = bh[p, k]
            taken_v[k] = bv[p, k]
        bn[p] = 0
        return count
    frac = n / total
    for k in range(count):
        t = bv[p, k] * frac
        taken_h[k] = bh[p, k]
        taken_v[k] = t
        bv[p, k] = bv[p, k] - t
    g = sweep_buckets(bh, bv, bn, p, gone_h, gone_v)
    for i in range(g):
        for k in range(count):
            if taken_h[k] == gone_h[i]:
                taken_v[k] = taken_v[k] + gone_v[i]
                break
    return count


@njit(cache=True)
def add_buckets(bh, bv, bn, p, split_h, split_v, n_split, added_h, added_v, gone_h, gone_v):
    """Add new Free Shares by rights holder (a new holder's bucket opens last); then a
    bucket left within the tolerance is gone.  Writes each bucket's change (split
    order, then any other bucket gone) into ``added_*``; returns how many."""
    na = 0
    for i in range(n_split):
        h, x = split_h[i], split_v[i]
        if x != 0.0:
            found = False
            for k in range(bn[p]):
                if bh[p, k] == h:
                    bv[p, k] = bv[p, k] + x
                    found = True
                    break
            if not found:
                bh[p, bn[p]] = h
                bv[p, bn[p]] = 0.0 + x
                bn[p] += 1
            added_h[na] = h
            added_v[na] = x
            na += 1
    g = sweep_buckets(bh, bv, bn, p, gone_h, gone_v)
    for i in range(g):
        found = False
        for k in range(na):
            if added_h[k] == gone_h[i]:
                added_v[k] = added_v[k] - gone_v[i]
                found = True
                break
        if not found:
            added_h[na] = gone_h[i]
            added_v[na] = 0.0 - gone_v[i]
            na += 1
    return na


@njit(cache=True)
def _add_by_holder(by_h, by_v, m, h, v):
    """Add ``v`` to holder ``h``'s running total among the ``m`` holders met so far (a new
    holder is appended); returns how many holders there are now."""
    k = 0
    while k < m and by_h[k] != h:
        k += 1
    if k == m:
        by_h[m] = h
        by_v[m] = 0.0 + v
        return m + 1
    by_v[k] = by_v[k] + v
    return m


@njit(cache=True)
def split_issue(pool, head, p, bh, bv, bn, n, serving_holder, out_h, out_v, by_h, by_v):
    """Exhibit A 2(b): new Free Shares of an ordinary account split in proportion to the
    shares (Commission and Free) the account holds of the portfolio by rights holder
    just before; where it holds none, all to the rights holder of the tenure serving.

    By holder in the order met (lots in relief order, then the buckets); the total
    added in that order; each share ``n * v / total``.  Writes the split into
    ``out_*``; returns how many holders."""
    m = 0
    cur = head[p]
    while cur != NO_LOT:
        m = _add_by_holder(by_h, by_v, m, pool[cur]["holder"], pool[cur]["shares"])
        cur = pool[cur]["next"]
    for j in range(bn[p]):
        m = _add_by_holder(by_h, by_v, m, bh[p, j], bv[p, j])
    total = 0.0
    for k in range(m):
        total += by_v[k]
    if total <= TOL:
        out_h[0] = serving_holder
        out_v[0] = n
        return 1
    j = 0
    for k in range(m):
        if by_v[k] != 0.0:
            out_h[j] = by_h[k]
            out_v[j] = n * by_v[k] / total
            j += 1
    return j


# --------------------------------------------------------------------------- relief and conversion


@njit(cache=True)
def relieve_position(pool, meta, head, p, omnibus, om_free, bh, bv, bn, n, parts, taken_h, taken_v,
                     gone_h, gone_v):
    """RULES.md section 3: take ``n`` shares of position ``p``, Free Shares first, then
    lots oldest issue date first; part of a lot takes the same fraction of its cost.

    Free Shares taken: ``min(n, max(free, 0))``, all of them when what is left is
    within the tolerance.  A lot left within the tolerance goes whole (with its
    cost); else the part takes ``cost * (t / shares)``.  Writes the lot parts into
    ``parts`` (shares, issue, cost, holder, conversion; relief order) and, in an
    ordinary account, the Free Shares taken by holder into ``taken_*``.  Returns
    (Free Shares taken, shares short beyond the holding (0 within the tolerance),
    parts, holders taken)."""
    ft = free_total(om_free, bv, bn, p, omnibus)
    taken_total = _min(n, _max(ft, 0.0))
    if ft - taken_total <= TOL:
        taken_total = _max(ft, 0.0)
    n_taken = 0
    if omnibus:
        om_free[p] = 0.0 if taken_total == ft else om_free[p] - taken_total
    elif taken_total > 0:
        n_taken = take_buckets(bh, bv, bn, p, taken_total, taken_h, taken_v, gone_h, gone_v)
    remaining = n - taken_total
    n_parts = 0
    while remaining > TOL and head[p] != NO_LOT:
        s = head[p]
        lot_shares = pool[s]["shares"]
        t = _min(lot_shares, remaining)
        if lot_shares - t <= TOL:
            t = lot_shares
            cost = pool[s]["cost"]
            head[p] = pool[s]["next"]
            release(pool, meta, s)
        else:
            cost = pool[s]["cost"] * (t / lot_shares)
            pool[s]["shares"] = lot_shares - t
            pool[s]["cost"] = pool[s]["cost"] - cost
        remaining -= t
        part = parts[n_parts]
        part["shares"] = t
        part["issue"] = pool[s]["issue"]
        part["cost"] = cost
        part["holder"] = pool[s]["holder"]
        part["seq"] = pool[s]["seq"]
        part["conversion"] = pool[s]["conversion"]
        n_parts += 1
    short = remaining if remaining > TOL else 0.0
    return taken_total, short, n_parts, n_taken


@njit(cache=True)
def convert_position(pool, meta, head, p, month, omnibus, om_free, bh, bv, bn, due, taken_h, taken_v,
                     gone_h, gone_v):
    """RULES.md section 4: at the end of ``month`` every lot of position ``p`` due by then
    converts to Class A, and the position's Free Shares convert with them in
    proportion: ``free * converting / held`` (``held``: the lots' shares, ``converting``:
    the due lots', both added in relief order just before).

    Writes the due lots, whole, into ``due`` (relief order) and, in an ordinary
    account, the Free Shares taken by holder into ``taken_*``.  Returns (lots due
    (0: nothing converts), omnibus Free Shares converted, holders taken)."""
    held = 0.0
    converting = 0.0
    n_due = 0
    prev = NO_LOT
    cur = head[p]
    while cur != NO_LOT:
        nxt = pool[cur]["next"]
        held += pool[cur]["shares"]
        if pool[cur]["conversion"] <= month:
            converting += pool[cur]["shares"]
            due[n_due] = pool[cur]
            n_due += 1
            if prev == NO_LOT:
                head[p] = nxt
            else:
                pool[prev]["next"] = nxt
            release(pool, meta, cur)
        else:
            prev = cur
        cur = nxt
    if n_due == 0:
        return 0, 0.0, 0
    if omnibus:
        free = om_free[p]
        gone = 0.0
        if free != 0.0 and held > 0:
            gone = free * converting / held
            if free - gone <= TOL:
                gone = free
            om_free[p] = free - gone
        return n_due, gone, 0
    n_taken = 0
    if bn[p] > 0 and held > 0:
        ft = free_total(om_free, bv, bn, p, False)
        n_taken = take_buckets(bh, bv, bn, p, ft * converting / held, taken_h, taken_v, gone_h, gone_v)
    return n_due, 0.0, n_taken


# --------------------------------------------------------------------------- Python lists


@dataclass
class Position:
    """One account's holding of one portfolio, as Python lists (for callers outside a
    compiled walk, e.g. the scenarios).

    ``lots``: Commission Share lots ``[shares, issue_day, cost, holder, seq,
    conversion_month]``, oldest issue date first, then the lot created first (the
    relief order); ``free``: Free Shares, ``{holder: shares}`` in an ordinary account
    (in the order the buckets were opened), a float in an omnibus account.
    """

    omnibus: bool
    lots: list[list] = field(default_factory=list)
    free: dict[int, float] | float = 0.0

    def __post_init__(self) -> None:
        if not self.omnibus and not isinstance(self.free, dict):
            self.free = {}

    def free_total(self) -> float:
        if self.omnibus:
            return self.free
        _, bv, bn = _buckets(self.free, 1, _Holders())
        return float(free_total(np.zeros(1), bv, bn, 0, False))

    def commission_total(self) -> float:
        pool, _, head = _pool_of(self.lots, _Holders())
        return float(commission_total(pool, head, 0))


class _Holders:
    """Rights holders as the kernels' integer codes, for one call (a caller's holders may
    be any hashable value: codes, names)."""

    def __init__(self) -> None:
        self.names: list = []
        self.codes: dict = {}

    def code(self, holder) -> int:
        c = self.codes.get(holder)
        if c is None:
            c = self.codes[holder] = len(self.names)
            self.names.append(holder)
        return c

    def name(self, code) -> object:
        return self.names[int(code)]


def _pool_of(lots: list[list], holders: _Holders):
    """A one-position pool holding ``lots`` in their order (slot i = lots[i])."""
    pool, meta = new_pool(len(lots) + 1)
    head = np.full(1, NO_LOT, np.int64)
    tail = np.full(1, NO_LOT, np.int64)
    for lot in lots:
        slot = new_lot(pool, meta, float(lot[SHARES]), int(lot[ISSUE]), float(lot[COST]), holders.code(lot[HOLDER]),
                       int(lot[SEQ]), int(lot[CONVERSION]))
        append_slot(pool, head, tail, 0, slot)
    return pool, meta, head


def _slots(pool, head) -> list[int]:
    out, cur = [], int(head[0])
    while cur != NO_LOT:
        out.append(cur)
        cur = int(pool[cur]["next"])
    return out


def _buckets(free: dict, extra: int, holders: _Holders):
    """``free`` as one position's buckets, with room for ``extra`` more holders."""
    size = len(free) + extra + 1
    bh = np.zeros((1, size), np.int64)
    bv = np.zeros((1, size))
    for k, (h, v) in enumerate(free.items()):
        bh[0, k], bv[0, k] = holders.code(h), v
    return bh, bv, np.array([len(free)], np.int64)


def _set_free(free: dict, bh, bv, bn, holders: _Holders) -> None:
    free.clear()
    for k in range(int(bn[0])):
        free[holders.name(bh[0, k])] = float(bv[0, k])


def _pairs(h, v, n, holders: _Holders) -> dict:
    return {holders.name(h[k]): float(v[k]) for k in range(int(n))}


def _scratch(size: int):
    return (np.zeros(size, np.int64), np.zeros(size), np.zeros(size, np.int64), np.zeros(size))


def insert_lot(lots: list[list], lot: list) -> None:
    """Keep ``lots`` in relief order: oldest issue date first, then the lot created first."""
    holders = _Holders()
    pool, meta, head = _pool_of(lots, holders)
    pool = reserve(pool, meta, 1)
    slot = new_lot(pool, meta, float(lot[SHARES]), int(lot[ISSUE]), float(lot[COST]), holders.code(lot[HOLDER]),
                   int(lot[SEQ]), int(lot[CONVERSION]))
    insert_slot(pool, head, 0, slot)
    lots.insert(_slots(pool, head).index(slot), lot)


def sweep_free(free: dict) -> dict:
    """RULES.md preamble: a rights holder's Free Share bucket within the share tolerance
    of zero is gone.  Removes such buckets from ``free``; returns what each held."""
    holders = _Holders()
    bh, bv, bn = _buckets(free, 0, holders)
    gh, gv, _, _ = _scratch(bh.shape[1])
    g = sweep_buckets(bh, bv, bn, 0, gh, gv)
    _set_free(free, bh, bv, bn, holders)
    return _pairs(gh, gv, g, holders)


def take_free(free: dict, n: float) -> dict:
    """Take ``n`` Free Shares of an ordinary account pro rata across its rights holders
    (:func:`take_buckets`); returns what left each bucket."""
    holders = _Holders()
    bh, bv, bn = _buckets(free, 0, holders)
    th, tv, gh, gv = _scratch(bh.shape[1])
    k = take_buckets(bh, bv, bn, 0, float(n), th, tv, gh, gv)
    _set_free(free, bh, bv, bn, holders)
    return _pairs(th, tv, k, holders)


def add_free(free: dict, split: dict) -> dict:
    """Add new Free Shares by rights holder (:func:`add_buckets`); returns each bucket's change."""
    holders = _Holders()
    bh, bv, bn = _buckets(free, len(split), holders)
    size = bh.shape[1] + len(split)
    sh = np.array([holders.code(h) for h in split], np.int64)
    sv = np.array([float(v) for v in split.values()])
    ah, av, gh, gv = _scratch(size)
    k = add_buckets(bh, bv, bn, 0, sh, sv, len(split), ah, av, gh, gv)
    _set_free(free, bh, bv, bn, holders)
    return _pairs(ah, av, k, holders)


def issue_split(position: Position, n: float, serving_holder) -> dict:
    """Exhibit A 2(b) (:func:`split_issue`): new Free Shares split by holdings."""
    holders = _Holders()
    pool, _, head = _pool_of(position.lots, holders)
    bh, bv, bn = _buckets(position.free, 0, holders)
    size = len(position.lots) + bh.shape[1] + 1
    oh, ov, by_h, by_v = _scratch(size)
    k = split_issue(pool, head, 0, bh, bv, bn, float(n), holders.code(serving_holder), oh, ov, by_h, by_v)
    return _pairs(oh, ov, k, holders)


@dataclass
class Relief:
    """What a redeem or exchange_out of ``n`` shares took from a position."""

    free: dict[int, float] | float  # Free Shares taken: by holder (ordinary) or a number (omnibus)
    free_shares: float  # their total
    parts: list[Part]  # Commission lot parts, in relief order
    short: float  # shares asked for beyond what the position held (0 within the tolerance)


def _apply(position: Position, pool, head) -> list[int]:
    """Write the pool's lots back into ``position.lots`` (slot i was lots[i]); returns the
    slots that left."""
    kept = _slots(pool, head)
    for slot in kept:
        lot = position.lots[slot]
        lot[SHARES], lot[COST] = float(pool[slot]["shares"]), float(pool[slot]["cost"])
    left = sorted(set(range(len(position.lots))) - set(kept))
    position.lots[:] = [position.lots[slot] for slot in kept]
    return left


def relieve(position: Position, n: float) -> Relief:
    """RULES.md section 3 (:func:`relieve_position`): take ``n`` shares, Free Shares first,
    then lots oldest issue date first."""
    holders = _Holders()
    pool, meta, head = _pool_of(position.lots, holders)
    parts = np.zeros(len(pool), LOT)
    om_free = np.array([float(position.free) if position.omnibus else 0.0])
    bh, bv, bn = _buckets({} if position.omnibus else position.free, 0, holders)
    th, tv, gh, gv = _scratch(bh.shape[1])
    taken, short, n_parts, n_taken = relieve_position(pool, meta, head, 0, position.omnibus, om_free, bh, bv, bn,
                                                      float(n), parts, th, tv, gh, gv)
    _apply(position, pool, head)
    if position.omnibus:
        position.free = float(om_free[0])
        free: dict[int, float] | float = float(taken)
    else:
        _set_free(position.free, bh, bv, bn, holders)
        free = _pairs(th, tv, n_taken, holders)
    out = [(float(x["shares"]), int(x["issue"]), float(x["cost"]), holders.name(x["holder"]), int(x["conversion"]))
           for x in parts[:n_parts]]
    return Relief(free, float(taken), out, float(short))


@dataclass
class Conversion:
    """What converted to Class A at one month end (RULES.md section 4)."""

    lots: list[list]  # the lots that converted, whole
    free: dict[int, float] | float  # Free Shares that converted with them


def convert_due(position: Position, month: int) -> Conversion | None:
    """RULES.md section 4 (:func:`convert_position`): every lot due by the end of ``month``
    converts, and the Free Shares with them in proportion."""
    holders = _Holders()
    pool, meta, head = _pool_of(position.lots, holders)
    due = np.zeros(len(pool), LOT)
    om_free = np.array([float(position.free) if position.omnibus else 0.0])
    bh, bv, bn = _buckets({} if position.omnibus else position.free, 0, holders)
    th, tv, gh, gv = _scratch(bh.shape[1])
    before = list(position.lots)
    n_due, gone, n_taken = convert_position(pool, meta, head, 0, int(month), position.omnibus, om_free, bh, bv, bn,
                                            due, th, tv, gh, gv)
    if n_due == 0:
        return None
    left = _apply(position, pool, head)
    if position.omnibus:
        position.free = float(om_free[0])
        return Conversion([before[slot] for slot in left], float(gone))
    _set_free(position.free, bh, bv, bn, holders)
    return Conversion([before[slot] for slot in left], _pairs(th, tv, n_taken, holders))


def next_conversion(position: Position) -> int | None:
    """The month of the position's next conversion to Class A (None without lots)."""
    pool, _, head = _pool_of(position.lots, _Holders())
    m = int(next_conversion_month(pool, head, 0))
    return None if m == NEVER else m
