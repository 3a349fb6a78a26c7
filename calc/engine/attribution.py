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
from calc.engine.ledger import LedgerChanges, LedgerTotals
from calc.engine.parties import Parties, Tenures
from calc.report import (
    EXCEPTIONS_COLUMNS,
    OMNIBUS_ACCOUNT_COLUMNS,
    OMNIBUS_COLUMNS,
    OMNIBUS_HOLDER_EXTRA,
)
from calc.rules.exhibit_a import omnibus_month, twelve_b1_share, zap
from calc.vocabulary import NEGATIVE_FREE_SHARES, SHARE_TOLERANCE, ZERO_DENOMINATOR


@dataclass
class AttributionOpening:
    """The running sums a continuation starts from (unrounded, untouched by the tolerance),
    at the month end before its first month.

    ``commission``, ``free`` [P, H]: Commission Shares (all accounts) and ordinary
    accounts' Free Shares by rights holder; ``share`` [P, H]: S_h(m); ``listed``
    [P, H]: the rights holders allocation.csv lists (they had a value);
    ``omnibus_first`` (portfolio, account) -> first month; per pair (in the
    order of ``omnibus_pairs``): ``omnibus_free`` F(m) [J], ``omnibus_commission``
    K_h(m) [J, H], ``omnibus_free_by_holder`` F_h(m) [J, H].
    """

    commission: np.ndarray
    free: np.ndarray
    share: np.ndarray
    listed: np.ndarray
    omnibus_first: dict
    omnibus_pairs: list
    omnibus_free: np.ndarray
    omnibus_commission: np.ndarray
    omnibus_free_by_holder: np.ndarray


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
    listed: np.ndarray  # [M, P, H] rights holders with a value at or before the month (allocation.csv)
    closing: AttributionOpening  # the running sums at the last month end

    @property
    def attributed(self) -> np.ndarray:
        return self.commission + self.free + self.omnibus_free


def _running(keys: np.ndarray, vals: np.ndarray, months: np.ndarray, shape_tail: tuple[int, ...],
             opening: np.ndarray | None) -> np.ndarray:
    """Running month-end totals [M, *shape_tail] from changes keyed (month, *index), from
    ``opening`` (the totals at the month end before the first month)."""
    out = np.zeros((len(months), *shape_tail))
    if len(keys):
        np.add.at(out, (keys[:, 0] - months[0], *keys[:, 1:].T), vals)
    if opening is None:
        return np.cumsum(out, axis=0)
    return np.cumsum(np.concatenate([opening[None], out]), axis=0)[1:]


def serving_at_month_ends(tenures: Tenures, n_portfolios: int, month_ends: pd.DatetimeIndex) -> np.ndarray:
    """[M, P] rights holder of the tenure serving on each month end."""
    days = month_ends.values.astype("datetime64[D]").astype(np.int64)
    return np.stack([tenures.serving_many(pi, days) for pi in range(n_portfolios)], axis=1)


def attribute(
    totals: LedgerTotals,
    changes: LedgerChanges,
    parties: Parties,
    tenures: Tenures,
    months: np.ndarray,
    opening: AttributionOpening | None = None,
) -> Attribution:
    """Month-end attribution of every share, the omnibus roll-forward and the 12b-1 Share."""
    n_p, n_h = len(parties.portfolios), len(parties.holders)
    month_ends = month_end_of_index(months)
    serving = serving_at_month_ends(tenures, n_p, month_ends)

    commission_run = _running(totals.commission_keys, totals.commission, months, (n_p, n_h),
                              None if opening is None else opening.commission)
    free_run = _running(totals.free_keys, totals.free, months, (n_p, n_h), None if opening is None else opening.free)
    om = roll_forward_omnibus(totals, changes, parties, months, month_ends, serving, tenures, opening)
    commission = zap(commission_run)
    free = zap(free_run)
    outstanding = zap(commission.sum(axis=2) + free.sum(axis=2) + om.total)
    share = twelve_b1_share_of(commission + free + om.free, outstanding, tenures, month_ends, serving)
    has_value = (np.abs(commission) + np.abs(free) + np.abs(om.free) + np.abs(share)) > 0
    listed = np.maximum.accumulate(
        has_value if opening is None else np.concatenate([opening.listed[None], has_value]), axis=0
    )[(0 if opening is None else 1):]
    closing = AttributionOpening(
        commission=commission_run[-1], free=free_run[-1], share=share[-1], listed=listed[-1],
        omnibus_first=om.first_months, omnibus_pairs=om.pairs, omnibus_free=om.free_total_run[-1],
        omnibus_commission=om.commission_run[-1], omnibus_free_by_holder=om.free_by_holder_last,
    )
    return Attribution(
        months=months,
        month_ends=month_ends,
        commission=commission,
        free=free,
        omnibus_free=om.free,
        outstanding=outstanding,
        share=share,
        omnibus=om.rows,
        omnibus_accounts=om.account_rows,
        exceptions=om.exceptions,
        listed=listed,
        closing=closing,
    )


def twelve_b1_share_of(
    attributed: np.ndarray,
    outstanding: np.ndarray,
    tenures: Tenures,
    month_ends: pd.DatetimeIndex,
    serving: np.ndarray,
) -> np.ndarray:
    """S_h(m) of every portfolio and month (RULES.md section 5, Exhibit A first paragraph).

    While every tenure started by m has one rights holder, it has 100%; from the
    month end on which another rights holder's tenure has started, attributed
    shares over shares outstanding; with none outstanding, the serving tenure's
    rights holder has 100%.
    """
    n_m, n_p = outstanding.shape
    days = month_ends.values.astype("datetime64[D]").astype(np.int64)
    by_attribution = np.zeros((n_m, n_p), dtype=bool)
    hundred = np.zeros((n_m, n_p), dtype=np.int64)
    for pi in range(n_p):
        starts, holders = tenures.starts[pi], tenures.holders[pi]
        started = np.searchsorted(starts, days, side="right")  # tenures started by each month end
        # First position where the holder differs from the first tenure's: from then on, by attribution.
        differs = np.flatnonzero(holders != holders[0])
        by_attribution[:, pi] = started > differs[0] if len(differs) else False
        hundred[:, pi] = np.where(by_attribution[:, pi], serving[:, pi], holders[0])
    return twelve_b1_share(attributed, outstanding, by_attribution, hundred)


@dataclass
class _Omnibus:
    free: np.ndarray  # [M, P, H] omnibus Free Shares by rights holder (zapped)
    total: np.ndarray  # [M, P] omnibus Free Shares
    rows: pd.DataFrame
    account_rows: pd.DataFrame
    exceptions: pd.DataFrame
    pairs: list
    first_months: dict
    free_total_run: np.ndarray  # [M, J] F(m), unzapped running sums
    commission_run: np.ndarray  # [M, J, H] K_h(m), unzapped running sums
    free_by_holder_last: np.ndarray  # [J, H] F_h at the last month end


def roll_forward_omnibus(
    totals: LedgerTotals,
    changes: LedgerChanges,
    parties: Parties,
    months: np.ndarray,
    month_ends: pd.DatetimeIndex,
    serving: np.ndarray,
    tenures: Tenures,
    opening: AttributionOpening | None = None,
) -> _Omnibus:
    """Exhibit A 2(c)(i)-(iv) for every omnibus account and portfolio, a month at a time
    (:func:`calc.rules.exhibit_a.omnibus_month`)."""
    n_m, n_p, n_h = len(months), len(parties.portfolios), len(parties.holders)
    first_months = dict(opening.omnibus_first) if opening is not None else {}
    first_months.update(changes.omnibus_first)
    pairs = sorted(first_months)
    n_j = len(pairs)
    omnibus_free = np.zeros((n_m, n_p, n_h))
    omnibus_total = np.zeros((n_m, n_p))
    if n_j == 0:
        return _Omnibus(omnibus_free, omnibus_total, _empty(OMNIBUS_COLUMNS + OMNIBUS_HOLDER_EXTRA),
                        _empty(OMNIBUS_ACCOUNT_COLUMNS), _empty(EXCEPTIONS_COLUMNS), pairs, first_months,
                        np.zeros((n_m, 0)), np.zeros((n_m, 0, n_h)), np.zeros((0, n_h)))
    pair_index = {pair: j for j, pair in enumerate(pairs)}
    pair_p = np.array([p for p, _ in pairs], dtype=np.int64)
    first = np.array([first_months[pair] - months[0] for pair in pairs], dtype=np.int64)

    def reindexed(values: np.ndarray | None, tail: tuple[int, ...]) -> np.ndarray | None:
        """An opening's per-pair values in this run's pair order."""
        if opening is None:
            return None
        out = np.zeros((n_j, *tail))
        for j0, pair in enumerate(opening.omnibus_pairs):
            out[pair_index[pair]] = values[j0]
        return out

    flows = np.zeros((n_m, n_j, 3))  # I, R, change in F
    keys = totals.omnibus_keys
    if len(keys):
        j_of = np.array([pair_index[(int(p), int(a))] for p, a in keys[:, 1:3]], dtype=np.int64)
        np.add.at(flows, (keys[:, 0] - months[0], j_of), totals.omnibus)
    dk = np.zeros((n_m, n_j, n_h))
    keys = totals.omnibus_commission_keys
    if len(keys):
        j_of = np.array([pair_index[(int(p), int(a))] for p, a in keys[:, 1:3]], dtype=np.int64)
        np.add.at(dk, (keys[:, 0] - months[0], j_of, keys[:, 3]), totals.omnibus_commission)
    issued_n, redeemed_n = flows[:, :, 0], flows[:, :, 1]
    f_open = reindexed(None if opening is None else opening.omnibus_free, ())
    k_open = reindexed(None if opening is None else opening.omnibus_commission, (n_h,))
    f_run = np.cumsum(flows[:, :, 2], axis=0) if f_open is None else np.cumsum(
        np.concatenate([f_open[None], flows[:, :, 2]]), axis=0)[1:]
    k_run = np.cumsum(dk, axis=0) if k_open is None else np.cumsum(np.concatenate([k_open[None], dk]), axis=0)[1:]
    f_tot = zap(f_run)
    k_h = zap(k_run)
    k_tot = k_h.sum(axis=2)
    serving_pairs = serving[:, pair_p]  # [M, J]

    f_h_all = np.zeros((n_m, n_j, n_h))
    lines_all = np.zeros((n_m, n_j, n_h, 3))
    net_all = np.zeros((n_m, n_j))
    exc = []
    opened = reindexed(None if opening is None else opening.omnibus_free_by_holder, (n_h,))
    f_h_prev = np.zeros((n_j, n_h)) if opened is None else opened
    f_prev_open = zap(f_open) if f_open is not None else np.zeros(n_j)
    kh_prev_open = zap(k_open) if k_open is not None else np.zeros((n_j, n_h))
    eye = np.eye(n_h)
    for t in range(n_m):
        f_prev = f_tot[t - 1] if t else f_prev_open
        kh_prev = k_h[t - 1] if t else kh_prev_open
        step = omnibus_month(issued_n[t], redeemed_n[t], f_tot[t], f_prev, f_h_prev, kh_prev,
                             eye[serving_pairs[t]])
        i_n, r_n, e_n = step.counts
        net_all[t] = e_n
        f_h_all[t] = step.free_by_holder
        lines_all[t, :, :, 0] = step.issued
        lines_all[t, :, :, 1] = step.redeemed
        lines_all[t, :, :, 2] = step.net_exchange
        for line_name, zero in (("issued", step.zero_issued), ("redeemed", (r_n != 0.0) & step.zero_free),
                                ("net_exchange", (e_n != 0.0) & step.zero_free)):
            for j in np.flatnonzero(zero):
                if line_name == "issued" or i_n[j] == 0.0:
                    how = f"sent to tenure rights holder {parties.holders[serving_pairs[t, j]]}"
                else:
                    how = "split in proportion to the issued line"
                exc.append((t, j, ZERO_DENOMINATOR, f"{line_name}: zero denominator, {how}"))
        f_h = step.free_by_holder
        for j, h in zip(*np.nonzero(f_h < -SHARE_TOLERANCE), strict=True):
            if t >= first[j]:
                exc.append((t, j, NEGATIVE_FREE_SHARES, f"F_h(m) of {parties.holders[h]} is {f_h[j, h]:.6f}"))
        f_h_prev = f_h

    for j in range(n_j):
        omnibus_free[:, pair_p[j], :] += f_h_all[:, j, :]
        omnibus_total[:, pair_p[j]] += f_tot[:, j]
    omnibus_free = zap(omnibus_free)

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
    return _Omnibus(omnibus_free, omnibus_total, rows, account_rows, exceptions, pairs, first_months,
                    f_run, k_run, f_h_prev)


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
