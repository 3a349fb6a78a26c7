"""The generator's walk: exact holdings net of conversions, to size each transaction.

The events of each account are walked in the order the Monthly Calculation
will apply them (date, then txn_id).  Lot relief (RULES.md section 3) and the
month-end conversions to Class A (section 4) are the engine's own compiled
kernels, :mod:`calc.rules.lots` (``relieve_position``, ``convert_position``, on
the kernels' book of lots with omnibus Free Shares: one number per position,
the generator needs no rights holders), so a redemption or an exchange never
takes more than the account holds.  The walk itself is compiled (numba) so
that it can call them.  What the walk adds is the generator's
job, turning each event's *intent* into shares:

- ``purchase``, ``nav_purchase``: ``value`` dollars at the day's NAV (3 decimals);
- ``reinvest``: ``value`` x the shares held (3 decimals);
- ``redeem``, ``exchange_out``: ``value`` x the shares held, rounded down to 3
  decimals; ``value >= 1`` takes everything (6 decimals), never more than the
  account's rows add up to (``nominal``);
- ``exchange_in``: the value of its out leg (the event just before) at the
  day's NAVs (6 decimals).

An event that comes to less than 0.001 share, or an exchange worth less than
$50, gets 0 and is left out of the feed (both legs).  The walk also counts the
shares converted per portfolio and month (``conv_rec``) and a few stats.

A lot's cost is 0.0 (the generator never reads it); its conversion month is
its issue month plus ``CONVERSION_YEARS``, or for a lot that arrives by
exchange after that, its arrival month (as the engine's ledger sets it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from calc.rules import lots as K
from calc.sample.fund_complex import CONVERSION_YEARS
from calc.sample.market import FIRST_YEAR
from calc.vocabulary import SHARE_TOLERANCE, TRANSACTION_KINDS

PURCHASE, NAV_PURCHASE, REINVEST, REDEEM, EXCHANGE_OUT, EXCHANGE_IN = range(6)
KIND_NAMES = TRANSACTION_KINDS  # in the order of the codes above

MIN_SHARES = 0.001  # smaller events are left out
MIN_EXCHANGE_VALUE = 50.0  # dollars: smaller exchanges are left out (their legs could not
# match within a cent per $1000 with shares written to 6 decimals)
FIRST_MONTH = FIRST_YEAR * 12  # the kernel's month index of the calendar's month 0 (January 1996)
CONVERSION_MONTHS = 12 * CONVERSION_YEARS
_NEVER = K.NEVER

# stats slots
STAT_LOTS_CONVERTED, STAT_SHORTFALLS, STAT_MAX_LOTS = range(3)


def run(acc_ptr, ev_sess, ev_kind, ev_port, ev_val, cal, nav, conv_rec, stats) -> np.ndarray:
    """Shares of each event (0 = left out), walking every account (events
    ``acc_ptr[a]:acc_ptr[a+1]``, in order).

    ``conv_rec[p, month]`` receives the shares converted to Class A at each month end up to
    ``cal.end_day``; ``stats`` counts converted lots, shortfalls (must stay 0) and the most
    lots an account created.
    """
    month_of_day = (cal.month_of_day + FIRST_MONTH).astype(np.int64)  # by day - day0
    return _run(np.asarray(acc_ptr, np.int64), ev_sess.astype(np.int64), ev_kind.astype(np.int64),
                ev_port.astype(np.int64), ev_val.astype(np.float64), cal.days.astype(np.int64),
                (cal.months + FIRST_MONTH).astype(np.int64), int(cal.day0), month_of_day, int(cal.end_day),
                np.ascontiguousarray(nav, dtype=np.float64), conv_rec, stats)


@njit(cache=True)
def _convert(pool, meta, head, p, before, om_free, bh, bv, bn, due, th, tv, gh, gv, conv_rec, counts):
    """Convert the position's lots due at the ends of months before ``before``, a month at
    a time; record the shares; return the next conversion month."""
    while True:
        m = K.next_conversion_month(pool, head, p)
        if m == _NEVER or m >= before:
            return m
        n_due, gone, _ = K.convert_position(pool, meta, head, p, m, True, om_free, bh, bv, bn, due, th, tv, gh, gv)
        converted = 0.0
        for j in range(n_due):
            converted += due[j]["shares"]
        conv_rec[p, m - FIRST_MONTH] += converted + gone
        counts[0] += n_due


@njit(cache=True)
def _run(acc_ptr, sess, kinds, ports, vals, sess_day, sess_month, day0, month_of_day, end_day, navs, conv_rec,
         stats):
    n_port = navs.shape[0]
    out = np.zeros(len(kinds))
    # conversions at month ends up to end_day: those of the months before the next day's
    months_walked = month_of_day[end_day + 1 - day0]
    counts = np.zeros(1, np.int64)  # lots converted
    shortfalls = 0
    max_lots = stats[STAT_MAX_LOTS]

    pool, meta = K.new_pool(64)
    parts = np.zeros(len(pool), K.LOT)
    xparts = np.zeros(len(pool), K.LOT)  # the parts of the exchange_out just before
    head = np.full(n_port, K.NO_LOT, np.int64)
    om_free = np.zeros(n_port)
    bh = np.zeros((n_port, 1), np.int64)  # no buckets: Free Shares as one number
    bv = np.zeros((n_port, 1))
    bn = np.zeros(n_port, np.int64)
    th, tv = np.zeros(1, np.int64), np.zeros(1)
    gh, gv = np.zeros(1, np.int64), np.zeros(1)
    due = np.full(n_port, _NEVER, np.int64)  # each position's next conversion month (or earlier)
    nominal = np.zeros(n_port)  # what the feed's own rows add up to (no conversions)
    touched = np.zeros(n_port, np.bool_)
    order = np.zeros(n_port, np.int64)  # positions in the order first touched

    for a in range(len(acc_ptr) - 1):
        n_touched = 0
        seq = 0  # lots created (the kernel's tie-break: the lot created first)
        x_port = -1  # the exchange_out just before: portfolio (-1: none), shares, Free Shares, parts
        x_n = 0.0
        x_free = 0.0
        x_parts = 0
        for i in range(acc_ptr[a], acc_ptr[a + 1]):
            s, p, k = sess[i], ports[i], kinds[i]
            month = sess_month[s]
            if not touched[p]:
                touched[p] = True
                order[n_touched] = p
                n_touched += 1
                head[p] = K.NO_LOT
                om_free[p] = 0.0
                due[p] = _NEVER
                nominal[p] = 0.0
            elif due[p] < month:
                due[p] = _convert(pool, meta, head, p, month, om_free, bh, bv, bn, parts, th, tv, gh, gv, conv_rec,
                                  counts)
            price = navs[p, s]
            if k == PURCHASE or k == NAV_PURCHASE:
                n = math.floor(vals[i] / price * 1000.0 + 0.5) / 1000.0
                if n < MIN_SHARES:
                    continue
                out[i] = n
                nominal[p] += n
                if k == NAV_PURCHASE:
                    om_free[p] += n
                    continue
                conv = month + CONVERSION_MONTHS
                pool = K.reserve(pool, meta, 1)
                parts, xparts = K.parts_buffers(pool, parts, xparts)
                slot = K.new_lot(pool, meta, n, sess_day[s], 0.0, 0, seq, conv)
                K.insert_slot(pool, head, p, slot)
                seq += 1
                if conv < due[p]:
                    due[p] = conv
            elif k == REINVEST:
                held = om_free[p] + K.commission_total(pool, head, p)
                n = math.floor(held * vals[i] * 1000.0 + 0.5) / 1000.0
                if n < MIN_SHARES:
                    continue
                out[i] = n
                nominal[p] += n
                om_free[p] += n
            elif k == REDEEM or k == EXCHANGE_OUT:
                x_port = -1
                held = om_free[p] + K.commission_total(pool, head, p)
                if held <= SHARE_TOLERANCE:
                    continue
                if vals[i] >= 1.0:
                    # everything, but never more than the rows add up to: taking a whole lot
                    # left within the tolerance makes the ledger hold a hair more than the rows
                    n = math.floor((K._min(held, nominal[p]) + 1e-9) * 1e6) / 1e6
                else:
                    n = math.floor(vals[i] * held * 1000.0) / 1000.0
                if n < MIN_SHARES or (k == EXCHANGE_OUT and n * price < MIN_EXCHANGE_VALUE):
                    continue
                out[i] = n
                nominal[p] -= n
                taken, short, n_parts, _ = K.relieve_position(pool, meta, head, p, True, om_free, bh, bv, bn, n,
                                                              parts, th, tv, gh, gv)
                if short:
                    shortfalls += 1
                if k == EXCHANGE_OUT:
                    x_port, x_n, x_free, x_parts = p, n, taken, n_parts
                    xparts[:n_parts] = parts[:n_parts]
            else:  # EXCHANGE_IN: receives what the out leg just before took
                if x_port < 0:
                    continue
                xp = x_port
                x_port = -1
                n = math.floor(x_n * navs[xp, s] / price * 1e6 + 0.5) / 1e6
                if n < SHARE_TOLERANCE:
                    continue
                out[i] = n
                nominal[p] += n
                ratio = n / x_n
                om_free[p] += x_free * ratio
                pool = K.reserve(pool, meta, x_parts)
                parts, xparts = K.parts_buffers(pool, parts, xparts)
                for j in range(x_parts):
                    # converts at the end of the month of the anniversary or, if that is
                    # past, of the month it arrives (calc.engine.ledger's exchange_in)
                    conv = K._max(month_of_day[xparts[j]["issue"] - day0] + CONVERSION_MONTHS, month)
                    slot = K.new_lot(pool, meta, xparts[j]["shares"] * ratio, xparts[j]["issue"], 0.0, 0, seq, conv)
                    K.insert_slot(pool, head, p, slot)
                    seq += 1
                    if conv < due[p]:
                        due[p] = conv
        for j in range(n_touched):
            p = order[j]
            if due[p] < months_walked:
                _convert(pool, meta, head, p, months_walked, om_free, bh, bv, bn, parts, th, tv, gh, gv, conv_rec,
                         counts)
            K.clear_position(pool, meta, head, p)  # the next account starts from an empty book
            touched[p] = False
        if seq > max_lots:
            max_lots = seq
    stats[STAT_LOTS_CONVERTED] += counts[0]
    stats[STAT_SHORTFALLS] += shortfalls
    stats[STAT_MAX_LOTS] = max_lots
    return out
