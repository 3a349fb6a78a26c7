"""Monte Carlo: thousands of market paths over a deterministic projection.

Thousands of paths cannot each run the account-level engine.  In this model the share
flows (sales, redemptions by year held, reinvested dividends, conversions) do not depend
on the market, so the engine runs once (the deterministic projection) and gives every
share count, every 12b-1 Share and every lot part redeemed; the market moves what those
shares are worth.  Each path draws monthly returns, one market factor plus portfolio
noise (``market_weight`` of the variance from the factor):

    log NAV_p(t) / NAV_det_p(t) = sum over months of  sigma_p (rho z_m + sqrt(1 - rho^2) z_p) / sqrt(12)
                                                      - sigma_p^2 / 24

so that the expected NAV is the deterministic one and zero volatility gives it exactly.
Then, vectorised over paths:

- the Distribution Fee and the service fee accrue on net assets (SEVENTH (B), TENTH): a
  party's fee from portfolio p in month t is the deterministic one times the path's NAV
  ratio D_p(t);
- a CDSC is ``rate x min(cost, shares x price)`` (FOURTH (D)): at the cohort grain
  (portfolio, month, issue month, rights holder, rate), ``sum_c w_c min(tau_c, D)`` with
  ``w_c = rate x value`` and ``tau_c = cost / value``, evaluated for every path at once
  by sorting the cohorts by ``tau`` (``cdsc_ratio``); the parties keep their
  deterministic proportions of the portfolio's CDSC (assignment fractions, EIGHTH);
- offsets carried (EIGHTH (D)) are applied path by path with
  :func:`calc.rules.offsets.apply_claims`' rule, vectorised.

At zero volatility every path is the deterministic projection to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.calendar import month_index
from calc.report import MonthlyCalculation
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, ROLE_ASSIGNEE, ROLE_RIGHTS_HOLDER, SERVICE_FEE

MARKET_WEIGHT = 0.8  # share of each portfolio's variance that comes from the one market factor
CHUNK = 2000  # paths drawn and revalued at a time
KINDS = (DISTRIBUTION_FEE, CDSC, SERVICE_FEE, "offset", "payable")
QUANTILES = (0.05, 0.5, 0.95)
Progress = Callable[..., None]


@dataclass
class Paths:
    """Per path, month and (party, role, kind): the money of each path."""

    keys: pd.DataFrame  # party, role, kind: one row per stream
    month_ends: pd.DatetimeIndex
    values: np.ndarray  # [paths, streams, months] dollars


def nav_ratios(volatility: np.ndarray, months: int, paths: int, seed: int,
               market_weight: float = MARKET_WEIGHT) -> np.ndarray:
    """D [paths, months, portfolios]: each path's NAV over the deterministic NAV."""
    rng = np.random.default_rng(seed)
    sigma = np.asarray(volatility, dtype=float)
    z_m = rng.standard_normal((paths, months, 1))
    z_p = rng.standard_normal((paths, months, len(sigma)))
    shock = market_weight**0.5 * z_m + (1.0 - market_weight) ** 0.5 * z_p
    step = sigma * shock / np.sqrt(12.0) - sigma**2 / 24.0
    return np.exp(np.cumsum(step, axis=1))


@dataclass
class CdscCurves:
    """Per (month, portfolio) group of CDSC cohorts, sorted by ``tau``: the prefix sums that
    give ``f(D) = sum_c w_c min(tau_c, D)`` for any D with one binary search."""

    t: np.ndarray
    p: np.ndarray
    tau: list[np.ndarray]
    below: list[np.ndarray]  # sum of w tau over the cohorts with tau <= D
    above: list[np.ndarray]  # sum of w over the cohorts with tau > D
    at_one: np.ndarray

    @classmethod
    def of(cls, groups: pd.DataFrame) -> CdscCurves:
        ts, ps, taus, belows, aboves, ones = [], [], [], [], [], []
        if not groups.empty:
            groups = groups.sort_values(["t", "p", "tau"], kind="stable")
            for (t, p), g in groups.groupby(["t", "p"], sort=False):
                tau, w = g["tau"].to_numpy(), g["w"].to_numpy()
                below = np.concatenate([[0.0], np.cumsum(w * tau)])
                above = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
                k = np.searchsorted(tau, 1.0, side="right")
                if below[k] + above[k] <= 0:
                    continue
                ts.append(int(t))
                ps.append(int(p))
                taus.append(tau)
                belows.append(below)
                aboves.append(above)
                ones.append(below[k] + above[k])
        return cls(np.array(ts, dtype=np.int64), np.array(ps, dtype=np.int64), taus, belows, aboves, np.array(ones))


def cdsc_ratio(groups: pd.DataFrame | CdscCurves, ratios: np.ndarray) -> np.ndarray:
    """Per (month, portfolio) group of CDSC cohorts, the CDSC on each path over the CDSC at
    ratio 1: ``sum_c w_c min(tau_c, D) / sum_c w_c min(tau_c, 1)``.

    ``groups``: t, p, w, tau (one row per cohort), or their :class:`CdscCurves`;
    ``ratios``: D [paths, months, portfolios].  Returns [paths, months, portfolios] (1
    where a group has no CDSC).
    """
    curves = groups if isinstance(groups, CdscCurves) else CdscCurves.of(groups)
    out = np.ones_like(ratios)
    for i in range(len(curves.t)):
        t, p = curves.t[i], curves.p[i]
        d = ratios[:, t, p]
        k = np.searchsorted(curves.tau[i], d, side="right")
        out[:, t, p] = (curves.below[i][k] + d * curves.above[i][k]) / curves.at_one[i]
    return out


def _cohorts(values: pd.DataFrame | None, months: np.ndarray, portfolios: list[str]) -> pd.DataFrame:
    """CDSC cohorts (portfolio, month, issue month, rights holder, rate) of the unwaived parts."""
    if values is None or values.empty:
        return pd.DataFrame(columns=["t", "p", "w", "tau"])
    v = values[(values["cdsc_exact"] != 0) & (values["value"] > 0)].copy()
    v["t"] = v["month"].to_numpy() - months[0]
    v["p"] = v["portfolio_id"].map({p: i for i, p in enumerate(portfolios)})
    v["issue_month"] = month_index(v["issue_date"].to_numpy().astype("datetime64[D]"))
    c = v.groupby(["t", "p", "issue_month", "rights_holder", "rate"], as_index=False)[["cost", "value"]].sum()
    c["w"] = c["rate"] * c["value"]
    c["tau"] = c["cost"] / c["value"]
    return c[["t", "p", "w", "tau"]]


def simulate(calc: MonthlyCalculation, volatility: dict[str, float], paths: int, seed: int,
             carried: pd.DataFrame | None = None, progress: Progress | None = None) -> Paths:
    """Every party's money on each of ``paths`` market paths over the projection ``calc``.

    ``carried``: offsets carried into the projection (portfolio_id, rights_holder, amount),
    applied path by path to the rights holder's own Portions.
    """
    pay = calc.payments
    month_ends = pd.DatetimeIndex(sorted(pd.to_datetime(calc.summary["month_end"]).unique()))
    months = month_index(month_ends.values.astype("datetime64[D]"))
    portfolios = sorted(calc.summary["portfolio_id"].unique())
    p_ix = {p: i for i, p in enumerate(portfolios)}
    t_ix = {m: i for i, m in enumerate(month_ends)}
    streams = (pay[["party", "role"]].drop_duplicates().sort_values(["party", "role"]).reset_index(drop=True))
    s_ix = {(a, r): i for i, (a, r) in enumerate(zip(streams["party"], streams["role"], strict=True))}
    n_s, n_t, n_p = len(streams), len(months), len(portfolios)
    det = {kind: np.zeros((n_s, n_t, n_p)) for kind in (DISTRIBUTION_FEE, CDSC, SERVICE_FEE)}
    si = np.array([s_ix[(a, r)] for a, r in zip(pay["party"], pay["role"], strict=True)], dtype=np.int64)
    ti = np.array([t_ix[pd.Timestamp(m)] for m in pay["month_end"]], dtype=np.int64)
    pi = np.array([p_ix[p] for p in pay["portfolio_id"]], dtype=np.int64)
    for kind in det:
        np.add.at(det[kind], (si, ti, pi), pay[kind].to_numpy(dtype=float))
    sigma = np.array([volatility.get(p, 0.0) for p in portfolios])
    curves = CdscCurves.of(_cohorts(calc.cdsc_values, months, portfolios))
    # [months, portfolios, streams]: the matrices each month's paths multiply
    fee_m = np.ascontiguousarray(det[DISTRIBUTION_FEE].transpose(1, 2, 0))
    svc_m = np.ascontiguousarray(det[SERVICE_FEE].transpose(1, 2, 0))
    cdsc_m = np.ascontiguousarray(det[CDSC].transpose(1, 2, 0))
    own = np.array([r == ROLE_RIGHTS_HOLDER for r in streams["role"]])

    claims = []  # (stream, portfolio, amount)
    if carried is not None and len(carried):
        for pid, holder, amount in carried[["portfolio_id", "rights_holder", "amount"]].itertuples(index=False):
            if (holder, ROLE_RIGHTS_HOLDER) in s_ix and pid in p_ix:
                claims.append((s_ix[(holder, ROLE_RIGHTS_HOLDER)], p_ix[pid], float(amount)))

    out = np.zeros((paths, len(KINDS), n_s, n_t))
    for start in range(0, paths, CHUNK):
        n = min(CHUNK, paths - start)
        d = nav_ratios(sigma, n_t, n, seed + start)
        c = cdsc_ratio(curves, d)
        d_t = d.transpose(1, 0, 2)  # [months, paths, portfolios]
        fee = np.matmul(d_t, fee_m).transpose(1, 2, 0)  # [paths, streams, months]
        svc = np.matmul(d_t, svc_m).transpose(1, 2, 0)
        cdsc = np.matmul(c.transpose(1, 0, 2), cdsc_m).transpose(1, 2, 0)
        offset = np.zeros((n, n_s, n_t))
        for s, p, amount in claims:  # EIGHTH (D): the claim against the own Portions, carried
            carry = np.full(n, amount)
            room = (np.maximum(np.round(det[DISTRIBUTION_FEE][s, :, p] * d[:, :, p], 2), 0)
                    + np.maximum(np.round(det[CDSC][s, :, p] * c[:, :, p], 2), 0))
            for t in range(n_t):
                take = np.minimum(carry, room[:, t])
                offset[:, s, t] += take
                carry -= take
        offset[:, ~own, :] = 0.0
        out[start:start + n, 0] = fee
        out[start:start + n, 1] = cdsc
        out[start:start + n, 2] = svc
        out[start:start + n, 3] = offset
        out[start:start + n, 4] = fee + cdsc + svc - offset
        if progress is not None:
            progress("Monte Carlo: paths", start + n, paths)
    keys = pd.DataFrame([(a, r, k) for k in KINDS for a, r in zip(streams["party"], streams["role"], strict=True)],
                        columns=["party", "role", "kind"])
    values = out.reshape(paths, len(KINDS) * n_s, n_t)
    keep = np.abs(values).sum(axis=(0, 2)) > 0
    return Paths(keys[keep].reset_index(drop=True), month_ends, values[:, keep, :])


def bands(sim: Paths) -> pd.DataFrame:
    """month_end, party, role, kind, mean, p05, p50, p95 (dollars, to the cent)."""
    q = np.quantile(sim.values, QUANTILES, axis=0)  # [3, streams, months]
    mean = sim.values.mean(axis=0)
    n_s, n_t = mean.shape
    frame = pd.DataFrame({
        "month_end": np.tile(sim.month_ends, n_s),
        "party": np.repeat(sim.keys["party"].to_numpy(), n_t),
        "role": np.repeat(sim.keys["role"].to_numpy(), n_t),
        "kind": np.repeat(sim.keys["kind"].to_numpy(), n_t),
        "mean": mean.reshape(-1), "p05": q[0].reshape(-1), "p50": q[1].reshape(-1), "p95": q[2].reshape(-1),
    })
    for col in ("mean", "p05", "p50", "p95"):
        frame[col] = frame[col].round(2)
    return frame.sort_values(["month_end", "party", "role", "kind"], kind="stable").reset_index(drop=True)


def present_value_bands(sim: Paths, start: pd.Timestamp, discount_rate: float,
                        prices: dict[str, float] | None = None, received: dict[str, float] | None = None
                        ) -> pd.DataFrame:
    """Per stream: the undiscounted sum and the present value at ``start`` (mean, p05, p50,
    p95) and, for each assignee with a purchase price, the probability that what it has
    received to date plus its projected payable reaches the price within the horizon."""
    start_month = int(month_index(np.array([pd.Timestamp(start)], dtype="datetime64[D]"))[0])
    t = month_index(sim.month_ends.values.astype("datetime64[D]")) - start_month
    factor = (1.0 + discount_rate) ** (-t / 12.0)
    total = sim.values.sum(axis=2)
    pv = (sim.values * factor).sum(axis=2)
    rows = []
    prices, received = prices or {}, received or {}
    for i, (party, role, kind) in enumerate(sim.keys.itertuples(index=False)):
        row = {"party": party, "role": role, "kind": kind, "undiscounted_mean": total[:, i].mean()}
        row.update({f"present_value_{name}": v for name, v in zip(
            ("mean", "p05", "p50", "p95"), (pv[:, i].mean(), *np.quantile(pv[:, i], QUANTILES)), strict=True)})
        if role == ROLE_ASSIGNEE and kind == "payable" and party in prices:
            row["payback_probability"] = float(((received.get(party, 0.0) + total[:, i]) >= prices[party]).mean())
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col.startswith(("undiscounted", "present_value")):
            frame[col] = frame[col].round(2)
    if "payback_probability" not in frame.columns:
        frame["payback_probability"] = np.nan
    return frame
