"""calc.reports.shares: the parties' parts of the Distribution Fee, the 12b-1 Share, the plan timeline."""

from __future__ import annotations

import pandas as pd
import pytest

from calc.reports import shares

M = pd.Timestamp


def test_distribution_fee_shares(hand):
    calc, _ = hand
    out = shares.distribution_fee_shares(calc.payments, "P")
    april = out[out["month_end"] == M("2020-04-30")].set_index("party")
    # April: ADI 4385.54 and OD1 1762.00 of 6147.54 (S_ADI(March) = 0.713381...).
    assert april.loc["ADI", "fee_share"] == pytest.approx(4385.54 / 6147.54)
    assert april.loc["OD1", "fee_share"] == pytest.approx(1762.00 / 6147.54)
    june = out[out["month_end"] == M("2020-06-30")]
    assert june["fee_share"].sum() == pytest.approx(1.0)
    assert set(june["role"]) == {"rights_holder", "assignee"}
    # Before net assets are reported there is no fee: no share either.
    assert out[out["month_end"] == M("2015-06-30")]["fee_share"].isna().all()


def test_twelve_b1_shares_one_portfolio_and_complex(hand):
    calc, _ = hand
    one = shares.twelve_b1_shares(calc.allocation, calc.summary, "P")
    march = one[one["month_end"] == M("2020-03-31")].set_index("rights_holder")
    # S_ADI(March) = 1244.473684 / 1744.473684 (OD1's 500 shares of T06).
    assert march.loc["ADI", "share"] == pytest.approx(1244.473684 / 1744.473684, rel=1e-9)
    both = shares.twelve_b1_shares(calc.allocation, calc.summary)
    m = both[both["month_end"] == M("2020-05-31")].set_index("rights_holder")
    # Weighted by shares outstanding: P 1609.473684, Q 135 (all ADI's).
    a = calc.allocation
    p_adi = a[(a["month_end"] == M("2020-05-31")) & (a["portfolio_id"] == "P") & (a["rights_holder"] == "ADI")]["share"].iloc[0]
    expected = (p_adi * 1609.473684 + 1.0 * 135) / (1609.473684 + 135)
    assert m.loc["ADI", "share"] == pytest.approx(expected, rel=1e-9)
    assert m["share"].sum() == pytest.approx(1.0)


def test_plan_timeline(hand, rnd):
    _, feed = hand
    out = shares.plan_timeline(feed.tenures, feed.plan_events)
    assert list(zip(out["date"], out["portfolio_id"], out["kind"], strict=True)) == [
        (M("2020-03-16"), "P", "tenure_change"),
        (M("2020-06-01"), "Q", "tenure_change"),
        (M("2020-06-16"), "Q", "complete_termination"),
    ]
    assert "IDI, rights holder ADI" in out.loc[1, "label"]
    assert shares.termination_date(feed.plan_events, "Q") == M("2020-06-16")
    assert shares.termination_date(feed.plan_events, "P") is None
    _, rfeed = rnd
    only_p2 = shares.plan_timeline(rfeed.tenures, rfeed.plan_events, "P2")
    assert list(only_p2["kind"]) == ["tenure_change", "tenure_change", "complete_termination"]
