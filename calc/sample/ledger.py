"""The generator's walk: exact holdings net of conversions, to size each transaction.

The events of each account are walked in the order the Monthly Calculation
will apply them (date, then txn_id).  Lot relief (RULES.md section 3) and the
month-end conversions to Class A (section 4) are the engine's own:
:mod:`calc.rules.lots` (``relieve``, ``convert_due``), on one
``Position(omnibus=True)`` per account and portfolio (Free Shares as one
number: the generator needs no rights holders), so a redemption or an exchange
never takes more than the account holds.  What the walk adds is the generator's
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
_NEVER = 1 << 62

# stats slots
STAT_LOTS_CONVERTED, STAT_SHORTFALLS, STAT_MAX_LOTS = range(3)


def run(acc_ptr, ev_sess, ev_kind, ev_port, ev_val, cal, nav, conv_rec, stats) -> np.ndarray:
    """Shares of each event (0 = left out), walking every account (events
    ``acc_ptr[a]:acc_ptr[a+1]``, in order).

    ``conv_rec[p, month]`` receives the shares converted to Class A at each month end up to
    ``cal.end_day``; ``stats`` counts converted lots, shortfalls (must stay 0) and the most
    lots an account created.
    """
    # plain lists: the walk reads them one item at a time
    sess, kinds, ports, vals = ev_sess.tolist(), ev_kind.tolist(), ev_port.tolist(), ev_val.tolist()
    sess_day = cal.days.tolist()
    sess_month = (cal.months + FIRST_MONTH).tolist()
    day0 = int(cal.day0)
    month_of_day = (cal.month_of_day + FIRST_MONTH).tolist()  # by day - day0
    navs = nav.tolist()
    # conversions at month ends up to end_day: those of the months before the next day's
    months_walked = month_of_day[int(cal.end_day) + 1 - day0]
    out = [0.0] * len(kinds)
    converted = [0]  # lots converted
    shortfalls = 0
    max_lots = int(stats[STAT_MAX_LOTS])

    def convert(pos: K.Position, p: int, before: int) -> int:
        """Convert pos's lots due at the ends of months before ``before``, a month at a
        time; record the shares; return the next conversion month."""
        while True:
            m = K.next_conversion(pos)
            if m is None:
                return _NEVER
            if m >= before:
                return m
            c = K.convert_due(pos, m)
            conv_rec[p, m - FIRST_MONTH] += sum(lot[K.SHARES] for lot in c.lots) + c.free
            converted[0] += len(c.lots)

    acc_ptr = acc_ptr.tolist()
    for a in range(len(acc_ptr) - 1):
        positions: dict[int, K.Position] = {}  # portfolio -> position, in the order first touched
        due: dict[int, int] = {}  # portfolio -> its next conversion month (or earlier)
        nominal: dict[int, float] = {}  # what the feed's own rows add up to (no conversions)
        seq = 0  # lots created (the kernel's tie-break: the lot created first)
        exchange = None  # (portfolio, shares, relief) of the exchange_out just before
        for i in range(acc_ptr[a], acc_ptr[a + 1]):
            s, p, k = sess[i], ports[i], kinds[i]
            month = sess_month[s]
            pos = positions.get(p)
            if pos is None:
                pos = positions[p] = K.Position(True)
                due[p] = _NEVER
                nominal[p] = 0.0
            elif due[p] < month:
                due[p] = convert(pos, p, month)
            price = navs[p][s]
            if k == PURCHASE or k == NAV_PURCHASE:
                n = math.floor(vals[i] / price * 1000.0 + 0.5) / 1000.0
                if n < MIN_SHARES:
                    continue
                out[i] = n
                nominal[p] += n
                if k == NAV_PURCHASE:
                    pos.free += n
                    continue
                conv = month + CONVERSION_MONTHS
                K.insert_lot(pos.lots, [n, sess_day[s], 0.0, 0, seq, conv])
                seq += 1
                if conv < due[p]:
                    due[p] = conv
            elif k == REINVEST:
                held = pos.free + pos.commission_total()
                n = math.floor(held * vals[i] * 1000.0 + 0.5) / 1000.0
                if n < MIN_SHARES:
                    continue
                out[i] = n
                nominal[p] += n
                pos.free += n
            elif k == REDEEM or k == EXCHANGE_OUT:
                exchange = None
                held = pos.free + pos.commission_total()
                if held <= SHARE_TOLERANCE:
                    continue
                if vals[i] >= 1.0:
                    # everything, but never more than the rows add up to: taking a whole lot
                    # left within the tolerance makes the ledger hold a hair more than the rows
                    n = math.floor((min(held, nominal[p]) + 1e-9) * 1e6) / 1e6
                else:
                    n = math.floor(vals[i] * held * 1000.0) / 1000.0
                if n < MIN_SHARES or (k == EXCHANGE_OUT and n * price < MIN_EXCHANGE_VALUE):
                    continue
                out[i] = n
                nominal[p] -= n
                relief = K.relieve(pos, n)
                if relief.short:
                    shortfalls += 1
                if k == EXCHANGE_OUT:
                    exchange = (p, n, relief)
            else:  # EXCHANGE_IN: receives what the out leg just before took
                if exchange is None:
                    continue
                x_port, x_n, relief = exchange
                exchange = None
                n = math.floor(x_n * navs[x_port][s] / price * 1e6 + 0.5) / 1e6
                if n < SHARE_TOLERANCE:
                    continue
                out[i] = n
                nominal[p] += n
                ratio = n / x_n
                pos.free += relief.free_shares * ratio
                for t, issue, _cost, _holder, _conv in relief.parts:
                    # converts at the end of the month of the anniversary or, if that is
                    # past, of the month it arrives (calc.engine.ledger's exchange_in)
                    conv = max(month_of_day[issue - day0] + CONVERSION_MONTHS, month)
                    K.insert_lot(pos.lots, [t * ratio, issue, 0.0, 0, seq, conv])
                    seq += 1
                    if conv < due[p]:
                        due[p] = conv
        for p, pos in positions.items():
            if due[p] < months_walked:
                convert(pos, p, months_walked)
        if seq > max_lots:
            max_lots = seq
    stats[STAT_LOTS_CONVERTED] += converted[0]
    stats[STAT_SHORTFALLS] += shortfalls
    stats[STAT_MAX_LOTS] = max_lots
    return np.array(out)
