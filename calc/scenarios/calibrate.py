"""Default assumptions calibrated from the actuals up to the scenario's start, each shown to
the user and each overridable (``calc.scenarios.spec.Assumptions``).

- Commission Share sales and NAV sales per portfolio: the trailing twelve months' dollars,
  a month on average;
- reinvested dividends: the trailing twelve months' reinvested shares over the average
  shares outstanding, a year, per portfolio;
- redemptions by year held: per asset class, the Commission Shares redeemed in each year
  held (cdsc.csv's parts) over the Commission Shares held in that year (the lots by issue
  year), over the trailing three years, a year; Free Shares: the Free Shares redeemed over
  the Free Shares held;
- the waiver rate: waived CDSC over CDSC due, trailing three years;
- market drift and volatility by asset class: month-end NAV log returns of the class's
  portfolios over the whole history.

A portfolio's asset class comes from an ``asset_class`` column of ``portfolios`` where the
feed has one (the sample does); otherwise every portfolio is in one class, ``all``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calc.feed import Feed
from calc.report import MonthlyCalculation
from calc.vocabulary import NAV_PURCHASE, PURCHASE, REDEEM, REINVEST

ALL = "all"
TRAILING_MONTHS = 12
REDEMPTION_MONTHS = 36
MAX_YEAR_HELD = 12  # conversion to Class A comes sooner (8 years by default)


@dataclass
class Calibration:
    """Calibrated defaults. Rates are a year; sales are dollars a month."""

    start: pd.Timestamp
    asset_class: dict[str, str]
    sales: dict[str, float]  # Commission Share sales, dollars a month, per portfolio
    nav_sales: dict[str, float]  # NAV purchases, dollars a month, per portfolio
    dividend_yield: dict[str, float]  # reinvested, a year, per portfolio
    redemption_by_year: dict[str, np.ndarray]  # per asset class: [year held 1..MAX] annual rates
    free_redemption: dict[str, float]  # per asset class: annual rate of Free Shares
    waiver_rate: float
    drift: dict[str, float]  # per asset class, a year
    volatility: dict[str, float]  # per asset class, a year
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The defaults per portfolio, as the user sees them."""
        rows = []
        for pid in sorted(self.asset_class):
            c = self.asset_class[pid]
            rows.append({
                "portfolio_id": pid, "asset_class": c, "sales_a_month": self.sales.get(pid, 0.0),
                "nav_sales_a_month": self.nav_sales.get(pid, 0.0),
                "dividend_yield": self.dividend_yield.get(pid, 0.0),
                "redemption_year_1": float(self.redemption_by_year[c][0]),
                "free_share_redemption": self.free_redemption[c],
                "drift": self.drift[c], "volatility": self.volatility[c],
            })
        return pd.DataFrame(rows)


def asset_classes(feed: Feed, raw_portfolios: pd.DataFrame | None = None) -> dict[str, str]:
    """Each portfolio's asset class (``all`` where the feed names none)."""
    ids = feed.portfolios["portfolio_id"].tolist()
    if raw_portfolios is not None and "asset_class" in raw_portfolios.columns:
        known = dict(zip(raw_portfolios["portfolio_id"].astype(str).str.strip(),
                         raw_portfolios["asset_class"].astype(str).str.strip(), strict=True))
        return {p: (known.get(p) or ALL) for p in ids}
    return dict.fromkeys(ids, ALL)


def calibrate(feed: Feed, actuals: MonthlyCalculation, start: pd.Timestamp,
              classes: dict[str, str] | None = None) -> Calibration:
    """The defaults from the actuals up to ``start`` (a month end)."""
    start = pd.Timestamp(start)
    classes = classes or dict.fromkeys(feed.portfolios["portfolio_id"], ALL)
    tx = feed.transactions[feed.transactions["date"] <= start]
    since = start - pd.DateOffset(months=TRAILING_MONTHS)
    recent = tx[tx["date"] > since]
    dollars = recent["shares"] * recent["price"]

    def monthly_dollars(kind: str) -> dict[str, float]:
        mask = recent["kind"] == kind
        return (dollars[mask].groupby(recent.loc[mask, "portfolio_id"]).sum() / TRAILING_MONTHS).to_dict()

    summary = actuals.summary
    summary = summary[(summary["month_end"] > since) & (summary["month_end"] <= start)]
    outstanding = summary.groupby("portfolio_id")["shares_outstanding"].mean()
    reinvested = recent[recent["kind"] == REINVEST].groupby("portfolio_id")["shares"].sum()
    dividend_yield = (reinvested / outstanding.replace(0.0, np.nan)).fillna(0.0).to_dict()

    redemption, free_rate, notes = _redemptions(feed, actuals, start, classes)
    waiver = _waiver_rate(actuals, start)
    drift, vol = _market(feed, start, classes)
    return Calibration(
        start=start, asset_class=dict(classes), sales=monthly_dollars(PURCHASE), nav_sales=monthly_dollars(NAV_PURCHASE),
        dividend_yield={p: float(v) for p, v in dividend_yield.items()}, redemption_by_year=redemption,
        free_redemption=free_rate, waiver_rate=waiver, drift=drift, volatility=vol, notes=notes,
    )


def _redemptions(feed: Feed, actuals: MonthlyCalculation, start: pd.Timestamp, classes: dict[str, str]
                 ) -> tuple[dict[str, np.ndarray], dict[str, float], list[str]]:
    since = start - pd.DateOffset(months=REDEMPTION_MONTHS)
    cls = pd.Series(classes)
    parts = actuals.cdsc
    parts = parts[(parts["date"] > since) & (parts["date"] <= start)]
    years = REDEMPTION_MONTHS / 12
    redeemed = parts.groupby([parts["portfolio_id"].map(cls), parts["year_held"].clip(upper=MAX_YEAR_HELD)])[
        "shares"].sum()
    lots = actuals.lots
    lots = lots[(lots["month_end"] > since) & (lots["month_end"] <= start)]
    n_months = max(lots["month_end"].nunique(), 1)
    year_held = (lots["month_end"].dt.year - lots["issue_year"] + 1).clip(lower=1, upper=MAX_YEAR_HELD)
    held = lots.groupby([lots["portfolio_id"].map(cls), year_held])["commission_shares"].sum() / n_months
    notes = []
    curves: dict[str, np.ndarray] = {}
    for c in sorted(set(classes.values())):
        curve = np.zeros(MAX_YEAR_HELD)
        for k in range(1, MAX_YEAR_HELD + 1):
            h = held.get((c, k), 0.0)
            curve[k - 1] = redeemed.get((c, k), 0.0) / years / h if h > 0 else np.nan
        if np.isnan(curve).all():
            notes.append(f"no Commission Shares held in {c} in the trailing {REDEMPTION_MONTHS} months: "
                         "redemption rates 0")
        curves[c] = np.clip(np.nan_to_num(_fill(curve)), 0.0, 1.0)

    tx = feed.transactions
    tx = tx[(tx["date"] > since) & (tx["date"] <= start) & (tx["kind"] == REDEEM)]
    total_redeemed = tx.groupby(tx["portfolio_id"].map(cls))["shares"].sum()
    commission_redeemed = parts.groupby(parts["portfolio_id"].map(cls))["shares"].sum()
    alloc = actuals.allocation
    alloc = alloc[(alloc["month_end"] > since) & (alloc["month_end"] <= start)]
    free_held = (alloc["free_shares"] + alloc["omnibus_free_shares"]).groupby(alloc["portfolio_id"].map(cls)).sum()
    free_held = free_held / max(alloc["month_end"].nunique(), 1)
    free_rate = {}
    for c in sorted(set(classes.values())):
        f = free_held.get(c, 0.0)
        free_rate[c] = float(np.clip((total_redeemed.get(c, 0.0) - commission_redeemed.get(c, 0.0)) / years / f,
                                     0.0, 1.0)) if f > 0 else 0.0
    return curves, free_rate, notes


def _fill(curve: np.ndarray) -> np.ndarray:
    """Years held with nothing held take the nearest earlier year's rate (or the next one's)."""
    s = pd.Series(curve).ffill().bfill()
    return s.to_numpy()


def _waiver_rate(actuals: MonthlyCalculation, start: pd.Timestamp) -> float:
    since = start - pd.DateOffset(months=REDEMPTION_MONTHS)
    s = actuals.summary
    s = s[(s["month_end"] > since) & (s["month_end"] <= start)]
    due = s["cdsc"].sum() + s["cdsc_waived"].sum()
    return float(s["cdsc_waived"].sum() / due) if due > 0 else 0.0


def _market(feed: Feed, start: pd.Timestamp, classes: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    nav = feed.nav[feed.nav["date"] <= start]
    drift, vol = {}, {}
    month_end_nav = (nav.assign(month=nav["date"].dt.to_period("M")).sort_values("date")
                     .groupby(["portfolio_id", "month"])["nav"].last())
    returns = np.log(month_end_nav).groupby(level=0).diff().dropna()
    of_class = pd.Series([classes.get(p, ALL) for p in returns.index.get_level_values(0)], index=returns.index)
    for c in sorted(set(classes.values())):
        r = returns[of_class == c]
        if len(r) >= 2:
            drift[c] = float(np.expm1(12 * r.mean()))
            vol[c] = float(r.std() * np.sqrt(12))
        else:
            drift[c], vol[c] = 0.0, 0.0
    return drift, vol
