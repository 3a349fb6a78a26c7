"""Exhibit A: the omnibus roll-forward of 2(c)(ii)-(iv) and the 12b-1 Share (first
paragraph; SEVENTH (B)), as kernels over arrays of any grain: the last axis is the
rights holder, every leading axis (accounts, cohorts, paths) steps at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calc.vocabulary import SHARE_TOLERANCE


def zap(a: np.ndarray) -> np.ndarray:
    """Counts within the share tolerance of zero are zero (RULES.md preamble)."""
    return np.where(np.abs(a) <= SHARE_TOLERANCE, 0.0, a)


@dataclass
class OmnibusMonth:
    """One month of Exhibit A 2(c) for every omnibus account and portfolio: each line by
    rights holder, ``F_h(m)``, and which lines met a zero denominator."""

    issued: np.ndarray  # [..., H] 2(c)(ii)
    redeemed: np.ndarray  # [..., H] 2(c)(iii)
    net_exchange: np.ndarray  # [..., H] 2(c)(iv)
    free_by_holder: np.ndarray  # [..., H] F_h(m)
    counts: tuple[np.ndarray, np.ndarray, np.ndarray]  # [...] I, R, E (within the tolerance: 0)
    zero_issued: np.ndarray  # [...] bool: I != 0 and K(m-1) + F(m-1) is zero
    zero_free: np.ndarray  # [...] bool: F(m-1) is zero (the redeemed and net-exchange lines' denominator)


def omnibus_month(
    issued_n: np.ndarray,
    redeemed_n: np.ndarray,
    free_now: np.ndarray,
    free_prev: np.ndarray,
    free_by_holder_prev: np.ndarray,
    commission_by_holder_prev: np.ndarray,
    to_serving: np.ndarray,
) -> OmnibusMonth:
    """Exhibit A 2(c)(ii)-(iv) for one month (RULES.md section 5).

    ``issued_n`` I, ``redeemed_n`` R, ``free_now`` F(m), ``free_prev`` F(m-1)
    ([...]); ``free_by_holder_prev`` F_h(m-1), ``commission_by_holder_prev``
    K_h(m-1) and ``to_serving`` (one-hot: the rights holder of the tenure serving
    at the month end) ([..., H]).

    - issued: ``I * (K_h(m-1) + F_h(m-1)) / (K(m-1) + F(m-1))``;
    - redeemed: ``R * F_h(m-1) / F(m-1)``;
    - net exchange: ``E = F(m) - F(m-1) - I + R``, attributed ``E * F_h(m-1) / F(m-1)``;
    - a zero denominator sends the issued line to the serving rights holder, and the
      other two in the proportions ``issued_h / I`` when I is not zero, else to it.
    """
    tol = SHARE_TOLERANCE
    e_n = free_now - free_prev - issued_n + redeemed_n
    i_n = np.where(np.abs(issued_n) <= tol, 0.0, issued_n)
    r_n = np.where(np.abs(redeemed_n) <= tol, 0.0, redeemed_n)
    e_n = np.where(np.abs(e_n) <= tol, 0.0, e_n)
    k_prev = commission_by_holder_prev.sum(axis=-1)

    den_i = k_prev + free_prev
    zero_i = np.abs(den_i) <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        issued = i_n[..., None] * (commission_by_holder_prev + free_by_holder_prev) / den_i[..., None]
    issued = np.where(zero_i[..., None], i_n[..., None] * to_serving, issued)
    issued[i_n == 0.0] = 0.0

    zero_f = np.abs(free_prev) <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = free_by_holder_prev / free_prev[..., None]
        fallback = np.where((i_n != 0.0)[..., None], issued / i_n[..., None], to_serving)
    weights = np.where(zero_f[..., None], fallback, weights)
    redeemed = r_n[..., None] * weights
    net = e_n[..., None] * weights
    redeemed[r_n == 0.0] = 0.0
    net[e_n == 0.0] = 0.0

    f_h = free_by_holder_prev + issued - redeemed + net
    return OmnibusMonth(issued, redeemed, net, f_h, (i_n, r_n, e_n), (i_n != 0.0) & zero_i, zero_f)


def twelve_b1_share(
    attributed: np.ndarray,
    outstanding: np.ndarray,
    by_attribution: np.ndarray,
    hundred_percent_holder: np.ndarray,
) -> np.ndarray:
    """S_h(m), the 12b-1 Share (Exhibit A first paragraph; RULES.md section 5).

    ``attributed`` [..., H] shares attributed to each rights holder; ``outstanding``
    [...] shares outstanding; ``by_attribution`` [...] True from the month end on
    which a tenure with another rights holder than the first has started;
    ``hundred_percent_holder`` [...] the rights holder with 100% otherwise (the
    first tenure's before that; the serving tenure's when nothing is outstanding).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = attributed / outstanding[..., None]
    by_ratio = by_attribution & (outstanding != 0.0)
    share = np.where(by_ratio[..., None], ratio, 0.0)
    n_h = attributed.shape[-1]
    hundred = (np.arange(n_h) == hundred_percent_holder[..., None]) & ~by_ratio[..., None]
    return np.where(hundred, 1.0, share)
