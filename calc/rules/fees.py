"""The Distribution Fee (SEVENTH (B)) and the service fee (TENTH), accrued daily on net
assets, and Complete Termination (FIFTEENTH (B)): RULES.md section 6."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from calc.rules.rounding import PRECISION, to_decimal

NEVER = np.iinfo(np.int64).max  # a day after every day: no termination


def accruing(days: np.ndarray, termination_day: int | None) -> np.ndarray:
    """FIFTEENTH (B): from a Complete Termination on, neither fee accrues to anyone."""
    return np.asarray(days) < (NEVER if termination_day is None else termination_day)


def daily_fee(rate: float, net_assets: np.ndarray, year_days: np.ndarray, accrues: np.ndarray) -> np.ndarray:
    """``rate * net_assets / D`` on each accruing day (D: the days in that day's year)."""
    return np.where(accrues, rate * net_assets / year_days, 0.0)


def fee_total(rate: float, net_asset_sum: Decimal, year_days: int) -> Decimal:
    """A month's fee total, exact: ``rate * sum(net assets of accruing days) / D``."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return to_decimal(rate) * net_asset_sum / year_days


def _scaled_integers(values: np.ndarray) -> tuple[list[int], int] | None:
    """``values`` as integers over a power of ten, exactly, when every value is a
    decimal of at most 9 places that fits; else None."""
    for places in (0, 2, 4, 6, 9):
        scale = 10.0**places
        scaled = np.round(values * scale)
        if np.all(np.abs(scaled) < 2**53) and np.array_equal(scaled / scale, values):
            return scaled.astype(np.int64).tolist(), places
    return None


def _int64_sums(a: np.ndarray, b: np.ndarray, tt: np.ndarray, row: np.ndarray, acc: np.ndarray, n: np.ndarray
                ) -> tuple[dict[int, int], dict[int, int], dict[int, int]] | None:
    """The sums of ``a[row] * b[row] * n`` by period ``tt`` (ascending), all and accruing,
    and the day counts, in int64 when no sum can pass 2**63 (integer sums are exact in
    any order); else None (the caller adds Python integers)."""
    if len(tt) == 0:
        return {}, {}, {}
    bound = int(np.abs(a).max()) * int(np.abs(b).max()) * int(n.sum())  # Python integers: no overflow
    if bound >= 2**63:
        return None
    amount = a[row] * b[row] * n
    starts = np.flatnonzero(np.concatenate([[True], tt[1:] != tt[:-1]]))
    keys = tt[starts].tolist()
    all_sums = np.add.reduceat(amount, starts).tolist()
    counts = np.add.reduceat(n, starts).tolist()
    accruing = acc.astype(bool)
    acc_tt = tt[accruing]
    acc_starts = np.flatnonzero(np.concatenate([[True], acc_tt[1:] != acc_tt[:-1]])) if len(acc_tt) else acc_tt
    acc_sums = np.add.reduceat(amount[accruing], acc_starts).tolist() if len(acc_tt) else []
    return (dict(zip(keys, all_sums, strict=True)),
            dict(zip(acc_tt[acc_starts].tolist(), acc_sums, strict=True)),
            dict(zip(keys, counts, strict=True)))


def exact_net_asset_sums(
    nav: np.ndarray, shares: np.ndarray, t: np.ndarray, row: np.ndarray, accrues: np.ndarray
) -> tuple[dict[int, Decimal], dict[int, Decimal], dict[int, int]]:
    """Exact sums of daily net assets (nav x shares of each day's NAV row) by period ``t``:
    all days, accruing days, and the day counts."""
    n_rows = len(nav)
    key = (t * n_rows + row) * 2 + accrues.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    tt_u, rest = np.divmod(uniq, n_rows * 2)
    row_u, acc_u = np.divmod(rest, 2)
    a, b = _scaled_integers(nav), _scaled_integers(shares)
    if a is not None and b is not None:
        sums = _int64_sums(np.array(a[0], dtype=np.int64), np.array(b[0], dtype=np.int64), tt_u, row_u, acc_u,
                           counts)
        if sums is not None:
            return _scaled_sums(*sums, unit=Decimal(1).scaleb(-(a[1] + b[1])))
    if a is not None and b is not None:
        products = [x * y for x, y in zip(a[0], b[0], strict=True)]
        unit = Decimal(1).scaleb(-(a[1] + b[1]))
    else:
        products = [to_decimal(x) * to_decimal(y) for x, y in zip(nav, shares, strict=True)]
        unit = Decimal(1)
    all_int: dict[int, int | Decimal] = {}
    acc_int: dict[int, int | Decimal] = {}
    count: dict[int, int] = {}
    for tt, r, acc, n in zip(tt_u.tolist(), row_u.tolist(), acc_u.tolist(), counts.tolist(), strict=True):
        amount = products[r] * n
        all_int[tt] = all_int.get(tt, 0) + amount
        count[tt] = count.get(tt, 0) + n
        if acc:
            acc_int[tt] = acc_int.get(tt, 0) + amount
    return _scaled_sums(all_int, acc_int, count, unit=unit)


def _scaled_sums(
    all_int: dict[int, int | Decimal], acc_int: dict[int, int | Decimal], count: dict[int, int], unit: Decimal
) -> tuple[dict[int, Decimal], dict[int, Decimal], dict[int, int]]:
    """The sums of scaled integers (or Decimals) back in dollars: each times ``unit``, at the rulebook's precision."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return (
            {k: Decimal(v) * unit for k, v in all_int.items()},
            {k: Decimal(v) * unit for k, v in acc_int.items()},
            count,
        )
