"""Attribution of every share outstanding to a rights holder (Exhibit A;
RULES.md section 5), and the 12b-1 Share.

- Exhibit A 2(a), Commission Shares: to the lot's rights holder (the ledger).
- Exhibit A 2(b), Free Shares of ordinary accounts: split at issue (the ledger).
- Exhibit A 2(c)(i)-(iv), Omnibus Shares: the monthly roll-forward of each
  omnibus account and portfolio, here, vectorised across accounts: one step a
  month for all of them at once.
- The 12b-1 Share: 100 percent to the Distributor until another rights holder's
  tenure starts, then each rights holder's attributed shares over the shares
  outstanding (Exhibit A, first paragraph; SEVENTH (B)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.calendar import month_end_of_index
from calc.ledger import SHARE_TOLERANCE, LedgerChanges, Parties, Tenures
from calc.report import (
    EXCEPTIONS_COLUMNS,
    OMNIBUS_ACCOUNT_COLUMNS,
    OMNIBUS_COLUMNS,
    OMNIBUS_HOLDER_EXTRA,
)

ZERO_DENOMINATOR = "zero_denominator"
NEGATIVE_FREE_SHARES = "negative_free_shares"


@dataclass
class Attribution:
    """Month-end state by month x portfolio x rights holder (arrays) and the omnibus detail."""

    months: np.ndarray  # month indices of the feed's months
    month_ends: pd.DatetimeIndex
    commission: np.ndarray  # [M, P, H] Commission Shares, all accounts (2(a))
    free: np.ndarray  # [M, P, H] Free Shares of ordinary accounts (2(b))
    omnibus_free: np.ndarray  # [M, P, H] Free Shares of omnibus accounts (2(c))
    outstanding: np.ndarray  # [M, P] every Class B share held in the feed's accounts
    share: np.ndarray  # [M, P, H] the 12b-1 Share S_h(m)
    omnibus: pd.DataFrame  # per month, omnibus account, portfolio, rights holder
    omnibus_accounts: pd.DataFrame  # per month, omnibus account, portfolio: I, R, E, F, K
    exceptions: pd.DataFrame

    @property
    def attributed(self) -> np.ndarray:
        return self.commission + self.free + self.omnibus_free


def _dense(changes: dict, months: np.ndarray, shape_tail: tuple[int, ...]) -> np.ndarray:
    """Running month-end totals [M, *shape_tail] from {(month, *index): change}."""
    out = np.zeros((len(months), *shape_tail))
    if changes:
        keys = np.array(list(changes.keys()), dtype=np.int64)
        vals = np.fromiter(changes.values(), dtype=float, count=len(changes))
        t = keys[:, 0] - months[0]
        np.add.at(out, (t, *keys[:, 1:].T), vals)
    return np.cumsum(out, axis=0)


def serving_at_month_ends(tenures: Tenures, n_portfolios: int, month_ends: pd.DatetimeIndex) -> np.ndarray:
    """[M, P] rights holder of the tenure serving on each month end."""
    days = month_ends.values.astype("datetime64[D]").astype(np.int64)
    return np.stack([tenures.serving_many(pi, days) for pi in range(n_portfolios)], axis=1)


def attribute(
    changes: LedgerChanges,
    parties: Parties,
    tenures: Tenures,
    months: np.ndarray,
) -> Attribution:
    """Month-end attribution of every share, the omnibus roll-forward and the 12b-1 Share."""
    n_p, n_h = len(parties.portfolios), len(parties.holders)
    month_ends = month_end_of_index(months)
    serving = serving_at_month_ends(tenures, n_p, month_ends)

    commission = _dense(changes.commission, months, (n_p, n_h))
    free = _dense(changes.free, months, (n_p, n_h))
    omnibus_free, outstanding_omnibus, omnibus_rows, omnibus_accounts, exceptions = roll_forward_omnibus(
        changes, parties, months, month_ends, serving, tenures
    )
    commission = _zap(commission)
    free = _zap(free)
    outstanding = commission.sum(axis=2) + free.sum(axis=2) + outstanding_omnibus
    outstanding = _zap(outstanding)
    share = twelve_b1_share(commission + free + omnibus_free, outstanding, tenures, month_ends, serving, n_h)
    return Attribution(
        months=months,
        month_ends=month_ends,
        commission=commission,
        free=free,
        omnibus_free=omnibus_free,
        outstanding=outstanding,
        share=share,
        omnibus=omnibus_rows,
        omnibus_accounts=omnibus_accounts,
        exceptions=exceptions,
    )


def _zap(a: np.ndarray) -> np.ndarray:
    """Counts within the share tolerance of zero are zero."""
    return np.where(np.abs(a) <= SHARE_TOLERANCE, 0.0, a)


def twelve_b1_share(
    attributed: np.ndarray,
    outstanding: np.ndarray,
    tenures: Tenures,
    month_ends: pd.DatetimeIndex,
    serving: np.ndarray,
    n_holders: int,
) -> np.ndarray:
    """S_h(m) (RULES.md section 5, Exhibit A first paragraph).

    While every tenure started by m has one rights holder, it has 100%; from the
    month end on which another rights holder's tenure has started, attributed
    shares over shares outstanding; with none outstanding, the serving tenure's
    rights holder has 100%.
    """
    n_m, n_p = outstanding.shape
    share = np.zeros((n_m, n_p, n_holders))
    days = month_ends.values.astype("datetime64[D]").astype(np.int64)
    rows = np.arange(n_m)
    for pi in range(n_p):
        starts, holders = tenures.starts[pi], tenures.holders[pi]
        started = np.searchsorted(starts, days, side="right")  # tenures started by each month end
        # First position where the holder differs from the first tenure's: from then on, by attribution.
        differs = np.flatnonzero(holders != holders[0])
        by_attribution = started > differs[0] if len(differs) else np.zeros(n_m, dtype=bool)
        out = outstanding[:, pi]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = attributed[:, pi, :] / out[:, None]
        single = ~by_attribution | (out == 0.0)
        s = np.where(by_attribution[:, None] & (out != 0.0)[:, None], ratio, 0.0)
        hundred = np.where(by_attribution, serving[:, pi], holders[0])
        s[rows[single], hundred[single]] = 1.0
        share[:, pi, :] = s
    return share


def roll_forward_omnibus(
    changes: LedgerChanges,
    parties: Parties,
    months: np.ndarray,
    month_ends: pd.DatetimeIndex,
    serving: np.ndarray,
    tenures: Tenures,
):
    """Exhibit A 2(c)(i)-(iv) for every omnibus account and portfolio, a month at a time.

    Returns (omnibus_free [M, P, H], omnibus_total [M, P], rows, account_rows, exceptions).
    """
    n_m, n_p, n_h = len(months), len(parties.portfolios), len(parties.holders)
    pairs = sorted(changes.omnibus_first)
    n_j = len(pairs)
    omnibus_free = np.zeros((n_m, n_p, n_h))
    omnibus_total = np.zeros((n_m, n_p))
    if n_j == 0:
        return omnibus_free, omnibus_total, _empty(OMNIBUS_COLUMNS + OMNIBUS_HOLDER_EXTRA), _empty(OMNIBUS_ACCOUNT_COLUMNS), _empty(EXCEPTIONS_COLUMNS)
    pair_index = {pair: j for j, pair in enumerate(pairs)}
    pair_p = np.array([p for p, _ in pairs], dtype=np.int64)
    first = np.array([changes.omnibus_first[pair] - months[0] for pair in pairs], dtype=np.int64)

    flows = np.zeros((n_m, n_j, 3))  # I, R, change in F
    for (mi, pi, ai), v in changes.omnibus.items():
        flows[mi - months[0], pair_index[(pi, ai)]] += v
    dk = np.zeros((n_m, n_j, n_h))
    for (mi, pi, ai, h), v in changes.omnibus_commission.items():
        dk[mi - months[0], pair_index[(pi, ai)], h] += v
    issued_n, redeemed_n = flows[:, :, 0], flows[:, :, 1]
    f_tot = _zap(np.cumsum(flows[:, :, 2], axis=0))
    k_h = _zap(np.cumsum(dk, axis=0))
    k_tot = k_h.sum(axis=2)
    serving_pairs = serving[:, pair_p]  # [M, J]

    f_h_all = np.zeros((n_m, n_j, n_h))
    lines_all = np.zeros((n_m, n_j, n_h, 3))
    net_all = np.zeros((n_m, n_j))
    exc = []
    f_h_prev = np.zeros((n_j, n_h))
    eye = np.eye(n_h)
    tol = SHARE_TOLERANCE
    for t in range(n_m):
        f_prev = f_tot[t - 1] if t else np.zeros(n_j)
        kh_prev = k_h[t - 1] if t else np.zeros((n_j, n_h))
        k_prev = k_tot[t - 1] if t else np.zeros(n_j)
        i_n, r_n = issued_n[t], redeemed_n[t]
        e_n = f_tot[t] - f_prev - i_n + r_n
        i_n = np.where(np.abs(i_n) <= tol, 0.0, i_n)
        r_n = np.where(np.abs(r_n) <= tol, 0.0, r_n)
        e_n = np.where(np.abs(e_n) <= tol, 0.0, e_n)
        net_all[t] = e_n
        to_serving = eye[serving_pairs[t]]  # [J, H]

        # (ii) issued: I * (K_h + F_h) / (K + F), all at month m-1
        den_i = k_prev + f_prev
        zero_i = np.abs(den_i) <= tol
        with np.errstate(divide="ignore", invalid="ignore"):
            issued = i_n[:, None] * (kh_prev + f_h_prev) / den_i[:, None]
        issued = np.where(zero_i[:, None], i_n[:, None] * to_serving, issued)
        issued[i_n == 0.0] = 0.0

        # (iii) redeemed and (iv) net exchange: R or E * F_h / F, at month m-1
        zero_f = np.abs(f_prev) <= tol
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = f_h_prev / f_prev[:, None]
            fallback = np.where((i_n != 0.0)[:, None], issued / i_n[:, None], to_serving)
        weights = np.where(zero_f[:, None], fallback, weights)
        redeemed = r_n[:, None] * weights
        net = e_n[:, None] * weights
        redeemed[r_n == 0.0] = 0.0
        net[e_n == 0.0] = 0.0

        f_h = f_h_prev + issued - redeemed + net
        f_h_all[t] = f_h
        lines_all[t, :, :, 0] = issued
        lines_all[t, :, :, 1] = redeemed
        lines_all[t, :, :, 2] = net
        for line_name, count, zero in (("issued", i_n, zero_i), ("redeemed", r_n, zero_f), ("net_exchange", e_n, zero_f)):
            for j in np.flatnonzero((count != 0.0) & zero):
                if line_name == "issued" or i_n[j] == 0.0:
                    how = f"sent to tenure rights holder {parties.holders[serving_pairs[t, j]]}"
                else:
                    how = "split in proportion to the issued line"
                exc.append((t, j, ZERO_DENOMINATOR, f"{line_name}: zero denominator, {how}"))
        for j, h in zip(*np.nonzero(f_h < -tol), strict=True):
            if t >= first[j]:
                exc.append((t, j, NEGATIVE_FREE_SHARES, f"F_h(m) of {parties.holders[h]} is {f_h[j, h]:.6f}"))
        f_h_prev = f_h

    for j in range(n_j):
        omnibus_free[:, pair_p[j], :] += f_h_all[:, j, :]
        omnibus_total[:, pair_p[j]] += f_tot[:, j]
    omnibus_free = _zap(omnibus_free)

    rows = _omnibus_rows(pairs, pair_p, first, month_ends, f_h_all, lines_all, k_h, tenures, parties)
    account_rows = _account_rows(pairs, first, month_ends, issued_n, redeemed_n, net_all, f_tot, k_tot, parties)
    exceptions = pd.DataFrame(
        {
            "month_end": [month_ends[t] for t, _, _, _ in exc],
            "portfolio_id": [parties.portfolios[pairs[j][0]] for _, j, _, _ in exc],
            "account_id": [parties.accounts[pairs[j][1]] for _, j, _, _ in exc],
            "code": [c for _, _, c, _ in exc],
            "detail": [d for _, _, _, d in exc],
        }
    ) if exc else _empty(EXCEPTIONS_COLUMNS)
    return omnibus_free, omnibus_total, rows, account_rows, exceptions


def _omnibus_rows(pairs, pair_p, first, month_ends, f_h_all, lines_all, k_h, tenures, parties) -> pd.DataFrame:
    """omnibus.csv rows: from the first month, for tenure rights holders and any other with a value."""
    n_m, n_j, n_h = f_h_all.shape
    t_idx, j_idx, h_idx = np.meshgrid(np.arange(n_m), np.arange(n_j), np.arange(n_h), indexing="ij")
    tenure_holder = np.zeros((n_j, n_h), dtype=bool)
    for j, pi in enumerate(pair_p):
        tenure_holder[j, np.unique(tenures.holders[pi])] = True
    values = np.abs(lines_all).sum(axis=3) + np.abs(f_h_all)
    keep = (t_idx >= first[j_idx]) & (tenure_holder[j_idx, h_idx] | (values > 0.0))
    t, j, h = t_idx[keep], j_idx[keep], h_idx[keep]
    frame = pd.DataFrame(
        {
            "month_end": month_ends[t],
            "portfolio_id": np.array(parties.portfolios, dtype=object)[pair_p[j]],
            "account_id": np.array([parties.accounts[a] for _, a in pairs], dtype=object)[j],
            "rights_holder": np.array(parties.holders, dtype=object)[h],
            "issued": lines_all[t, j, h, 0],
            "redeemed": lines_all[t, j, h, 1],
            "net_exchange": lines_all[t, j, h, 2],
            "free_shares": f_h_all[t, j, h],
            "commission_shares": k_h[t, j, h],
        }
    )
    return frame.sort_values(["month_end", "portfolio_id", "account_id", "rights_holder"], kind="stable").reset_index(drop=True)


def _account_rows(pairs, first, month_ends, issued_n, redeemed_n, net_all, f_tot, k_tot, parties) -> pd.DataFrame:
    n_m, n_j = f_tot.shape
    t_idx, j_idx = np.meshgrid(np.arange(n_m), np.arange(n_j), indexing="ij")
    keep = t_idx >= first[j_idx]
    t, j = t_idx[keep], j_idx[keep]
    frame = pd.DataFrame(
        {
            "month_end": month_ends[t],
            "portfolio_id": np.array([parties.portfolios[p] for p, _ in pairs], dtype=object)[j],
            "account_id": np.array([parties.accounts[a] for _, a in pairs], dtype=object)[j],
            "issued": issued_n[t, j],
            "redeemed": redeemed_n[t, j],
            "net_exchange": net_all[t, j],
            "free_shares": f_tot[t, j],
            "commission_shares": k_tot[t, j],
        }
    )
    return frame.sort_values(["month_end", "portfolio_id", "account_id"], kind="stable").reset_index(drop=True)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in columns})
