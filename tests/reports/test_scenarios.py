"""calc.reports.scenarios: what the Scenarios page shows of a projection against its baseline,
on random-1095 (assignees with purchase prices) with a short horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calc.reports import scenarios as R
from calc.reports.collateral import assignee_stream
from calc.reports.render import table_csv, workbook
from calc.scenarios.calibrate import calibrate
from calc.scenarios.run import actuals_until, run_scenario
from calc.scenarios.spec import parse_scenario
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, KINDS_OF_MONEY

HORIZON = 6
SPEC = """
name = "OD2 terminated"
horizon_months = {horizon}
paths = {paths}
seed = 4
[assumptions]
volatility = {volatility}

[[events]]
type = "distributor_termination"
date = "2017-05-31"
successor = "NEWCO"
"""


@pytest.fixture(scope="module")
def actuals(rnd):
    _, feed = rnd
    return feed, actuals_until(feed)


def _outcomes(actuals, paths: int = 1, volatility: float = 0.15):
    feed, act = actuals
    scenario = parse_scenario(SPEC.format(horizon=HORIZON, paths=paths, volatility=volatility))
    received = R.received_to_date(act.calculation.payments)
    prices = R.purchase_prices(feed.assignments)
    ours = R.outcome(run_scenario(feed, scenario, actuals=act), received, prices)
    base = R.outcome(run_scenario(feed, scenario.baseline(), actuals=act), received, prices)
    return ours, base


@pytest.fixture(scope="module")
def deterministic(actuals):
    return _outcomes(actuals)


@pytest.fixture(scope="module")
def monte_carlo(actuals):
    return _outcomes(actuals, paths=400)


def test_streams_of_a_deterministic_run_add_up_to_its_payments(deterministic):
    ours, _ = deterministic
    assert not ours.monte_carlo and len(ours.months) == HORIZON
    for kind in KINDS_OF_MONEY:
        streams = ours.streams[ours.streams["kind"] == kind]
        assert streams["mean"].sum() == pytest.approx(ours.payments[kind].sum(), abs=0.01 * len(streams) + 0.01)
        assert (streams["p05"] == streams["mean"]).all() and (streams["p95"] == streams["mean"]).all()
    assert "NEWCO" in set(ours.streams["party"])


def test_fan_joins_the_actuals_and_covers_every_projected_month(deterministic, actuals):
    ours, base = deterministic
    _, act = actuals
    history = R.actual_streams(act.calculation.payments, ours.start)
    frame = R.fan(ours, base, "FINCO1", DISTRIBUTION_FEE, history)
    actual = frame[frame["case"] == R.ACTUAL]
    assert len(actual) == R.TRAILING_MONTHS and actual["month_end"].max() == ours.start
    for case in (R.SCENARIO, R.BASELINE):
        part = frame[frame["case"] == case]
        assert part["month_end"].tolist() == [ours.start, *ours.months]  # led by the start month
        assert part["mean"].iloc[0] == actual["mean"].iloc[-1]
    # NEWCO has nothing in the baseline: zeros, not missing months
    newco = R.fan(ours, base, "NEWCO", CDSC)
    assert (newco.loc[newco["case"] == R.BASELINE, "mean"] == 0).all()
    assert newco.loc[newco["case"] == R.SCENARIO, "mean"].sum() > 0


def test_parties_and_kinds(deterministic):
    ours, base = deterministic
    parties = R.parties(ours, base)
    assert parties.index("FINCO1") > parties.index("OD2")  # rights holders first, then assignees
    assert R.kinds_of("FINCO1", ours, base) == [DISTRIBUTION_FEE, CDSC]
    assert R.party_label("FINCO1", "assignee") == "FINCO1 (assignee)"


def test_share_path_runs_off_the_departing_distributor(deterministic, actuals):
    ours, base = deterministic
    _, act = actuals
    path = R.share_path(ours, base, act.calculation.allocation, act.calculation.summary)
    assert set(path["case"]) == {R.ACTUAL, R.SCENARIO, R.BASELINE}
    last = ours.months[-1]
    at_end = path[path["month_end"] == last].set_index(["case", "rights_holder"])["share"]
    assert at_end[(R.SCENARIO, "NEWCO")] > 0
    baseline_newco = path[(path["case"] == R.BASELINE) & (path["rights_holder"] == "NEWCO")]
    assert baseline_newco["share"].fillna(0.0).eq(0.0).all()
    assert at_end[(R.SCENARIO, "OD2")] < at_end[(R.BASELINE, "OD2")]


def test_pv_comparison_is_scenario_less_baseline(deterministic):
    ours, base = deterministic
    table = R.pv_comparison(ours.present_values, base.present_values)
    assert (table["change"] == (table["present_value"] - table["baseline_present_value"]).round(2)).all()
    newco = table[(table["party"] == "NEWCO") & (table["kind"] == CDSC)].iloc[0]
    assert newco["baseline_present_value"] == 0 and np.isnan(newco["change_pct"])
    totals = R.pv_totals(table)
    money = table[table["kind"].isin(KINDS_OF_MONEY)]
    assert totals["scenario"] == pytest.approx(money["present_value"].sum(), abs=0.01)
    by_party = R.pv_by_party(table)
    assert by_party["change"].sum() == pytest.approx(totals["change"], abs=0.05)
    assert by_party.loc[by_party["party"] == "FINCO1", "label"].iloc[0] == "FINCO1 (assignee)"


def test_payback_adds_the_projection_to_what_was_received(deterministic, actuals):
    ours, base = deterministic
    _, act = actuals
    pay = act.calculation.payments
    mine = pay[(pay["party"] == "FINCO1") & (pay["role"] == "assignee")]
    received = float(assignee_stream(mine, "FINCO1")["total"].sum())
    pb = R.scenario_payback(pay, ours, base, "FINCO1", 25_000_000)
    assert pb.received == pytest.approx(received, abs=0.01)
    projected = ours.streams[(ours.streams["party"] == "FINCO1") & ours.streams["kind"].isin([DISTRIBUTION_FEE, CDSC])]
    assert pb.projected == pytest.approx(projected["mean"].sum(), abs=0.01)
    assert pb.recovered == pytest.approx((pb.received + pb.projected) / 25_000_000)
    assert pb.payback_month is None and not pb.paid_back_before and pb.probability is None
    end = pb.curve[pb.curve["case"] == R.SCENARIO]["cumulative"].iloc[-1]
    assert end == pytest.approx(pb.received + pb.projected, abs=0.01)
    # a price reached within the horizon, and one reached before the start
    within = R.scenario_payback(pay, ours, base, "FINCO1", received + pb.projected / 2)
    assert within.payback_month is not None and within.payback_month > ours.start
    assert R.scenario_payback(pay, ours, base, "FINCO1", received / 2).paid_back_before


def test_monte_carlo_bands_and_payback_probability(monte_carlo, actuals):
    ours, base = monte_carlo
    _, act = actuals
    assert ours.monte_carlo
    s = ours.streams
    assert (s["p05"] <= s["p50"] + 0.01).all() and (s["p50"] <= s["p95"] + 0.01).all()
    bands = ours.payback[ours.payback["assignee"] == "FINCO1"]
    assert len(bands) == HORIZON
    assert (np.diff(bands["probability"].to_numpy()) >= 0).all()
    assert (np.diff(bands["p50"].to_numpy()) >= 0).all()
    pay = act.calculation.payments
    pb = R.scenario_payback(pay, ours, base, "FINCO1", 25_000_000)
    assert pb.probability == 0.0  # 25 million is far off
    cheap = R.payback_bands(_paths(actuals), R.received_to_date(pay), {"FINCO1": pb.received + 1.0})
    assert cheap["probability"].iloc[-1] == 1.0
    table = R.pv_comparison(ours.present_values, base.present_values)
    assert {"present_value_p05", "present_value_p95", "payback_probability"} <= set(table.columns)


def _paths(actuals):
    feed, act = actuals
    scenario = parse_scenario(SPEC.format(horizon=HORIZON, paths=50, volatility=0.2))
    return run_scenario(feed, scenario, actuals=act).paths


def test_zero_volatility_payback_bands_equal_the_deterministic_curve(actuals, deterministic):
    ours_det, base_det = deterministic
    ours, base = _outcomes(actuals, paths=20, volatility=0.0)
    _, act = actuals
    pay = act.calculation.payments
    det = R.scenario_payback(pay, ours_det, base_det, "FINCO1", 25_000_000).curve
    det = det[det["case"] == R.SCENARIO].set_index("month_end")["cumulative"].iloc[1:]
    bands = ours.payback[ours.payback["assignee"] == "FINCO1"].set_index("month_end")
    assert np.allclose(bands["p05"], det, atol=0.02 * HORIZON) and np.allclose(bands["p95"], det, atol=0.02 * HORIZON)


def test_saved_scenarios_side_by_side(deterministic, monte_carlo):
    (ours, base), (mc, _) = deterministic, monte_carlo
    table = R.compare_present_values({"termination": ours.present_values, "baseline": base.present_values,
                                      "monte carlo": mc.present_values})
    assert list(table.columns) == ["party", "role", "kind", "termination", "baseline", "monte carlo"]
    newco = table[(table["party"] == "NEWCO") & (table["kind"] == CDSC)].iloc[0]
    assert newco["baseline"] == 0 and newco["termination"] > 0
    totals = R.compare_totals(table)
    assert list(totals) == ["termination", "baseline", "monte carlo"]
    assert totals["termination"] == pytest.approx(R.pv_totals(R.pv_comparison(ours.present_values,
                                                                                base.present_values))["scenario"])
    streams = R.compare_streams({"termination": ours, "baseline": base}, "NEWCO", CDSC)
    assert len(streams) == 2 * HORIZON
    assert streams.groupby("scenario", sort=False)["value"].sum()["baseline"] == 0


def test_downloads_have_readable_columns_and_a_meaningful_name(deterministic, monte_carlo, actuals):
    feed, act = actuals
    for ours, base in (deterministic, monte_carlo):
        sheets = R.download_sheets(ours, base, act.calculation.payments, R.purchase_prices(feed.assignments), "run 2")
        assert list(sheets) == ["Scenario", "Present values", "Monthly streams", "12b-1 Share", "Payback", "Assumptions"]
        assert {"Party", "Role", "Kind of money", "Present value", "Baseline present value", "Change"} <= set(
            sheets["Present values"].columns)
        assert "Month end" in sheets["Monthly streams"].columns and "Baseline" in sheets["Monthly streams"].columns
        assert ("Scenario p05" in sheets["Monthly streams"].columns) == ours.monte_carlo
        assert "Commission Share sales a month (calibrated)" in sheets["Assumptions"].columns
        assert "distributor termination on 2017-05-31 (successor NEWCO), all portfolios" in set(sheets["Scenario"]["Value"])
        kinds = R.download_kinds()
        assert workbook(sheets, kinds, "Scenario", "test")[:2] == b"PK"
        csv = table_csv(sheets["Present values"], kinds).decode()
        assert csv.startswith("Party,Role,Kind of money,")
    assert R.file_stem(deterministic[0].scenario, 2) == "scenario-od2-terminated-run2-6m"
    assert R.file_stem(monte_carlo[0].scenario.model_copy(update={"start": pd.Timestamp("2017-03-31")}), 2) == (
        "scenario-od2-terminated-run2-from-2017-03-6m-400paths")


def test_calibrated_ranges(actuals):
    feed, act = actuals
    cal = calibrate(act.feed, act.calculation, act.state.month_end)
    ranges = R.calibrated_ranges(cal)
    assert ranges["sales"][0] == pytest.approx(sum(cal.sales.values()))
    lo, hi = ranges["dividend_yield"]
    assert lo <= hi and lo == pytest.approx(min(cal.dividend_yield.values()))
    assert ranges["waiver_rate"] == (cal.waiver_rate, cal.waiver_rate)


def test_what_the_page_warns_about_and_picks_first(deterministic, actuals):
    ours, base = deterministic
    _, act = actuals
    money = R.projected_money(ours, "assignee")
    assert list(money.index)[0] == "FINCO1" and (money.diff().dropna() <= 0).all()
    assert R.events_after(ours.scenario, ours.months[-1]) == []
    assert R.events_after(ours.scenario, pd.Timestamp("2017-04-30")) == [
        "distributor termination on 2017-05-31 (successor NEWCO), all portfolios"]
    # random-1095 reports NAVs (net assets) from April 2015 on: no fee before, nothing to project from
    assert R.first_month_with_net_assets(act.calculation.summary) == pd.Timestamp("2015-04-30")
    # an assignee whose Portions stopped before the start: its curve runs flat to the start
    pay = act.calculation.payments
    stopped = pay[~((pay["party"] == "FINCO1") & (pay["month_end"] > "2016-12-31"))]
    pb = R.scenario_payback(stopped, ours, base, "FINCO1", 25_000_000)
    actual = pb.curve[pb.curve["case"] == R.ACTUAL]
    assert actual["month_end"].iloc[-1] == ours.start
    assert actual["cumulative"].iloc[-1] == actual["cumulative"].iloc[-2] == pb.received
