"""Running a scenario: the actuals up to its start, the calibrated defaults, the projection,
and what it is worth (present values per party, role and kind of money)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from calc.calendar import month_index
from calc.engine.state import MonthEndState
from calc.feed import Feed
from calc.monthly import compute
from calc.report import MonthlyCalculation, format_table
from calc.scenarios.calibrate import Calibration, calibrate
from calc.scenarios.montecarlo import Paths, bands, present_value_bands, simulate
from calc.scenarios.project import Flows, Projection, project, resolve
from calc.scenarios.spec import Scenario, SpecError, check_against
from calc.vocabulary import KINDS_OF_MONEY, ROLE_ASSIGNEE

Progress = Callable[..., None]
PV_COLUMNS = ["party", "role", "kind", "undiscounted", "present_value"]
PAYABLE = "payable"


@dataclass
class Actuals:
    """The actuals a scenario starts from: the calculation up to its start and the state then."""

    feed: Feed
    calculation: MonthlyCalculation
    state: MonthEndState


@dataclass
class ScenarioResult:
    scenario: Scenario
    calibration: Calibration
    flows: Flows
    projection: Projection
    present_values: pd.DataFrame
    bands: pd.DataFrame | None = None  # Monte Carlo: month_end, party, role, kind, mean, p05, p50, p95
    paths: Paths | None = None

    @property
    def calculation(self) -> MonthlyCalculation:
        return self.projection.calculation


def actuals_until(feed: Feed, start: pd.Timestamp | None = None, progress: Progress | None = None) -> Actuals:
    """The Monthly Calculation of ``feed`` up to ``start`` (default: its last month) and the
    state at that month end."""
    ends = feed.months()
    if len(ends) == 0:
        raise SpecError(["the feed has no month to start from"])
    start = ends[-1] if start is None else pd.Timestamp(start) + pd.offsets.MonthEnd(0)
    if start > ends[-1]:
        raise SpecError([f"start {start:%Y-%m} is after the feed's last month {ends[-1]:%Y-%m}"])
    if start < ends[0]:
        raise SpecError([f"start {start:%Y-%m} is before the feed's first month {ends[0]:%Y-%m}"])
    if start != ends[-1]:
        feed = dataclasses.replace(
            feed,
            transactions=feed.transactions[feed.transactions["date"] <= start].reset_index(drop=True),
            nav=feed.nav[feed.nav["date"] <= start].reset_index(drop=True),
            offsets=feed.offsets[feed.offsets["date"] <= start].reset_index(drop=True),
            plan_events=feed.plan_events[feed.plan_events["date"] <= start].reset_index(drop=True),
        )
    calc, state = compute(feed, through=start, progress=progress)
    return Actuals(feed, calc, state)


def run_scenario(
    feed: Feed,
    scenario: Scenario,
    *,
    actuals: Actuals | None = None,
    classes: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ScenarioResult:
    """Project ``scenario`` from the actuals of ``feed`` (computed here unless given)."""
    say = progress or (lambda *a, **k: None)
    if actuals is None:
        say("actuals: the Monthly Calculation up to the start")
        actuals = actuals_until(feed, scenario.start, progress)
    start = actuals.state.month_end
    if scenario.start is not None and scenario.start != start:
        raise SpecError([f"the scenario starts at {scenario.start:%Y-%m} but the state given ends {start:%Y-%m}"])
    check_against(scenario, feed.portfolios["portfolio_id"], feed.assignments["assignee"], start,
                  feed.months()[-1] if len(feed.months()) else start)
    say("calibrating the defaults from the actuals")
    calibration = calibrate(actuals.feed, actuals.calculation, start, classes)
    flows = resolve(calibration, scenario)
    say(f"projecting {scenario.horizon_months} months from {start:%Y-%m}")
    projection = project(feed, actuals.state, scenario, flows, progress)
    if scenario.paths == 1:
        pv = present_values(projection.calculation.payments, start, scenario.discount_rate)
        return ScenarioResult(scenario, calibration, flows, projection, pv)
    say(f"Monte Carlo: {scenario.paths:,} market paths")
    sim = simulate(projection.calculation, flows.volatility, scenario.paths, scenario.seed,
                   carried=actuals.state.offsets_carried, progress=progress)
    prices = feed.assignments.groupby("assignee")["purchase_price"].sum(min_count=1).dropna().to_dict()
    pay = actuals.calculation.payments
    received = pay[pay["role"] == ROLE_ASSIGNEE].groupby("party")["payable"].sum().to_dict()
    pv = present_value_bands(sim, start, scenario.discount_rate, prices, received)
    return ScenarioResult(scenario, calibration, flows, projection, pv, bands(sim), sim)


def present_values(payments: pd.DataFrame, start: pd.Timestamp, discount_rate: float) -> pd.DataFrame:
    """Per party, role and kind of money (and the amount payable): the undiscounted sum and
    the present value at ``start``, each month's money discounted from its month end at
    ``discount_rate`` a year."""
    if payments.empty:
        return pd.DataFrame({c: [] for c in PV_COLUMNS})
    start_month = int(month_index(np.array([pd.Timestamp(start)], dtype="datetime64[D]"))[0])
    months = month_index(pd.to_datetime(payments["month_end"]).to_numpy().astype("datetime64[D]")) - start_month
    factor = (1.0 + discount_rate) ** (-months / 12.0)
    rows = []
    for kind in (*KINDS_OF_MONEY, PAYABLE):
        frame = payments.assign(_pv=payments[kind] * factor, _v=payments[kind])
        grouped = frame.groupby(["party", "role"], sort=True)[["_v", "_pv"]].sum()
        for (party, role), (v, pv) in grouped.iterrows():
            if v != 0.0 or kind == PAYABLE:
                rows.append((party, role, kind, round(float(v), 2), round(float(pv), 2)))
    return pd.DataFrame(rows, columns=PV_COLUMNS)


def write_result(result: ScenarioResult, out_dir: str | Path) -> list[Path]:
    """Deterministic: ``summary.csv``, ``allocation.csv``, ``payments.csv`` of the projected
    months in the columns of RULES.md section 8 and ``present_values.csv``; Monte Carlo:
    ``bands.csv`` and ``present_values.csv`` (mean, p05, p50, p95, payback probability);
    both: ``assumptions.csv`` (the defaults and what was used) and ``scenario.toml``.
    All or nothing."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        calc = result.calculation
        if result.bands is None:
            for name in ("summary", "allocation", "payments"):
                format_table(name, getattr(calc, name)).to_csv(staging / f"{name}.csv", index=False,
                                                              lineterminator="\n")
        else:
            bands_out = result.bands.assign(month_end=result.bands["month_end"].dt.strftime("%Y-%m-%d"))
            bands_out.to_csv(staging / "bands.csv", index=False, lineterminator="\n")
        result.present_values.to_csv(staging / "present_values.csv", index=False, lineterminator="\n")
        assumptions_table(result).to_csv(staging / "assumptions.csv", index=False, lineterminator="\n")
        (staging / "scenario.toml").write_text(result.scenario.to_toml())
        out_dir.mkdir(exist_ok=True)
        written = []
        for path in sorted(staging.iterdir()):
            target = out_dir / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def assumptions_table(result: ScenarioResult) -> pd.DataFrame:
    """Per portfolio: the calibrated default and the value used, for each assumption."""
    cal, used = result.calibration, result.flows
    rows = []
    for pid in sorted(cal.asset_class):
        c = cal.asset_class[pid]
        rows.append({
            "portfolio_id": pid, "asset_class": c,
            "sales_a_month_default": round(cal.sales.get(pid, 0.0), 2), "sales_a_month": round(used.sales[pid], 2),
            "nav_sales_a_month_default": round(cal.nav_sales.get(pid, 0.0), 2),
            "nav_sales_a_month": round(used.nav_sales[pid], 2),
            "dividend_yield_default": round(cal.dividend_yield.get(pid, 0.0), 6),
            "dividend_yield": round(used.dividend_yield[pid], 6),
            "redemption_year_1_default": round(float(cal.redemption_by_year[c][0]), 6),
            "redemption_year_1": round(float(used.redemption_by_year[pid][0]), 6),
            "free_share_redemption_default": round(cal.free_redemption[c], 6),
            "free_share_redemption": round(used.free_redemption[pid], 6),
            "waiver_rate_default": round(cal.waiver_rate, 6), "waiver_rate": round(used.waiver_rate, 6),
            "drift_default": round(cal.drift[c], 6), "drift": round(used.drift[pid], 6),
            "volatility_default": round(cal.volatility[c], 6), "volatility": round(used.volatility[pid], 6),
        })
    return pd.DataFrame(rows)
