"""The deterministic projection (issue 8): the Monthly Calculation continued from the actuals'
month-end state with the model's flows, through the same engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLES
from statekit import differences

from calc.feed import read_feed
from calc.monthly import compute
from calc.report import format_table
from calc.scenarios.project import apply_events_to_tables
from calc.scenarios.run import actuals_until, run_scenario
from calc.scenarios.spec import parse_scenario
from calc.vocabulary import COMPLETE_TERMINATION, DISTRIBUTION_FEE, ROLE_RIGHTS_HOLDER

ZERO = """
[assumptions]
sales_scale = 0.0
nav_sales_scale = 0.0
redemption_scale = 0.0
dividend_yield = 0.0
waiver_rate = 0.0
drift = 0.0
volatility = 0.0
"""
HORIZON = 24


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    from calc.sample import generate

    return read_feed(generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=3))


def _extended(feed, start, events, horizon=HORIZON):
    """The actual feed run on through ``horizon`` more months with no transaction and flat NAVs:
    one NAV row per portfolio on each month's first day, its shares those the engine itself
    holds at the month end before (conversions to Class A go on)."""
    tenures, plan = apply_events_to_tables(feed, events)
    end = start + pd.offsets.MonthEnd(horizon)
    base = dataclasses.replace(feed, tenures=tenures, plan_events=plan)
    quiet, _ = compute(base, through=end)
    held = quiet.summary.set_index(["month_end", "portfolio_id"])["shares_outstanding"]
    last = feed.nav.sort_values("date").groupby("portfolio_id").tail(1).set_index("portfolio_id")
    at_start = held.xs(start, level="month_end")
    rows = []
    for k in range(1, horizon + 1):
        first_day = start + pd.offsets.MonthBegin(k)
        before = first_day - pd.Timedelta(days=1)
        for pid, r in last.iterrows():
            coverage = r["shares"] / at_start[pid] if at_start.get(pid, 0.0) > 1e-6 else 1.0
            rows.append((pid, first_day, r["nav"], round(held[(before, pid)] * coverage, 6)))
    nav = pd.concat([feed.nav, pd.DataFrame(rows, columns=["portfolio_id", "date", "nav", "shares"])], ignore_index=True)
    calc, _ = compute(dataclasses.replace(base, nav=nav), through=end)
    return calc


def _after(calc, start):
    return {name: format_table(name, f[f["month_end"] > start]).reset_index(drop=True)
            for name in ("summary", "allocation", "payments") for f in [getattr(calc, name)]}


def _projected(calc):
    return {name: format_table(name, getattr(calc, name)).reset_index(drop=True)
            for name in ("summary", "allocation", "payments")}


EVENTS = {
    "none": "",
    "termination": """
[[events]]
type = "distributor_termination"
date = "{date}"
successor = "NEWCO"
""",
    "plan": """
[[events]]
type = "complete_termination"
date = "{date}"
portfolios = "all"
""",
}


def _feeds(small_sample):
    yield "hand", read_feed(EXAMPLES / "hand" / "feed")
    yield "hand-v3", read_feed(EXAMPLES / "hand-v3" / "feed")
    yield "random-1095", read_feed(EXAMPLES / "random-1095" / "feed")
    yield "small sample", small_sample


@pytest.mark.parametrize("event", list(EVENTS))
def test_zero_flows_flat_market_equals_the_feed_run_on(small_sample, event):
    """Every flow and drift zero: the projected months are the Monthly Calculation of the
    feed extended by those months with flat NAVs and no transactions, to the cent per party;
    with a distributor termination or a Complete Termination, of the feed extended with the
    matching tenure or plan event."""
    for name, feed in _feeds(small_sample):
        actuals = actuals_until(feed)
        start = actuals.state.month_end
        date = f"{start + pd.offsets.MonthEnd(7):%Y-%m-%d}"
        spec = parse_scenario(f'name = "zero"\nhorizon_months = {HORIZON}\n{ZERO}' + EVENTS[event].format(date=date))
        result = run_scenario(feed, spec, actuals=actuals)
        assert len(result.projection.feed.transactions) == 0, name
        expected = _after(_extended(feed, start, list(spec.events)), start)
        got = _projected(result.calculation)
        diff = differences(expected, got)
        assert not diff, (name, event, diff)


def test_complete_termination_stops_both_fees_not_cdscs(small_sample):
    actuals = actuals_until(small_sample)
    start = actuals.state.month_end
    date = start + pd.offsets.MonthEnd(3)
    spec = parse_scenario(f'name = "ct"\nhorizon_months = 12\n[[events]]\ntype = "complete_termination"\n'
                          f'date = "{date:%Y-%m-%d}"\n')
    calc = run_scenario(small_sample, spec, actuals=actuals).calculation
    later = calc.summary[calc.summary["month_end"] > date]
    assert (later["distribution_fee"] == 0).all() and (later["service_fee"] == 0).all()
    assert later["cdsc"].sum() > 0
    before = calc.summary[calc.summary["month_end"] < date]
    assert before["distribution_fee"].sum() > 0


def test_distributor_termination_runs_off_and_new_sales_go_to_the_successor(small_sample):
    actuals = actuals_until(small_sample)
    start = actuals.state.month_end
    date = start + pd.offsets.MonthEnd(2)
    spec = parse_scenario(f'name = "dt"\nhorizon_months = 36\n[assumptions]\nsales_scale = 3.0\n'
                          f'[[events]]\ntype = "distributor_termination"\ndate = "{date:%Y-%m-%d}"\nsuccessor = "NEWCO"\n')
    result = run_scenario(small_sample, spec, actuals=actuals)
    baseline = run_scenario(small_sample, spec.baseline(), actuals=actuals)
    serving_before = small_sample.tenures.sort_values("start_date").groupby("portfolio_id").tail(1)
    departing = dict(zip(serving_before["portfolio_id"], serving_before["rights_holder"], strict=True))

    def by_holder(calc, column):
        return calc.allocation.pivot_table(index="month_end", columns=["portfolio_id", "rights_holder"],
                                           values=column)

    shares, share = by_holder(result.calculation, "attributed_shares"), by_holder(result.calculation, "share")
    base_share = by_holder(baseline.calculation, "share")
    moved = 0
    for pid, holder in departing.items():
        if (pid, "NEWCO") not in share.columns or (pid, holder) not in share.columns:
            continue
        after = shares.index > date + pd.offsets.MonthEnd(1)
        held = shares[(pid, holder)][after]
        if held.iloc[0] <= 0:
            continue
        assert held.iloc[-1] < held.iloc[0], pid  # its shares run off
        if share[(pid, "NEWCO")].iloc[-1] > 0:  # the successor sold: the departing one's Share is below the baseline's
            assert share[(pid, holder)].iloc[-1] < base_share[(pid, holder)].iloc[-1], pid
            moved += 1
        else:  # nothing sold since (no sales in the trailing year): the same Share as the baseline
            assert share[(pid, holder)].iloc[-1] == pytest.approx(base_share[(pid, holder)].iloc[-1]), pid
    assert moved > 0
    purchases = result.projection.feed.transactions
    purchases = purchases[(purchases["kind"] == "purchase") & (purchases["date"] > date)]
    assert len(purchases) > 0
    # each new lot is NEWCO's: its cohort account's Commission Shares are attributed to NEWCO
    lots = result.projection.state.lots
    new_lots = lots[lots["account_id"].isin(purchases["account_id"])]
    assert set(new_lots["rights_holder"]) == {"NEWCO"}


def test_plan_amendment_leaves_the_fee_on_shares_issued_before(small_sample):
    actuals = actuals_until(small_sample)
    start = actuals.state.month_end
    date = start + pd.offsets.MonthEnd(1)
    base = parse_scenario(f'name = "b"\nhorizon_months = 12\n{ZERO}')
    amended = parse_scenario(f'name = "a"\nhorizon_months = 12\n{ZERO}\n[[events]]\ntype = "plan_amendment"\n'
                             f'date = "{date:%Y-%m-%d}"\nrate = 0.0025\n')
    fee = {}
    for label, spec in (("base", base), ("amended", amended)):
        pay = run_scenario(small_sample, spec, actuals=actuals).calculation.payments
        fee[label] = pay.groupby("month_end")[DISTRIBUTION_FEE].sum()
    pd.testing.assert_series_equal(fee["base"], fee["amended"])  # no share issued after the date


def test_plan_amendment_lowers_the_fee_as_new_shares_are_sold(small_sample):
    actuals = actuals_until(small_sample)
    start = actuals.state.month_end
    date = start + pd.offsets.MonthEnd(1)
    flows = "[assumptions]\nsales_scale = 5.0\nredemption_scale = 0.0\ndrift = 0.0\n"
    base = parse_scenario(f'name = "b"\nhorizon_months = 12\n{flows}')
    amended = parse_scenario(f'name = "a"\nhorizon_months = 12\n{flows}[[events]]\ntype = "plan_amendment"\n'
                             f'date = "{date:%Y-%m-%d}"\nrate = 0.0\n')
    runs = {label: run_scenario(small_sample, spec, actuals=actuals) for label, spec in
            (("base", base), ("amended", amended))}
    fee = {k: r.calculation.summary.groupby("month_end")[DISTRIBUTION_FEE].sum() for k, r in runs.items()}
    later = fee["base"].index > date + pd.offsets.MonthEnd(1)
    assert (fee["amended"][later] < fee["base"][later]).all()
    assert (fee["amended"][later] > 0).all()
    rates = runs["amended"].projection.distribution_fee_rates
    assert rates and all(0.0 <= r <= 0.0075 for r in rates.values())
    assert any(r < 0.0075 for r in rates.values())


def test_present_values_discount_and_add_up(small_sample):
    spec = parse_scenario('name = "pv"\nhorizon_months = 12\ndiscount_rate = 0.1\n')
    result = run_scenario(small_sample, spec)
    pv = result.present_values
    pay = result.calculation.payments
    fees = pv[(pv["kind"] == DISTRIBUTION_FEE) & (pv["role"] == ROLE_RIGHTS_HOLDER)]
    assert fees["undiscounted"].sum() == pytest.approx(
        pay.loc[pay["role"] == ROLE_RIGHTS_HOLDER, DISTRIBUTION_FEE].sum(), abs=0.05)
    assert (pv["present_value"] <= pv["undiscounted"] + 0.005).all()
    assert np.isclose(pv["present_value"].sum(), 0) or pv["present_value"].sum() > 0
    assert COMPLETE_TERMINATION not in set(pv["kind"])


def test_stress_events_market_shock_redemption_shock_and_sales_suspension(small_sample):
    actuals = actuals_until(small_sample)
    start = actuals.state.month_end
    date = start + pd.offsets.MonthEnd(3)
    flows = "[assumptions]\nsales_scale = 2.0\ndrift = 0.0\n"
    base = run_scenario(small_sample, parse_scenario(f'name = "b"\nhorizon_months = 9\n{flows}'), actuals=actuals)

    def with_event(event: str):
        spec = parse_scenario(f'name = "e"\nhorizon_months = 9\n{flows}[[events]]\n{event}')
        return run_scenario(small_sample, spec, actuals=actuals)

    shocked = with_event(f'type = "market_shock"\ndate = "{date:%Y-%m-%d}"\nreturn = -0.3\n')
    nav_b, nav_s = base.projection.feed.nav, shocked.projection.feed.nav
    after = nav_s[nav_s["date"] > date]
    joined = after.merge(nav_b, on=["portfolio_id", "date"], suffixes=("_s", "_b"))
    assert np.allclose(joined["nav_s"], joined["nav_b"] * 0.7, rtol=1e-6)
    fee = {k: r.calculation.summary.groupby("month_end")[DISTRIBUTION_FEE].sum() for k, r in
           (("b", base), ("s", shocked))}
    later = fee["b"].index > date + pd.offsets.MonthEnd(1)
    assert (fee["s"][later] < 0.75 * fee["b"][later]).all()
    assert (fee["s"][fee["b"].index < date] == fee["b"][fee["b"].index < date]).all()

    run = with_event(f'type = "redemption_shock"\ndate = "{date:%Y-%m-%d}"\nmultiplier = 3.0\nmonths = 2\n')
    red = {k: r.projection.feed.transactions.query("kind == 'redeem'").groupby(
        pd.Grouper(key="date", freq="ME"))["shares"].sum() for k, r in (("b", base), ("r", run))}
    shock_months = [date + pd.offsets.MonthEnd(0), date + pd.offsets.MonthEnd(1)]
    for m in shock_months:
        assert red["r"][m] > 2.0 * red["b"][m]
    assert red["r"][shock_months[0] - pd.offsets.MonthEnd(1)] == pytest.approx(
        red["b"][shock_months[0] - pd.offsets.MonthEnd(1)])

    stopped = with_event(f'type = "sales_suspension"\ndate = "{date:%Y-%m-%d}"\n')
    tx = stopped.projection.feed.transactions
    assert tx[(tx["kind"].isin(["purchase", "nav_purchase"])) & (tx["date"] >= date)].empty
    assert not tx[(tx["kind"] == "purchase") & (tx["date"] < date)].empty
