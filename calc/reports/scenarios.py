"""Scenarios: what the Scenarios page shows of a projection, against its baseline.

A run of a scenario (``calc.scenarios.run.run_scenario``) is boiled down to an
:class:`Outcome`: frames only, small enough to keep (the projection's summary,
allocation and payments, the streams with their bands, the present values, the
assumptions, an assignee's payback on the Monte Carlo paths).  The functions below take
outcomes and the actuals' frames and give the frames the page draws: the fan of a
party's money against the baseline (:func:`fan`), each rights holder's 12b-1 Share path
(:func:`share_path`), present values and their change (:func:`pv_comparison`), an
assignee's payback (:func:`scenario_payback`), saved scenarios side by side
(:func:`compare_present_values`, :func:`compare_streams`), the downloads
(:func:`download_sheets`).

Deterministic and Monte Carlo outcomes have the same shape: a deterministic stream is a
band of width zero (mean = p05 = p50 = p95).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calc.reports.collateral import assignee_stream, purchase_price
from calc.reports.common import MONEY_KINDS, ROLE_LABELS
from calc.reports.shares import twelve_b1_shares
from calc.scenarios.montecarlo import Paths
from calc.scenarios.run import ScenarioResult, assumptions_table
from calc.scenarios.spec import Scenario
from calc.vocabulary import (
    CDSC,
    DISTRIBUTION_FEE,
    KINDS_OF_MONEY,
    ROLE_ASSIGNEE,
    ROLE_DISTRIBUTOR,
    ROLE_RIGHTS_HOLDER,
    SERVICE_FEE,
)

OFFSET, PAYABLE = "offset", "payable"
STREAM_KINDS = (*KINDS_OF_MONEY, OFFSET, PAYABLE)
KIND_LABELS: dict[str, str] = {**MONEY_KINDS, OFFSET: "Offset", PAYABLE: "Payable"}
KIND_ORDER = {k: i for i, k in enumerate((DISTRIBUTION_FEE, CDSC, SERVICE_FEE, OFFSET, PAYABLE))}
ROLE_ORDER = {r: i for i, r in enumerate((ROLE_RIGHTS_HOLDER, ROLE_ASSIGNEE, ROLE_DISTRIBUTOR))}
STREAM_KEYS = ["month_end", "party", "role", "kind"]
BANDS = ["mean", "p05", "p50", "p95"]
STREAM_COLUMNS = [*STREAM_KEYS, *BANDS]
PAYBACK_BAND_COLUMNS = ["assignee", "month_end", "p05", "p50", "p95", "probability"]
ACTUAL, SCENARIO, BASELINE = "actual", "scenario", "baseline"
TRAILING_MONTHS = 24  # months of actuals drawn before the projection
TOLERANCE_CENTS = 0.005


# --- one run, boiled down ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the page keeps of a scenario's run (frames only)."""

    scenario: Scenario
    start: pd.Timestamp  # the last actual month
    monte_carlo: bool
    streams: pd.DataFrame  # STREAM_COLUMNS, per month, party, role and kind (offset and payable too)
    summary: pd.DataFrame  # the projected months (the deterministic projection)
    allocation: pd.DataFrame
    payments: pd.DataFrame
    present_values: pd.DataFrame  # as calc.scenarios.run writes them
    assumptions: pd.DataFrame  # calc.scenarios.run.assumptions_table
    payback: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PAYBACK_BAND_COLUMNS))
    notes: tuple[str, ...] = ()

    @property
    def months(self) -> list[pd.Timestamp]:
        return sorted(pd.to_datetime(self.summary["month_end"]).drop_duplicates())


def streams_of_payments(payments: pd.DataFrame) -> pd.DataFrame:
    """A deterministic projection's payments as streams: per month, party, role and kind,
    the amount in every band column (a band of width zero); streams all zero are left out."""
    if payments.empty:
        return pd.DataFrame({c: [] for c in STREAM_COLUMNS})
    by = payments.groupby(["month_end", "party", "role"], as_index=False)[list(STREAM_KINDS)].sum()
    long = by.melt(id_vars=["month_end", "party", "role"], var_name="kind", value_name="mean")
    long["mean"] = long["mean"].round(2)
    some = long.groupby(["party", "role", "kind"])["mean"].transform(lambda s: s.abs().sum() > 0)
    long = long[some].copy()
    for band in BANDS[1:]:
        long[band] = long["mean"]
    return _ordered(long[STREAM_COLUMNS])


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(STREAM_KEYS, kind="stable").reset_index(drop=True)


def received_to_date(actual_payments: pd.DataFrame, start: pd.Timestamp | None = None) -> dict[str, float]:
    """Each assignee's payable received in the actuals (to ``start``), by assignee."""
    pay = actual_payments[actual_payments["role"] == ROLE_ASSIGNEE]
    if start is not None:
        pay = pay[pay["month_end"] <= pd.Timestamp(start)]
    return {str(k): round(float(v), 2) for k, v in pay.groupby("party")[PAYABLE].sum().items()}


def purchase_prices(assignments: pd.DataFrame) -> dict[str, float]:
    """Each assignee's purchase price (its assignments' prices added; none given: left out)."""
    out = {}
    for assignee in sorted(set(assignments["assignee"].astype(str))):
        price = purchase_price(assignments, assignee)
        if price:
            out[assignee] = price
    return out


def payback_bands(paths: Paths, received: Mapping[str, float], prices: Mapping[str, float]) -> pd.DataFrame:
    """Per assignee with a purchase price and month: the p05, p50 and p95 over the paths of
    what it has collected (received to date plus the projected payable to that month), and
    the share of paths that have reached the price by then."""
    rows = []
    keys = paths.keys.reset_index(drop=True)
    for assignee, price in sorted(prices.items()):
        hit = keys.index[(keys["party"] == assignee) & (keys["role"] == ROLE_ASSIGNEE) & (keys["kind"] == PAYABLE)]
        if len(hit) == 0:
            continue
        cumulative = received.get(assignee, 0.0) + np.cumsum(paths.values[:, hit[0], :], axis=1)  # [paths, months]
        q = np.quantile(cumulative, (0.05, 0.5, 0.95), axis=0)
        probability = (cumulative >= price - TOLERANCE_CENTS).mean(axis=0)
        rows.append(pd.DataFrame({"assignee": assignee, "month_end": paths.month_ends, "p05": q[0].round(2),
                                  "p50": q[1].round(2), "p95": q[2].round(2), "probability": probability}))
    if not rows:
        return pd.DataFrame(columns=PAYBACK_BAND_COLUMNS)
    return pd.concat(rows, ignore_index=True)[PAYBACK_BAND_COLUMNS]


def outcome(result: ScenarioResult, received: Mapping[str, float] | None = None,
            prices: Mapping[str, float] | None = None) -> Outcome:
    """A scenario's run boiled down to frames; ``received`` and ``prices`` (each assignee's
    receipts to date and purchase price) give the payback bands of a Monte Carlo run."""
    calc = result.calculation
    monte_carlo = result.bands is not None
    if monte_carlo:
        streams = result.bands[result.bands["kind"].isin(STREAM_KINDS)][STREAM_COLUMNS]
        streams = _ordered(streams.assign(month_end=pd.to_datetime(streams["month_end"])))
    else:
        streams = streams_of_payments(calc.payments)
    pay_bands = (payback_bands(result.paths, received or {}, prices or {})
                 if monte_carlo and result.paths is not None else pd.DataFrame(columns=PAYBACK_BAND_COLUMNS))
    return Outcome(
        scenario=result.scenario, start=pd.Timestamp(result.calibration.start), monte_carlo=monte_carlo,
        streams=streams, summary=calc.summary.reset_index(drop=True), allocation=calc.allocation.reset_index(drop=True),
        payments=calc.payments.reset_index(drop=True), present_values=result.present_values.reset_index(drop=True),
        assumptions=assumptions_table(result), payback=pay_bands, notes=tuple(result.calibration.notes),
    )


def calibrated_ranges(calibration) -> dict[str, tuple[float, float]]:
    """What the form shows beside each assumption: the calibrated default's lowest and
    highest value over the portfolios (or asset classes); the sales as the complex's
    dollars a month (lowest = highest)."""
    def span(values) -> tuple[float, float]:
        v = [float(x) for x in values]
        return (min(v), max(v)) if v else (0.0, 0.0)

    sales = float(sum(calibration.sales.values()))
    nav_sales = float(sum(calibration.nav_sales.values()))
    return {
        "sales": (sales, sales), "nav_sales": (nav_sales, nav_sales),
        "redemption_year_1": span(c[0] for c in calibration.redemption_by_year.values()),
        "dividend_yield": span(calibration.dividend_yield.get(p, 0.0) for p in calibration.asset_class),
        "waiver_rate": (float(calibration.waiver_rate), float(calibration.waiver_rate)),
        "drift": span(calibration.drift.values()), "volatility": span(calibration.volatility.values()),
    }


# --- the page's frames -------------------------------------------------------------------


def party_label(party: str, role: str) -> str:
    """``FIN (assignee)``, ``ADI (service fee)`` or just ``ADI``."""
    if role == ROLE_ASSIGNEE:
        return f"{party} (assignee)"
    if role == ROLE_DISTRIBUTOR:
        return f"{party} (distributor)"
    return str(party)


def parties(*outcomes: Outcome) -> list[str]:
    """The parties with money in any of ``outcomes``: rights holders first, then assignees,
    then distributors paid only the service fee; by name within each."""
    frames = [o.streams[o.streams["kind"].isin(KINDS_OF_MONEY)] for o in outcomes]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=STREAM_COLUMNS)
    if frame.empty:
        return []
    rank = frame.groupby("party")["role"].agg(lambda r: min(ROLE_ORDER.get(x, 9) for x in r))
    return sorted(rank.index.astype(str), key=lambda p: (rank[p], p))


def kinds_of(party: str, *outcomes: Outcome) -> list[str]:
    """The kinds of money ``party`` has in any of ``outcomes``, in the reports' order."""
    kinds = set()
    for o in outcomes:
        s = o.streams
        kinds |= set(s.loc[(s["party"] == party) & s["kind"].isin(KINDS_OF_MONEY), "kind"])
    return sorted(kinds, key=KIND_ORDER.get)


def actual_streams(actual_payments: pd.DataFrame, start: pd.Timestamp, months: int = TRAILING_MONTHS) -> pd.DataFrame:
    """The last ``months`` months of the actuals to ``start`` as streams (for context)."""
    start = pd.Timestamp(start)
    since = start - pd.offsets.MonthEnd(months)
    pay = actual_payments[(actual_payments["month_end"] > since) & (actual_payments["month_end"] <= start)]
    return streams_of_payments(pay)


def fan(scenario: Outcome, baseline: Outcome, party: str, kind: str,
        actual: pd.DataFrame | None = None) -> pd.DataFrame:
    """A party's money of one kind by month (its roles added): columns month_end, case
    (``actual``, ``scenario``, ``baseline``), mean, p05, p50, p95.  A projected month
    without the stream is zero; the actual months lead into both projections (the start
    month is repeated as their first point, so that the lines join)."""
    def pick(streams: pd.DataFrame, months: list[pd.Timestamp] | None) -> pd.DataFrame:
        rows = streams[(streams["party"] == party) & (streams["kind"] == kind)]
        out = rows.groupby("month_end")[BANDS].sum()
        if months is not None:
            out = out.reindex(pd.DatetimeIndex(months, name="month_end"), fill_value=0.0)
        return out.reset_index()

    parts = []
    history = pick(actual, None) if actual is not None and not actual.empty else pd.DataFrame(columns=["month_end", *BANDS])
    if not history.empty:
        parts.append(history.assign(case=ACTUAL))
    joint = history[history["month_end"] == scenario.start]
    for case, o in ((SCENARIO, scenario), (BASELINE, baseline)):
        projected = pick(o.streams, o.months)
        parts.append(pd.concat([joint, projected], ignore_index=True).assign(case=case))
    frame = pd.concat(parts, ignore_index=True)
    frame[BANDS] = frame[BANDS].astype(float).round(2)
    return frame[["month_end", "case", *BANDS]]


def share_path(scenario: Outcome, baseline: Outcome, actual_allocation: pd.DataFrame | None = None,
               actual_summary: pd.DataFrame | None = None, months: int = TRAILING_MONTHS) -> pd.DataFrame:
    """Each rights holder's 12b-1 Share over the complex (``shares.twelve_b1_shares``):
    the last ``months`` actual months, then the scenario's and the baseline's projected
    months, each led by the start month.  Columns: month_end, rights_holder, case, share."""
    parts = []
    start = scenario.start
    joint = pd.DataFrame(columns=["month_end", "rights_holder", "share"])
    if actual_allocation is not None and actual_summary is not None and not actual_allocation.empty:
        since = start - pd.offsets.MonthEnd(months)
        history = twelve_b1_shares(actual_allocation, actual_summary, None, since + pd.Timedelta(days=1), start)
        parts.append(history.assign(case=ACTUAL))
        joint = history[history["month_end"] == start]
    for case, o in ((SCENARIO, scenario), (BASELINE, baseline)):
        projected = twelve_b1_shares(o.allocation, o.summary)
        parts.append(pd.concat([joint, projected], ignore_index=True).assign(case=case))
    frame = pd.concat(parts, ignore_index=True)
    return frame[["month_end", "rights_holder", "case", "share"]].reset_index(drop=True)


def _pv_column(pv: pd.DataFrame) -> str:
    return "present_value_mean" if "present_value_mean" in pv.columns else "present_value"


def _undiscounted_column(pv: pd.DataFrame) -> str:
    return "undiscounted_mean" if "undiscounted_mean" in pv.columns else "undiscounted"


def pv_comparison(scenario: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per party, role and kind: the scenario's undiscounted sum and present value (Monte
    Carlo: their means, and the present value's p05 and p95, and an assignee's payback
    probability), the baseline's present value, the change and the change in percent of
    the baseline (NaN where the baseline is zero)."""
    keys = ["party", "role", "kind"]
    s = scenario.rename(columns={_undiscounted_column(scenario): "undiscounted", _pv_column(scenario): "present_value"})
    b = baseline[[*keys, _pv_column(baseline)]].rename(columns={_pv_column(baseline): "baseline_present_value"})
    extra = [c for c in ("present_value_p05", "present_value_p95", "payback_probability") if c in s.columns]
    out = s[[*keys, "undiscounted", "present_value", *extra]].merge(b, on=keys, how="outer")
    for c in ("undiscounted", "present_value", "baseline_present_value"):
        out[c] = out[c].fillna(0.0)
    out["change"] = (out["present_value"] - out["baseline_present_value"]).round(2)
    base = out["baseline_present_value"]
    out["change_pct"] = np.where(base.abs() > TOLERANCE_CENTS, out["change"] / base.abs().where(base != 0, 1.0), np.nan)
    idle = (out["kind"] == OFFSET) & (out["present_value"] == 0) & (out["baseline_present_value"] == 0)
    out = out[~idle]
    order = out.assign(_r=out["role"].map(ROLE_ORDER).fillna(9), _k=out["kind"].map(KIND_ORDER).fillna(9))
    cols = [*keys, "undiscounted", "present_value", "baseline_present_value", "change", "change_pct", *extra]
    return order.sort_values(["_r", "party", "_k"])[cols].reset_index(drop=True)


def pv_by_party(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per party (its roles added): the present value of its Distribution Fee, CDSC and
    service fee under the scenario and the baseline, and the change; largest first.
    Columns: party, label, present_value, baseline_present_value, change."""
    money = comparison[comparison["kind"].isin(KINDS_OF_MONEY)]
    out = money.groupby("party", as_index=False)[["present_value", "baseline_present_value"]].sum()
    roles = money.groupby("party")["role"].agg(lambda r: min(r, key=lambda x: ROLE_ORDER.get(x, 9)))
    out["label"] = [party_label(p, roles[p]) for p in out["party"]]
    out["change"] = (out["present_value"] - out["baseline_present_value"]).round(2)
    out = out.assign(_size=out[["present_value", "baseline_present_value"]].abs().max(axis=1))
    out = out[out["_size"] > 0].sort_values("_size", ascending=False)
    return out[["party", "label", "present_value", "baseline_present_value", "change"]].reset_index(drop=True)


def pv_totals(comparison: pd.DataFrame) -> dict[str, float]:
    """Every party's Distribution Fee, CDSC and service fee added: the scenario's and the
    baseline's present value and the change."""
    money = comparison[comparison["kind"].isin(KINDS_OF_MONEY)]
    scenario, baseline = float(money["present_value"].sum()), float(money["baseline_present_value"].sum())
    return {"scenario": round(scenario, 2), "baseline": round(baseline, 2), "change": round(scenario - baseline, 2)}


@dataclass(frozen=True)
class ScenarioPayback:
    """An assignee's collections under a scenario: the actuals to the start, then projected."""

    assignee: str
    price: float | None
    received: float  # to the start (the actuals)
    projected: float  # over the horizon (deterministic; Monte Carlo: the mean)
    recovered: float | None  # (received + projected) / price
    payback_month: pd.Timestamp | None  # the first month end collections reach the price
    paid_back_before: bool  # reached before the start
    probability: float | None  # Monte Carlo: share of paths that reach the price within the horizon
    curve: pd.DataFrame  # month_end, case (actual/scenario/baseline), cumulative, p05, p95


def scenario_payback(actual_payments: pd.DataFrame, scenario: Outcome, baseline: Outcome, assignee: str,
                     price: float | None) -> ScenarioPayback:
    """``assignee``'s payback under the scenario: received to date (the actuals to the
    start) plus the projected 12b-1 and CDSC Portions against its purchase price; the
    baseline's curve beside it; for Monte Carlo, the bands and the probability."""
    start = scenario.start
    mine = actual_payments[(actual_payments["role"] == ROLE_ASSIGNEE) & (actual_payments["party"] == assignee)
                           & (actual_payments["month_end"] <= start)]
    history = assignee_stream(mine, assignee)
    received = float(history["total"].sum()) if not history.empty else 0.0
    curves = []
    joint = pd.DataFrame({"month_end": [start], "cumulative": [round(received, 2)]})
    if not history.empty:
        actual = history[["month_end", "cumulative"]]
        if actual["month_end"].max() < start:  # nothing since: flat to the start
            actual = pd.concat([actual, joint], ignore_index=True)
        curves.append(actual.assign(case=ACTUAL))

    def projected(o: Outcome) -> pd.DataFrame:
        s = o.streams
        rows = s[(s["party"] == assignee) & (s["role"] == ROLE_ASSIGNEE) & s["kind"].isin((DISTRIBUTION_FEE, CDSC))]
        by = rows.groupby("month_end")["mean"].sum().reindex(pd.DatetimeIndex(o.months, name="month_end"), fill_value=0.0)
        return pd.DataFrame({"month_end": by.index, "cumulative": (received + by.cumsum()).round(2).to_numpy()})

    ours = projected(scenario)
    for case, frame in ((SCENARIO, ours), (BASELINE, projected(baseline))):
        curves.append(pd.concat([joint, frame], ignore_index=True).assign(case=case))
    curve = pd.concat(curves, ignore_index=True)
    curve["p05"] = np.nan
    curve["p95"] = np.nan
    probability = None
    bands = scenario.payback[scenario.payback["assignee"] == assignee] if scenario.monte_carlo else scenario.payback.iloc[0:0]
    if not bands.empty:
        at = curve["case"] == SCENARIO
        lookup = bands.set_index("month_end")
        curve.loc[at, "p05"] = curve.loc[at, "month_end"].map(lookup["p05"]).fillna(received)
        curve.loc[at, "p95"] = curve.loc[at, "month_end"].map(lookup["p95"]).fillna(received)
        probability = float(bands["probability"].iloc[-1])
    total_projected = float(ours["cumulative"].iloc[-1] - received) if not ours.empty else 0.0
    stream = pd.concat([history[["month_end", "cumulative"]], ours], ignore_index=True)
    month, before = None, False
    if price:
        reached = stream[stream["cumulative"] >= price - TOLERANCE_CENTS]
        if not reached.empty:
            month = pd.Timestamp(reached["month_end"].iloc[0])
            before = month <= start
    recovered = (received + total_projected) / price if price else None
    return ScenarioPayback(assignee, price, round(received, 2), round(total_projected, 2), recovered, month, before,
                           probability, curve[["month_end", "case", "cumulative", "p05", "p95"]])


def projected_money(o: Outcome, role: str | None = None) -> pd.Series:
    """Each party's Distribution Fee, CDSC and service fee over the horizon (Monte Carlo: the
    mean), largest first; only the parties in ``role`` when given."""
    s = o.streams[o.streams["kind"].isin(KINDS_OF_MONEY)]
    if role is not None:
        s = s[s["role"] == role]
    return s.groupby("party")["mean"].sum().sort_values(ascending=False, kind="stable")


def events_after(scenario: Scenario, last_month: pd.Timestamp) -> list[str]:
    """The events dated after the last projected month: they change nothing in the horizon."""
    return [describe_event(e) for e in scenario.events if e.date > pd.Timestamp(last_month)]


def first_month_with_net_assets(summary: pd.DataFrame) -> pd.Timestamp | None:
    """The first month end with net assets reported (before it no fee accrues; a projection
    from such a month has no NAV to start from)."""
    with_assets = summary.loc[summary["average_net_assets"] > 0, "month_end"]
    return None if with_assets.empty else pd.Timestamp(with_assets.min())


# --- saved scenarios side by side ----------------------------------------------------------


def compare_present_values(named: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Present values of several scenarios side by side: per party, role and kind, one
    column per scenario (Monte Carlo: the mean), in the order given."""
    keys = ["party", "role", "kind"]
    out: pd.DataFrame | None = None
    for name, pv in named.items():
        col = pv[[*keys, _pv_column(pv)]].rename(columns={_pv_column(pv): name})
        out = col if out is None else out.merge(col, on=keys, how="outer")
    if out is None:
        return pd.DataFrame(columns=keys)
    out = out[out["kind"] != OFFSET].fillna(0.0)
    order = out.assign(_r=out["role"].map(ROLE_ORDER).fillna(9), _k=out["kind"].map(KIND_ORDER).fillna(9))
    return order.sort_values(["_r", "party", "_k"]).drop(columns=["_r", "_k"]).reset_index(drop=True)


def compare_totals(table: pd.DataFrame) -> dict[str, float]:
    """Per scenario of :func:`compare_present_values`' table: the present value of every
    party's Distribution Fee, CDSC and service fee."""
    money = table[table["kind"].isin(KINDS_OF_MONEY)]
    names = [c for c in table.columns if c not in ("party", "role", "kind")]
    return {name: round(float(money[name].sum()), 2) for name in names}


def compare_streams(named: Mapping[str, Outcome], party: str, kind: str) -> pd.DataFrame:
    """One party's money of one kind by month under each scenario (Monte Carlo: the mean):
    columns month_end, scenario, value."""
    parts = []
    for name, o in named.items():
        s = o.streams
        by = s[(s["party"] == party) & (s["kind"] == kind)].groupby("month_end")["mean"].sum()
        by = by.reindex(pd.DatetimeIndex(o.months, name="month_end"), fill_value=0.0)
        parts.append(pd.DataFrame({"month_end": by.index, "scenario": name, "value": by.round(2).to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["month_end", "scenario", "value"])
    return pd.concat(parts, ignore_index=True)


# --- downloads ---------------------------------------------------------------------------

DOWNLOAD_LABELS: dict[str, str] = {
    "month_end": "Month end", "party": "Party", "role": "Role", "kind": "Kind of money", "rights_holder": "Rights holder",
    "undiscounted": "Undiscounted", "present_value": "Present value", "baseline_present_value": "Baseline present value",
    "change": "Change", "change_pct": "Change (%)", "present_value_p05": "Present value p05",
    "present_value_p95": "Present value p95", "payback_probability": "Payback probability",
    "mean": "Scenario", "p05": "Scenario p05", "p50": "Scenario p50", "p95": "Scenario p95", "baseline": "Baseline",
    "share": "12b-1 Share", "baseline_share": "Baseline 12b-1 Share", "case": "Series", "cumulative": "Collected to date",
    "portfolio_id": "Portfolio", "asset_class": "Asset class",
}
DOWNLOAD_KINDS: dict[str, list[str]] = {
    "money": ["Undiscounted", "Present value", "Baseline present value", "Change", "Present value p05",
              "Present value p95", "Scenario", "Scenario p05", "Scenario p50", "Scenario p95", "Baseline",
              "Collected to date", "Collected p05", "Collected p95"],
    "percent": ["Change (%)", "Payback probability", "12b-1 Share", "Baseline 12b-1 Share"],
    "dates": ["Month end"],
}


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "kind" in out.columns:
        out["kind"] = out["kind"].map(lambda k: KIND_LABELS.get(k, k))
    if "role" in out.columns:
        out["role"] = out["role"].map(lambda r: ROLE_LABELS.get(r, r))
    return out.rename(columns=DOWNLOAD_LABELS)


def settings(scenario: Scenario, run_label: str = "") -> pd.DataFrame:
    """The scenario's settings and events in words (Setting, Value), for a download's first sheet."""
    s = scenario
    rows = [("Name", s.name), ("Actuals", run_label), ("Start (last actual month)", f"{s.start:%Y-%m}" if s.start is not None else ""),
            ("Horizon (months)", str(s.horizon_months)),
            ("Paths", f"{s.paths} ({'Monte Carlo' if s.paths > 1 else 'deterministic'})"), ("Seed", str(s.seed)),
            ("Discount rate", f"{s.discount_rate:.2%} a year")]
    a = s.assumptions
    for key, label, pct in (("sales_scale", "Commission Share sales (x trailing 12 months)", False),
                            ("nav_sales_scale", "NAV sales (x trailing 12 months)", False),
                            ("redemption_scale", "Redemptions (x calibrated curve)", False),
                            ("dividend_yield", "Reinvested dividends (a year)", True),
                            ("waiver_rate", "CDSC waiver rate", True), ("drift", "Market drift (a year)", True),
                            ("volatility", "Volatility (a year)", True)):
        v = getattr(a, key)
        rows.append((label, "calibrated default" if v is None else (f"{v:.2%}" if pct else f"{v:g}")))
    for i, e in enumerate(s.events, start=1):
        rows.append((f"Event {i}", describe_event(e)))
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def describe_event(e) -> str:
    """An event in words: ``distributor_termination on 2013-06-30 (successor NEWCO), all portfolios``."""
    details = []
    if e.successor:
        details.append(f"successor {e.successor}")
    if e.rate is not None:
        details.append(f"Distribution Fee rate {e.rate:.4%}")
    if e.return_ is not None:
        details.append(f"return {e.return_:+.1%}")
    if e.multiplier is not None:
        details.append(f"redemptions x{e.multiplier:g}")
    if e.months is not None:
        details.append(f"for {e.months} months")
    where = "all portfolios" if e.portfolios == "all" else ", ".join(e.portfolios)
    text = f"{e.type.replace('_', ' ')} on {e.date:%Y-%m-%d}"
    return f"{text} ({'; '.join(details)}), {where}" if details else f"{text}, {where}"


def download_sheets(scenario: Outcome, baseline: Outcome, actual_payments: pd.DataFrame | None = None,
                    prices: Mapping[str, float] | None = None, run_label: str = "") -> dict[str, pd.DataFrame]:
    """The downloads' sheets, with readable column names: Scenario (settings and events),
    Present values, Monthly streams, 12b-1 Share, Payback (one row per assignee and month),
    Assumptions."""
    sheets = {"Scenario": settings(scenario.scenario, run_label)}
    sheets["Present values"] = _readable(pv_comparison(scenario.present_values, baseline.present_values))
    keys = ["month_end", "party", "role", "kind"]
    base = baseline.streams[keys + ["mean"]].rename(columns={"mean": "baseline"})
    money = scenario.streams.merge(base, on=keys, how="outer")
    money[[*BANDS, "baseline"]] = money[[*BANDS, "baseline"]].fillna(0.0)
    money = money[money["kind"].isin(KINDS_OF_MONEY)].sort_values(keys)
    if not scenario.monte_carlo:
        money = money.drop(columns=["p05", "p50", "p95"])
    sheets["Monthly streams"] = _readable(money.reset_index(drop=True))
    path = share_path(scenario, baseline)
    wide = path.pivot_table(index=["month_end", "rights_holder"], columns="case", values="share").reset_index()
    wide = wide[wide["month_end"] > scenario.start].rename(columns={SCENARIO: "share", BASELINE: "baseline_share"})
    sheets["12b-1 Share"] = _readable(wide[[c for c in ("month_end", "rights_holder", "share", "baseline_share")
                                            if c in wide.columns]].reset_index(drop=True))
    if actual_payments is not None:
        rows = []
        for assignee in sorted(set(scenario.streams.loc[scenario.streams["role"] == ROLE_ASSIGNEE, "party"])):
            pb = scenario_payback(actual_payments, scenario, baseline, assignee, (prices or {}).get(assignee))
            c = pb.curve[pb.curve["case"] == SCENARIO].iloc[1:]  # the projected months
            c = c.rename(columns={"p05": "Collected p05", "p95": "Collected p95"}).drop(columns="case")
            rows.append(c.assign(assignee=assignee))
        if rows:
            frame = pd.concat(rows, ignore_index=True)
            cols = ["assignee", "month_end", "cumulative"] + (["Collected p05", "Collected p95"] if scenario.monte_carlo else [])
            sheets["Payback"] = _readable(frame[cols]).rename(columns={"assignee": "Assignee"})
    sheets["Assumptions"] = assumption_labels(scenario.assumptions)
    return sheets


ASSUMPTION_LABELS: dict[str, str] = {
    "portfolio_id": "Portfolio", "asset_class": "Asset class",
    "sales_a_month": "Commission Share sales a month", "nav_sales_a_month": "NAV sales a month",
    "dividend_yield": "Reinvested dividends a year", "redemption_year_1": "Redemptions in year 1 a year",
    "free_share_redemption": "Free Share redemptions a year", "waiver_rate": "CDSC waiver rate",
    "drift": "Drift a year", "volatility": "Volatility a year",
}
ASSUMPTION_MONEY = ("sales_a_month", "nav_sales_a_month")


def assumption_labels(table: pd.DataFrame) -> pd.DataFrame:
    """The assumptions table (``calc.scenarios.run.assumptions_table``) with readable
    headers: ``Commission Share sales a month (calibrated)`` beside ``... (used)``."""
    def label(column: str) -> str:
        if column.endswith("_default"):
            return f"{ASSUMPTION_LABELS.get(column[:-8], column[:-8])} (calibrated)"
        if column in ASSUMPTION_LABELS and column not in ("portfolio_id", "asset_class"):
            return f"{ASSUMPTION_LABELS[column]} (used)"
        return ASSUMPTION_LABELS.get(column, column)

    return table.rename(columns=label)


def assumption_kinds(table: pd.DataFrame) -> dict[str, list[str]]:
    """Which columns of :func:`assumption_labels`' table are money and which percents."""
    money, percent = [], []
    for column in table.columns:
        base = column.removesuffix("_default")
        if base in ASSUMPTION_MONEY:
            money.append(column)
        elif base in ASSUMPTION_LABELS and base not in ("portfolio_id", "asset_class"):
            percent.append(column)
    return {"money": money, "percent": percent}


def download_kinds() -> dict[str, list[str]]:
    """The kinds of the download sheets' readable columns (``calc.reports.render`` formats)."""
    kinds = {k: list(v) for k, v in DOWNLOAD_KINDS.items()}
    for base, label in ASSUMPTION_LABELS.items():
        if base in ("portfolio_id", "asset_class"):
            continue
        kind = "money" if base in ASSUMPTION_MONEY else "percent"
        kinds[kind] += [f"{label} (calibrated)", f"{label} (used)"]
    return kinds


def file_stem(scenario: Scenario, run_id: int) -> str:
    """``scenario-adi-terminated-mid-2013-run2-from-2012-12-120m``: what downloads are named."""
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")[:60] or "scenario"
    start = f"-from-{scenario.start:%Y-%m}" if scenario.start is not None else ""
    kind = f"-{scenario.paths}paths" if scenario.paths > 1 else ""
    return f"scenario-{slug}-run{run_id}{start}-{scenario.horizon_months}m{kind}"


__all__ = [
    "ACTUAL", "BASELINE", "KIND_LABELS", "SCENARIO", "Outcome", "ScenarioPayback", "actual_streams",
    "assumption_kinds", "assumption_labels", "calibrated_ranges", "compare_present_values", "compare_streams", "compare_totals", "describe_event", "events_after",
    "first_month_with_net_assets",
    "download_kinds", "download_sheets", "fan", "file_stem", "kinds_of",
    "outcome", "parties", "party_label", "payback_bands", "purchase_prices", "pv_comparison", "pv_totals",
    "projected_money", "pv_by_party", "received_to_date", "scenario_payback", "settings", "share_path", "streams_of_payments",
]
