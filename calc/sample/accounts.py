"""Shareholders and their activity, as vectorised numpy: event *intents* for the ledger walk.

Two kinds of account:

- **retail** accounts (ordinary): open with a purchase in a home portfolio on a
  day drawn from the sales curve, may buy more, reinvest their distributions
  (most do), redeem part now and then, may exchange into one or two other
  portfolios, and close (redeem everything) after a random holding period;
- **omnibus** accounts of a handful of broker-dealers: one account each,
  holding many portfolios, with the month's net purchases, redemptions
  (some under a CDSC waiver), reinvestments, Rule 22d-1 sales at NAV and
  exchanges between the portfolios it holds.

Events carry an intent (dollars, a fraction of the holding, a distribution
rate); ``calc.sample.ledger`` turns them into shares.  Within an account's day
the order is: reinvest, purchase, nav_purchase, exchanges (out leg, then its
in leg), redeem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calc.sample.ledger import EXCHANGE_IN, EXCHANGE_OUT, NAV_PURCHASE, PURCHASE, REDEEM, REINVEST
from calc.sample.market import SESSIONS_PER_YEAR, Calendar

# Order of kinds within an account's day, and the bits of the ``minor`` sort key.
KIND_RANK = {REINVEST: 0, PURCHASE: 1, NAV_PURCHASE: 2, EXCHANGE_OUT: 3, EXCHANGE_IN: 3, REDEEM: 4}
SLOT_BITS = 13

WAIVER_CODES = ("", "death", "disability", "swp", "rmd")
WAIVER_MIX_PARTIAL = (0.10, 0.10, 0.55, 0.25)  # death, disability, swp, rmd
WAIVER_MIX_CLOSE = (0.45, 0.20, 0.05, 0.30)

# Retail behaviour.
ACCOUNT_SIZE_EXPONENT = 0.7  # accounts per portfolio ~ target size ** this
ACCOUNT_WEIGHT_FLOOR = 0.3  # ... but at least this share of the average portfolio's
SHORT_HOLDER_SHARE = 0.65
SHORT_HOLDING_YEARS, LONG_HOLDING_YEARS = 3.5, 11.0  # mean holding periods (exponential)
ADDITIONAL_PURCHASES_PER_YEAR = 0.45
ADDITIONAL_PURCHASE_SIZE = (-1.0, 0.6)  # lognormal (mu, sigma) relative to the first purchase
FIRST_PURCHASE_SIGMA = 0.9
REINVESTING_SHARE = 0.85  # of the accounts of portfolios paying once or four times a year
REINVESTING_SHARE_INCOME = 0.50  # monthly payers: many income investors take cash
NAV_PURCHASE_ACCOUNTS = 0.04
PARTIAL_REDEMPTIONS_PER_YEAR = 0.12
PARTIAL_REDEMPTION_FRACTION = (0.05, 0.60)
WAIVER_SHARE_PARTIAL = 0.03
WAIVER_SHARE_CLOSE = 0.06
EXCHANGING_ACCOUNTS = 0.15
SECOND_EXCHANGE = 0.30
FULL_EXCHANGE = 0.55
PARTIAL_EXCHANGE_FRACTION = (0.20, 0.80)
EXCHANGE_TRIES = 8

# Omnibus behaviour (per broker, portfolio and month).
OMNIBUS_COVER_FLAGSHIP, OMNIBUS_COVER_OTHER = 0.90, 0.45
OMNIBUS_PURCHASE_P = 0.70
OMNIBUS_PURCHASE_SIGMA = 0.30
OMNIBUS_REDEEM_P = 0.80
OMNIBUS_REDEEM_FRACTION = (0.010, 0.035)
OMNIBUS_WAIVER_P = 0.04
OMNIBUS_WAIVER_FRACTION = (0.0005, 0.003)
OMNIBUS_NAV_PURCHASE_P = 0.04
OMNIBUS_NAV_PURCHASE_SIZE = 0.05  # of the month's purchase
OMNIBUS_EXCHANGE_P = 0.04
OMNIBUS_EXCHANGE_FRACTION = (0.01, 0.06)


@dataclass
class Plan:
    """Per-portfolio inputs of the account generators (arrays over the sample's portfolios)."""

    inception: np.ndarray  # first session
    stop: np.ndarray  # first session without sales (Complete Termination), cal.n where none
    schedule: np.ndarray  # 0 = A-1, 1 = A-2
    flagship: np.ndarray  # bool
    gross_sales: np.ndarray  # dollars over the history
    account_weight: np.ndarray  # share of retail accounts (sums to 1)
    agreement: int  # first session on or after the agreement (cross-schedule exchanges from then)
    div_key: np.ndarray  # sorted port * cal.n + session of each distribution
    div_rate: np.ndarray  # fraction of the holding paid (and reinvested) at each distribution
    reinvest_share: np.ndarray  # share of a portfolio's retail accounts that reinvest


@dataclass
class Events:
    """Event intents: one row per event, in any order."""

    acc: np.ndarray
    sess: np.ndarray
    kind: np.ndarray
    port: np.ndarray
    val: np.ndarray
    minor: np.ndarray
    waiver: np.ndarray

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        return Events(*(np.concatenate([getattr(p, f) for p in parts]) for f in Events.__dataclass_fields__))

    def take(self, idx: np.ndarray) -> Events:
        return Events(*(getattr(self, f)[idx] for f in Events.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.acc)


def _events(acc, sess, kind, port, val, slot, waiver=None) -> Events:
    n = len(acc)
    kind = np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy()
    rank = np.array([KIND_RANK[k] for k in range(6)], dtype=np.int32)[kind]
    return Events(
        acc=np.asarray(acc, dtype=np.int64),
        sess=np.asarray(sess, dtype=np.int64),
        kind=kind,
        port=np.asarray(port, dtype=np.int16),
        val=np.broadcast_to(np.asarray(val, dtype=np.float64), (n,)).copy(),
        minor=(rank << SLOT_BITS) | np.asarray(slot, dtype=np.int32),
        waiver=np.zeros(n, dtype=np.int8) if waiver is None else np.asarray(waiver, dtype=np.int8),
    )


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeated ``counts`` times and the position of each copy within its row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(len(rows)) - starts[rows]


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uniform session in (lo, hi] (hi when the range is empty)."""
    span = np.maximum(hi - lo, 1)
    return np.minimum(lo + 1 + np.floor(rng.random(len(lo)) * span).astype(np.int64), hi)


def _waivers(rng: np.random.Generator, n: int, share: float, mix: tuple[float, ...]) -> np.ndarray:
    codes = rng.choice(np.arange(1, len(WAIVER_CODES)), size=n, p=np.array(mix) / sum(mix))
    return np.where(rng.random(n) < share, codes, 0).astype(np.int8)


def _reinvests(acc, port, lo, hi, plan: Plan, n_sess: int, slot) -> Events:
    """A reinvest at each distribution of ``port`` in (lo, hi]."""
    i0 = np.searchsorted(plan.div_key, port * n_sess + lo, side="right")
    i1 = np.searchsorted(plan.div_key, port * n_sess + hi, side="right")
    rows, k = _expand(np.maximum(i1 - i0, 0))
    at = i0[rows] + k
    return _events(acc[rows], plan.div_key[at] % n_sess, REINVEST, port[rows], plan.div_rate[at],
                   np.broadcast_to(slot, acc.shape)[rows])


# ----------------------------------------------------------------------------- retail


@dataclass
class Skeleton:
    """What is decided per retail account before its events are drawn."""

    home: np.ndarray
    open: np.ndarray
    close: np.ndarray  # session of the closing redemption; cal.n = still open at the end
    last: np.ndarray  # min(close, cal.n - 1)
    reinvests: np.ndarray
    ex1: np.ndarray
    x1: np.ndarray
    q1: np.ndarray
    f1: np.ndarray
    ex2: np.ndarray
    x2: np.ndarray
    q2: np.ndarray
    f2: np.ndarray
    first_units: np.ndarray

    def slot_at(self, idx: np.ndarray, sess: np.ndarray) -> np.ndarray:
        return ((self.ex1[idx] & (sess >= self.x1[idx])).astype(np.int64)
                + (self.ex2[idx] & (sess >= self.x2[idx])).astype(np.int64))

    def port_of_slot(self, idx: np.ndarray, slot: np.ndarray) -> np.ndarray:
        return np.choose(slot, [self.home[idx], self.q1[idx], self.q2[idx]])


def _exchange_target(rng, plan: Plan, src: np.ndarray, avoid: np.ndarray, when: np.ndarray) -> np.ndarray:
    """A portfolio to exchange into on ``when`` (-1 where none found)."""
    n_port = len(plan.inception)
    target = np.full(len(src), -1, dtype=np.int64)
    todo = np.arange(len(src))
    for _ in range(EXCHANGE_TRIES):
        if len(todo) == 0:
            break
        cand = rng.choice(n_port, size=len(todo), p=plan.account_weight)
        s, w = src[todo], when[todo]
        ok = ((cand != s) & (cand != avoid[todo]) & (plan.inception[cand] <= w) & (plan.stop[cand] > w)
              & ((w >= plan.agreement) | (plan.schedule[cand] == plan.schedule[s])))
        target[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return target


def retail_skeleton(rng: np.random.Generator, n: int, plan: Plan, sales_weight: np.ndarray) -> Skeleton:
    n_port = len(plan.inception)
    n_sess = len(sales_weight)
    home = rng.choice(n_port, size=n, p=plan.account_weight)
    open_ = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for p in range(n_port):
        idx = np.flatnonzero(home == p)
        lo, hi = int(plan.inception[p]), int(min(plan.stop[p], n_sess))
        cdf = np.cumsum(sales_weight[lo:hi])
        cdf /= cdf[-1]
        open_[idx] = lo + np.minimum(np.searchsorted(cdf, u[idx], side="right"), hi - lo - 1)
    long = rng.random(n) >= SHORT_HOLDER_SHARE
    years = rng.exponential(np.where(long, LONG_HOLDING_YEARS, SHORT_HOLDING_YEARS))
    close = open_ + np.maximum(1, np.round(years * SESSIONS_PER_YEAR).astype(np.int64))
    close = np.where(close >= n_sess, n_sess, close)
    last = np.minimum(close, n_sess - 1)
    reinvests = rng.random(n) < plan.reinvest_share[home]

    span = last - open_
    ex1 = (rng.random(n) < EXCHANGING_ACCOUNTS) & (span > 20)
    x1 = _between(rng, open_, last)
    q1 = _exchange_target(rng, plan, home, home, x1)
    ex1 &= q1 >= 0
    f1 = np.where(rng.random(n) < FULL_EXCHANGE, 1.0, rng.uniform(*PARTIAL_EXCHANGE_FRACTION, n))
    ex2 = ex1 & (rng.random(n) < SECOND_EXCHANGE) & (last - x1 > 20)
    x2 = _between(rng, x1, last)
    q2 = _exchange_target(rng, plan, np.maximum(q1, 0), home, x2)
    ex2 &= q2 >= 0
    f2 = np.where(rng.random(n) < FULL_EXCHANGE, 1.0, rng.uniform(*PARTIAL_EXCHANGE_FRACTION, n))
    q1 = np.where(ex1, q1, home)
    q2 = np.where(ex2, q2, q1)
    first_units = rng.lognormal(0.0, FIRST_PURCHASE_SIGMA, n)
    return Skeleton(home, open_, close, last, reinvests, ex1, x1, q1, f1, ex2, x2, q2, f2, first_units)


def retail_sales(rng: np.random.Generator, sk: Skeleton, plan: Plan, sales_weight: np.ndarray) -> Events:
    """Purchases and Rule 22d-1 sales at NAV of every retail account; ``val`` in units of the
    account's first purchase (scaled to dollars by ``scale_sales``); ``acc`` = account index."""
    n = len(sk.home)
    idx = np.arange(n)
    first = _events(idx, sk.open, PURCHASE, sk.home, sk.first_units, 0)

    years = (sk.last - sk.open) / SESSIONS_PER_YEAR
    rows, _ = _expand(rng.poisson(ADDITIONAL_PURCHASES_PER_YEAR * years))
    sess = _between(rng, sk.open[rows], sk.last[rows])
    keep = rng.random(len(rows)) < np.minimum(1.0, sales_weight[sess] / sales_weight[sk.open[rows]])
    units = sk.first_units[rows] * rng.lognormal(*ADDITIONAL_PURCHASE_SIZE, len(rows))
    slot = sk.slot_at(rows, sess)
    port = sk.port_of_slot(rows, slot)
    keep &= sess < plan.stop[port]
    more = _events(rows[keep], sess[keep], PURCHASE, port[keep], units[keep], slot[keep])

    who = np.flatnonzero(rng.random(n) < NAV_PURCHASE_ACCOUNTS)
    rows, _ = _expand(1 + rng.poisson(0.5, len(who)))
    rows = who[rows]
    sess = _between(rng, sk.open[rows], sk.last[rows])
    slot = sk.slot_at(rows, sess)
    port = sk.port_of_slot(rows, slot)
    units = sk.first_units[rows] * rng.uniform(0.05, 0.30, len(rows))
    keep = sess < plan.stop[port]
    nav = _events(rows[keep], sess[keep], NAV_PURCHASE, port[keep], units[keep], slot[keep])
    return Events.concat([first, more, nav])


def scale_sales(sales: Events, sk: Skeleton, plan: Plan, retail_share: float) -> None:
    """Turn units into dollars: each home portfolio's accounts buy ``retail_share`` of its gross sales."""
    home = sk.home[sales.acc]
    units = np.bincount(home, weights=np.where(sales.kind == PURCHASE, sales.val, 0.0), minlength=len(plan.inception))
    scale = retail_share * plan.gross_sales / np.maximum(units, 1e-12)
    sales.val = sales.val * scale[home]


def retail_activity(rng: np.random.Generator, sk: Skeleton, idx: np.ndarray, plan: Plan, n_sess: int) -> Events:
    """Reinvests, redemptions and exchanges of the retail accounts ``idx`` (``acc`` = account index)."""
    o, last, close = sk.open[idx], sk.last[idx], sk.close[idx]
    ex1, ex2, x1, x2 = sk.ex1[idx], sk.ex2[idx], sk.x1[idx], sk.x2[idx]
    home, q1, q2 = sk.home[idx], sk.q1[idx], sk.q2[idx]
    parts = []

    # reinvested distributions, per position held
    r = sk.reinvests[idx]
    end0 = np.where(ex1 & (sk.f1[idx] >= 1.0), x1, last)
    end1 = np.where(ex2 & (sk.f2[idx] >= 1.0), x2, last)
    parts.append(_reinvests(idx[r], home[r], o[r], end0[r], plan, n_sess, 0))
    m = r & ex1
    parts.append(_reinvests(idx[m], q1[m], x1[m], end1[m], plan, n_sess, 1))
    m = r & ex2
    parts.append(_reinvests(idx[m], q2[m], x2[m], last[m], plan, n_sess, 2))

    # partial redemptions from the position held at the time
    rows, _ = _expand(rng.poisson(PARTIAL_REDEMPTIONS_PER_YEAR * (last - o) / SESSIONS_PER_YEAR))
    acc = idx[rows]
    sess = _between(rng, o[rows], last[rows])
    slot = sk.slot_at(acc, sess)
    frac = rng.uniform(*PARTIAL_REDEMPTION_FRACTION, len(rows))
    waiver = _waivers(rng, len(rows), WAIVER_SHARE_PARTIAL, WAIVER_MIX_PARTIAL)
    parts.append(_events(acc, sess, REDEEM, sk.port_of_slot(acc, slot), frac, slot, waiver))

    # closing: everything, in every position
    closing = close < n_sess
    waiver = _waivers(rng, len(idx), WAIVER_SHARE_CLOSE, WAIVER_MIX_CLOSE)
    for slot, has, port in ((0, closing, home), (1, closing & ex1, q1), (2, closing & ex2, q2)):
        parts.append(_events(idx[has], close[has], REDEEM, port[has], 1.0, slot, waiver[has]))

    # exchanges: out leg then in leg, same account and day
    for n_ex, has, when, src, dst, frac in ((0, ex1, x1, home, q1, sk.f1[idx]), (1, ex2, x2, q1, q2, sk.f2[idx])):
        parts.append(_events(idx[has], when[has], EXCHANGE_OUT, src[has], frac[has], 2 * n_ex))
        parts.append(_events(idx[has], when[has], EXCHANGE_IN, dst[has], 0.0, 2 * n_ex + 1))
    return Events.concat(parts)


# ----------------------------------------------------------------------------- omnibus


def omnibus_events(rng: np.random.Generator, n_brokers: int, plan: Plan, cal: Calendar,
                   sales_weight: np.ndarray, omnibus_share: float) -> Events:
    """The broker-dealers' omnibus accounts (``acc`` = broker index)."""
    n_port = len(plan.inception)
    n_months = cal.n_months
    cover_p = np.where(plan.flagship, OMNIBUS_COVER_FLAGSHIP, OMNIBUS_COVER_OTHER)
    cover = rng.random((n_brokers, n_port)) < cover_p[None, :]
    lonely = ~cover.any(axis=0)
    cover[rng.integers(0, n_brokers, n_port)[lonely], np.flatnonzero(lonely)] = True
    pos_b, pos_p = np.nonzero(cover)
    n_cover = cover.sum(axis=0)

    month_first = np.searchsorted(cal.months, np.arange(n_months), side="left")
    month_last = np.searchsorted(cal.months, np.arange(n_months), side="right") - 1
    sales_month = np.bincount(cal.months, weights=sales_weight, minlength=n_months)
    # monthly sales weight per portfolio, over the months it sells
    month_of_incep = cal.months[plan.inception]
    stop_month = np.where(plan.stop < cal.n, cal.months[np.minimum(plan.stop, cal.n - 1)], n_months)
    mgrid = np.arange(n_months)[None, :]
    selling = (mgrid >= month_of_incep[:, None]) & (mgrid < stop_month[:, None])
    mw = np.where(selling, sales_month[None, :], 0.0)
    mw /= mw.sum(axis=1, keepdims=True)

    m0 = month_of_incep[pos_p]
    rows, k = _expand(n_months - m0)
    b, p, m = pos_b[rows], pos_p[rows], m0[rows] + k
    lo = np.maximum(month_first[m], plan.inception[p])
    hi = month_last[m]

    def day_in_month() -> np.ndarray:
        return lo + np.floor(rng.random(len(m)) * (hi - lo + 1)).astype(np.int64)

    parts = []
    sess = day_in_month()
    buy = (rng.random(len(m)) < OMNIBUS_PURCHASE_P) & (sess < plan.stop[p])
    mean = omnibus_share * plan.gross_sales[p] * mw[p, m] / n_cover[p] / OMNIBUS_PURCHASE_P
    dollars = mean * rng.lognormal(-0.5 * OMNIBUS_PURCHASE_SIGMA**2, OMNIBUS_PURCHASE_SIGMA, len(m))
    parts.append(_events(b[buy], sess[buy], PURCHASE, p[buy], dollars[buy], p[buy]))

    sess = day_in_month()
    nav = (rng.random(len(m)) < OMNIBUS_NAV_PURCHASE_P) & (sess < plan.stop[p]) & (mean > 0)
    parts.append(_events(b[nav], sess[nav], NAV_PURCHASE, p[nav], OMNIBUS_NAV_PURCHASE_SIZE * mean[nav], p[nav]))

    sess = day_in_month()
    red = rng.random(len(m)) < OMNIBUS_REDEEM_P
    frac = rng.uniform(*OMNIBUS_REDEEM_FRACTION, len(m))
    parts.append(_events(b[red], sess[red], REDEEM, p[red], frac[red], p[red]))

    sess = day_in_month()
    wav = rng.random(len(m)) < OMNIBUS_WAIVER_P
    frac = rng.uniform(*OMNIBUS_WAIVER_FRACTION, len(m))
    codes = _waivers(rng, len(m), 1.0, WAIVER_MIX_PARTIAL)
    parts.append(_events(b[wav], sess[wav], REDEEM, p[wav], frac[wav], p[wav], codes[wav]))

    # exchanges into another portfolio the same broker holds
    sess = day_in_month()
    exc = np.flatnonzero(rng.random(len(m)) < OMNIBUS_EXCHANGE_P)
    held = [np.flatnonzero(cover[i]) for i in range(n_brokers)]
    pick = rng.random(len(exc))
    dst = np.array([held[bb][int(u * len(held[bb]))] for bb, u in zip(b[exc], pick, strict=True)], dtype=np.int64)
    src, when = p[exc], sess[exc]
    ok = ((dst != src) & (plan.inception[dst] <= when) & (plan.stop[dst] > when)
          & ((when >= plan.agreement) | (plan.schedule[dst] == plan.schedule[src])))
    exc, dst, src, when = exc[ok], dst[ok], src[ok], when[ok]
    acc = b[exc]
    order = np.lexsort((np.arange(len(exc)), when, acc))
    acc, when, src, dst, exc = acc[order], when[order], src[order], dst[order], exc[order]
    new_group = np.ones(len(acc), dtype=bool)
    new_group[1:] = (acc[1:] != acc[:-1]) | (when[1:] != when[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(acc)), 0))
    rank = np.arange(len(acc)) - group_start
    frac = rng.uniform(*OMNIBUS_EXCHANGE_FRACTION, len(acc))
    parts.append(_events(acc, when, EXCHANGE_OUT, src, frac, 2 * rank))
    parts.append(_events(acc, when, EXCHANGE_IN, dst, 0.0, 2 * rank + 1))

    # every distribution reinvested, from the position's first month
    start = np.maximum(month_first[m0], plan.inception[pos_p]) - 1
    parts.append(_reinvests(pos_b, pos_p.astype(np.int64), start, np.full(len(pos_b), cal.n - 1), plan, cal.n, pos_p))
    return Events.concat(parts)


def sort_order(ev: Events) -> np.ndarray:
    """The order of the ledger walk: account, session, kind rank and slot (stable)."""
    return np.lexsort((ev.minor, ev.sess, ev.acc))
