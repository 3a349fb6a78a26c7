"""The generator's own ledger: exact holdings net of conversions, to size each transaction.

The events of each account are walked in the order the Monthly Calculation
will apply them (date, then txn_id).  The walk keeps, per portfolio, the
account's Commission lots (oldest issue date first) and its Free Shares, and
applies the rulebook's lot relief (section 3) and month-end conversions to
Class A (section 4), so a redemption or an exchange never takes more than the
account holds.  It turns each event's *intent* into shares:

- ``purchase``, ``nav_purchase``: ``value`` dollars at the day's NAV (3 decimals);
- ``reinvest``: ``value`` x the shares held (3 decimals);
- ``redeem``, ``exchange_out``: ``value`` x the shares held, rounded down to 3
  decimals; ``value >= 1`` takes everything (6 decimals);
- ``exchange_in``: the value of its out leg (the event just before) at the
  day's NAVs (6 decimals).

An event that comes to less than 0.001 share, or an exchange worth less than
$50, gets 0 and is left out of the feed (both legs).
The walk is sequential per account and compiled with numba when available.
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the walk; without it the same code runs (slowly) as Python
    from numba import njit
except ImportError:  # pragma: no cover
    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

PURCHASE, NAV_PURCHASE, REINVEST, REDEEM, EXCHANGE_OUT, EXCHANGE_IN = range(6)
KIND_NAMES = ("purchase", "nav_purchase", "reinvest", "redeem", "exchange_out", "exchange_in")

TOLERANCE = 1e-6  # RULES.md: a share count within 1e-6 of zero counts as zero
MIN_SHARES = 0.001  # smaller events are left out
MIN_EXCHANGE_VALUE = 50.0  # dollars: smaller exchanges are left out (their legs could not
# match within a cent per $1000 with shares written to 6 decimals)
_NEVER = np.int64(1) << 62

# stats slots
STAT_LOTS_CONVERTED, STAT_SHORTFALLS, STAT_MAX_LOTS = range(3)


@njit(cache=True)
def walk(acc_ptr, ev_sess, ev_kind, ev_port, ev_val, sess_day, nav, month_of_day, month_end, day0, end_day,
         out_shares, conv_rec, stats):
    """Walk every account (events ``acc_ptr[a]:acc_ptr[a+1]``, in order) and fill ``out_shares``.

    ``conv_rec[p, month]`` receives the shares converted to Class A at each month end up to
    ``end_day``; ``stats`` counts converted lots, shortfalls (must stay 0) and the largest
    lot pool an account needed.
    """
    # helpers as inner functions: compiled with walk, or plain Python in walk.py_func
    def rnd(x: float, places: float) -> float:
        return np.floor(x * places + 0.5) / places

    def held_lots(p, head, l_sh, l_next) -> float:
        total = 0.0
        j = head[p]
        while j >= 0:
            total += l_sh[j]
            j = l_next[j]
        return total

    def convert(p, d, free, head, l_sh, l_conv, l_base, l_next, month_of_day, day0, conv_rec, stats):
        """Convert position p's lots due at month ends before day d (and their Free Shares)."""
        while True:
            cd = _NEVER
            j = head[p]
            while j >= 0 and l_base[j] < d:
                if l_conv[j] < d and l_conv[j] < cd:
                    cd = l_conv[j]
                j = l_next[j]
            if cd == _NEVER:
                return
            held = held_lots(p, head, l_sh, l_next)
            converting = 0.0
            prev = -1
            j = head[p]
            while j >= 0 and l_base[j] < d:
                nxt = l_next[j]
                if l_conv[j] == cd:
                    converting += l_sh[j]
                    stats[STAT_LOTS_CONVERTED] += 1
                    if prev < 0:
                        head[p] = nxt
                    else:
                        l_next[prev] = nxt
                else:
                    prev = j
                j = nxt
            gone = 0.0
            if free[p] != 0.0 and held > 0.0:
                gone = free[p] * converting / held
                if free[p] - gone <= TOLERANCE:
                    gone = free[p]
                free[p] -= gone
            conv_rec[p, month_of_day[cd - day0]] += converting + gone

    def grow(a, n):
        b = np.empty(n, dtype=a.dtype)
        b[: len(a)] = a
        return b

    def insert(p, j, head, l_issue, l_next):
        """Insert lot j into p's list: oldest issue date first, after lots of the same date."""
        prev = -1
        c = head[p]
        while c >= 0 and l_issue[c] <= l_issue[j]:
            prev = c
            c = l_next[c]
        l_next[j] = c
        if prev < 0:
            head[p] = j
        else:
            l_next[prev] = j

    n_port = nav.shape[0]
    cap = 256
    l_sh = np.zeros(cap)
    l_issue = np.zeros(cap, dtype=np.int64)
    l_base = np.zeros(cap, dtype=np.int64)
    l_conv = np.zeros(cap, dtype=np.int64)
    l_next = np.full(cap, -1, dtype=np.int64)
    x_issue = np.zeros(cap, dtype=np.int64)
    x_base = np.zeros(cap, dtype=np.int64)
    x_sh = np.zeros(cap)
    free = np.zeros(n_port)
    nominal = np.zeros(n_port)  # what the feed's own rows add up to (no conversions)
    head = np.full(n_port, -1, dtype=np.int64)
    touched = np.zeros(n_port, dtype=np.bool_)
    touched_list = np.zeros(n_port, dtype=np.int64)

    for a in range(len(acc_ptr) - 1):
        n_touched = 0
        npool = 0
        x_ok = False
        x_port = -1
        x_n = 0.0
        x_free = 0.0
        n_parts = 0
        for i in range(acc_ptr[a], acc_ptr[a + 1]):
            s = ev_sess[i]
            d = sess_day[s]
            p = ev_port[i]
            k = ev_kind[i]
            out_shares[i] = 0.0
            if not touched[p]:
                touched[p] = True
                touched_list[n_touched] = p
                n_touched += 1
            need = npool + 1 + (n_parts if k == EXCHANGE_IN else 0)
            if need > cap:
                cap = max(2 * cap, need)
                l_sh = grow(l_sh, cap)
                l_issue = grow(l_issue, cap)
                l_base = grow(l_base, cap)
                l_conv = grow(l_conv, cap)
                l_next = grow(l_next, cap)
                x_issue = grow(x_issue, cap)
                x_base = grow(x_base, cap)
                x_sh = grow(x_sh, cap)
            convert(p, d, free, head, l_sh, l_conv, l_base, l_next, month_of_day, day0, conv_rec, stats)
            price = nav[p, s]
            if k == PURCHASE or k == NAV_PURCHASE:
                n = rnd(ev_val[i] / price, 1000.0)
                if n < MIN_SHARES:
                    continue
                out_shares[i] = n
                nominal[p] += n
                if k == NAV_PURCHASE:
                    free[p] += n
                    continue
                base = month_end[month_of_day[d - day0] + 96]
                j = npool
                npool += 1
                l_sh[j] = n
                l_issue[j] = d
                l_base[j] = base
                l_conv[j] = base
                insert(p, j, head, l_issue, l_next)
            elif k == REINVEST:
                held = free[p] + held_lots(p, head, l_sh, l_next)
                n = rnd(held * ev_val[i], 1000.0)
                if n < MIN_SHARES:
                    continue
                out_shares[i] = n
                nominal[p] += n
                free[p] += n
            elif k == REDEEM or k == EXCHANGE_OUT:
                x_ok = False
                held = free[p] + held_lots(p, head, l_sh, l_next)
                if held <= TOLERANCE:
                    continue
                if ev_val[i] >= 1.0:
                    # everything, but never more than the rows add up to: taking a whole lot
                    # left within the tolerance makes the ledger hold a hair more than the rows
                    n = np.floor((min(held, nominal[p]) + 1e-9) * 1e6) / 1e6
                else:
                    n = np.floor(ev_val[i] * held * 1000.0) / 1000.0
                if n < MIN_SHARES or (k == EXCHANGE_OUT and n * price < MIN_EXCHANGE_VALUE):
                    continue
                out_shares[i] = n
                nominal[p] -= n
                take = min(n, free[p])
                if free[p] - take <= TOLERANCE:
                    take = free[p]
                free[p] -= take
                rem = n - take
                n_parts = 0
                while rem > TOLERANCE and head[p] >= 0:
                    j = head[p]
                    t = min(l_sh[j], rem)
                    if l_sh[j] - t <= TOLERANCE:
                        t = l_sh[j]
                        head[p] = l_next[j]
                    else:
                        l_sh[j] -= t
                    rem -= t
                    x_issue[n_parts] = l_issue[j]
                    x_base[n_parts] = l_base[j]
                    x_sh[n_parts] = t
                    n_parts += 1
                if rem > TOLERANCE:
                    stats[STAT_SHORTFALLS] += 1
                if k == EXCHANGE_OUT:
                    x_ok = True
                    x_port = p
                    x_n = n
                    x_free = take
            else:  # EXCHANGE_IN: receives what the out leg just before took
                if not x_ok:
                    continue
                x_ok = False
                n = rnd(x_n * nav[x_port, s] / price, 1e6)
                if n < TOLERANCE:
                    continue
                out_shares[i] = n
                nominal[p] += n
                ratio = n / x_n
                free[p] += x_free * ratio
                arrival_end = month_end[month_of_day[d - day0]]
                for q in range(n_parts):
                    j = npool
                    npool += 1
                    l_sh[j] = x_sh[q] * ratio
                    l_issue[j] = x_issue[q]
                    l_base[j] = x_base[q]
                    l_conv[j] = max(x_base[q], arrival_end)
                    insert(p, j, head, l_issue, l_next)
        for t in range(n_touched):
            p = touched_list[t]
            convert(p, end_day + 1, free, head, l_sh, l_conv, l_base, l_next, month_of_day, day0, conv_rec, stats)
            free[p] = 0.0
            nominal[p] = 0.0
            head[p] = -1
            touched[p] = False
        if npool > stats[STAT_MAX_LOTS]:
            stats[STAT_MAX_LOTS] = npool


def run(acc_ptr, ev_sess, ev_kind, ev_port, ev_val, cal, nav, conv_rec, stats, jit: bool = False) -> np.ndarray:
    """Shares of each event (0 = left out); conversions are added into ``conv_rec``.

    ``jit``: the numba-compiled walk (worth its few seconds of compiling, once per machine,
    for millions of events); otherwise the same code as plain Python.
    """
    out = np.zeros(len(ev_kind))
    fn = walk if jit else getattr(walk, "py_func", walk)
    fn(
        np.ascontiguousarray(acc_ptr, dtype=np.int64), np.ascontiguousarray(ev_sess, dtype=np.int64),
        np.ascontiguousarray(ev_kind, dtype=np.int64), np.ascontiguousarray(ev_port, dtype=np.int64),
        np.ascontiguousarray(ev_val, dtype=np.float64), cal.days, nav, cal.month_of_day, cal.month_end,
        np.int64(cal.day0), np.int64(cal.end_day), out, conv_rec, stats,
    )
    return out
