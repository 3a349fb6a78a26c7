"""Model validation: project from a month in the history, with the assumptions calibrated
only from the months before it, and compare each party's Distribution Fee with what the
actuals then were.

The projection knows the reference tables (tenures, assignments, plan events) as the feed
has them, so a distributor change that did happen is in it, as an analyst would model a
known event; it knows nothing of the later transactions or NAVs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from calc.feed import Feed
from calc.report import MonthlyCalculation
from calc.scenarios.run import actuals_until, run_scenario
from calc.scenarios.spec import Scenario
from calc.vocabulary import DISTRIBUTION_FEE

BACKTEST_COLUMNS = ["month_end", "party", "role", "projected", "actual", "error", "error_pct"]
Progress = Callable[..., None]


def backtest(
    feed: Feed,
    at: pd.Timestamp,
    months: int = 24,
    *,
    actuals: MonthlyCalculation | None = None,
    classes: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Per month, party and role: the projected and the actual Distribution Fee, the error
    (projected - actual) and the error in percent of the actual.

    ``actuals``: the whole feed's Monthly Calculation, when already computed.
    """
    at = pd.Timestamp(at) + pd.offsets.MonthEnd(0)
    last = feed.months()[-1]
    months = min(months, (last.year - at.year) * 12 + last.month - at.month)
    if months < 1:
        raise ValueError(f"nothing to compare: {at:%Y-%m} is the feed's last month")
    start = actuals_until(feed, at, progress)
    result = run_scenario(feed, Scenario(name=f"backtest from {at:%Y-%m}", start=at, horizon_months=months),
                          actuals=start, classes=classes, progress=progress)
    if actuals is None:
        from calc.monthly import compute

        actuals = compute(feed)[0]
    end = at + pd.offsets.MonthEnd(months)

    def by_party(payments: pd.DataFrame) -> pd.Series:
        window = payments[(payments["month_end"] > at) & (payments["month_end"] <= end)]
        return window.groupby(["month_end", "party", "role"])[DISTRIBUTION_FEE].sum()

    frame = pd.concat([by_party(result.calculation.payments).rename("projected"),
                       by_party(actuals.payments).rename("actual")], axis=1).fillna(0.0).reset_index()
    frame = frame[(frame["projected"] != 0) | (frame["actual"] != 0)]
    frame["error"] = (frame["projected"] - frame["actual"]).round(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["error_pct"] = np.where(frame["actual"] != 0, 100.0 * frame["error"] / frame["actual"], np.nan)
    return frame[BACKTEST_COLUMNS].sort_values(["month_end", "party", "role"]).reset_index(drop=True)


def backtest_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per party and role: projected and actual totals, the total error in percent, and the
    mean absolute monthly error in percent."""
    g = frame.groupby(["party", "role"])
    out = g[["projected", "actual"]].sum()
    out["total_error_pct"] = 100.0 * (out["projected"] - out["actual"]) / out["actual"].replace(0.0, np.nan)
    out["mean_abs_monthly_error_pct"] = g["error_pct"].apply(lambda s: s.abs().mean())
    return out.round(2).reset_index()


def backtest_totals(frame: pd.DataFrame) -> tuple[float, float, float | None]:
    """Every party added: the projected and the actual Distribution Fee over the months, and
    the error as a fraction of the actual (None when the actual is zero)."""
    projected, actual = float(frame["projected"].sum()), float(frame["actual"].sum())
    return projected, actual, (projected - actual) / actual if actual else None
