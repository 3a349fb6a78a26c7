"""Monte Carlo over the deterministic projection (issue 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLES

from calc.feed import read_feed
from calc.scenarios.montecarlo import cdsc_ratio, nav_ratios
from calc.scenarios.run import actuals_until, run_scenario
from calc.scenarios.spec import parse_scenario
from calc.vocabulary import CDSC, DISTRIBUTION_FEE, SERVICE_FEE

SPEC = """
name = "mc"
horizon_months = 18
paths = {paths}
seed = {seed}
[assumptions]
volatility = {vol}
redemption_scale = 2.0
sales_scale = 1.5

[[events]]
type = "distributor_termination"
date = "{date}"
successor = "NEWCO"
"""


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    from calc.sample import generate

    return read_feed(generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=9))


def _feeds(small_sample):
    yield "hand", read_feed(EXAMPLES / "hand" / "feed")
    yield "random-1095", read_feed(EXAMPLES / "random-1095" / "feed")
    yield "small sample", small_sample


def _spec(actuals, paths, vol, seed=1):
    date = actuals.state.month_end + pd.offsets.MonthEnd(4)
    return parse_scenario(SPEC.format(paths=paths, seed=seed, vol=vol, date=f"{date:%Y-%m-%d}"))


def test_zero_volatility_equals_the_deterministic_projection(small_sample):
    """Within 0.5% per party, role, kind and month (in fact to the cent)."""
    for name, feed in _feeds(small_sample):
        actuals = actuals_until(feed)
        mc = run_scenario(feed, _spec(actuals, 50, 0.0), actuals=actuals)
        det = run_scenario(feed, _spec(actuals, 1, 0.0), actuals=actuals)
        pay = det.calculation.payments
        for kind in (DISTRIBUTION_FEE, CDSC, SERVICE_FEE):
            expected = pay.groupby(["month_end", "party", "role"])[kind].sum()
            got = mc.bands[mc.bands["kind"] == kind].set_index(["month_end", "party", "role"])
            joined = pd.concat([expected.rename("det"), got[["mean", "p05", "p95"]]], axis=1).fillna(0.0)
            tolerance = np.maximum(0.005 * joined["det"].abs(), 0.011)
            assert ((joined["mean"] - joined["det"]).abs() <= tolerance).all(), (name, kind)
            assert ((joined["p95"] - joined["p05"]).abs() <= 0.011).all(), (name, kind)


def test_bands_are_ordered_and_the_same_seed_gives_the_same_paths(small_sample):
    actuals = actuals_until(small_sample)
    a = run_scenario(small_sample, _spec(actuals, 300, 0.25, seed=7), actuals=actuals)
    b = run_scenario(small_sample, _spec(actuals, 300, 0.25, seed=7), actuals=actuals)
    pd.testing.assert_frame_equal(a.bands, b.bands)
    assert (a.bands["p05"] <= a.bands["p50"] + 1e-9).all() and (a.bands["p50"] <= a.bands["p95"] + 1e-9).all()
    fees = a.bands[a.bands["kind"] == DISTRIBUTION_FEE]
    assert (fees["p95"] > fees["p05"]).any()  # the market moves the fee


def test_more_paths_narrow_the_estimate():
    """The mean over more paths moves less from seed to seed (the Monte Carlo error)."""
    vol = np.array([0.2, 0.3])

    def spread(paths: int) -> float:
        means = [nav_ratios(vol, 24, paths, seed)[:, -1, :].mean() for seed in range(8)]
        return float(np.std(means))

    assert spread(4000) < spread(200)


def test_cdsc_on_the_lesser_of_cost_and_value():
    """Two cohorts: tau 0.8 (cost below value) and 1.2; CDSC sum w min(tau, D)."""
    groups = pd.DataFrame({"t": [0, 0], "p": [0, 0], "w": [10.0, 30.0], "tau": [0.8, 1.2]})
    d = np.array([0.5, 1.0, 1.5]).reshape(3, 1, 1)
    ratio = cdsc_ratio(groups, d)[:, 0, 0]
    at_one = 10 * 0.8 + 30 * 1.0
    assert ratio.tolist() == pytest.approx([(10 * 0.5 + 30 * 0.5) / at_one, 1.0, (10 * 0.8 + 30 * 1.2) / at_one])


def test_assignee_payback_probability(small_sample):
    actuals = actuals_until(small_sample)
    result = run_scenario(small_sample, _spec(actuals, 200, 0.2), actuals=actuals)
    pv = result.present_values
    assignees = pv[(pv["role"] == "assignee") & (pv["kind"] == "payable")]
    priced = small_sample.assignments.dropna(subset=["purchase_price"])["assignee"].unique()
    covered = assignees[assignees["party"].isin(priced)]
    assert len(covered) > 0
    assert covered["payback_probability"].between(0.0, 1.0).all()
    assert (pv["present_value_p05"] <= pv["present_value_p95"] + 1e-9).all()
