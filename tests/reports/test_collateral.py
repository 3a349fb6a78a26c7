"""calc.reports.collateral: an assignee's stream, payback, payments and the runoff behind them."""

from __future__ import annotations

import pandas as pd
import pytest
from feedkit import example_feed

from calc.feed import read_feed
from calc.reports import collateral

M = pd.Timestamp


def test_assignee_stream_and_payback(hand, rnd):
    calc, feed = hand
    stream = collateral.assignee_stream(calc.payments, "FIN")
    # FIN: half of ADI's P fee for 11-20 June only.
    assert stream["total"].sum() == pytest.approx(699.01)
    assert stream.loc[stream["month_end"] == M("2020-06-30"), "due_date"].iloc[0] == M("2020-07-15")
    assert collateral.purchase_price(feed.assignments, "FIN") is None
    pb = collateral.payback(stream, 1000.0)
    assert pb.received == pytest.approx(699.01)
    assert pb.recovered == pytest.approx(0.69901)
    assert pb.remaining == pytest.approx(300.99)
    assert pb.payback_month is None
    assert collateral.payback(stream, 600.0).payback_month == M("2020-06-30")

    rcalc, rfeed = rnd
    mine = rcalc.payments[(rcalc.payments["party"] == "FINCO1") & (rcalc.payments["role"] == "assignee")]
    stream = collateral.assignee_stream(mine)
    assert stream["cumulative"].iloc[-1] == pytest.approx(round(mine["distribution_fee"].sum() + mine["cdsc"].sum(), 2))
    price = collateral.purchase_price(rfeed.assignments, "FINCO1")
    assert price == 25_000_000
    pb = collateral.payback(stream, price)
    assert pb.recovered == pytest.approx(pb.received / 25_000_000)
    by_portfolio = collateral.assignee_by_portfolio(mine, rfeed.portfolios)
    assert by_portfolio["total"].sum() == pytest.approx(pb.received)
    assert by_portfolio["share_of_total"].sum() == pytest.approx(1.0)
    # P2 ends with its Complete Termination (October 2016): no money after.
    assert by_portfolio.set_index("portfolio_id").loc["P2", "last_month"] <= M("2016-10-31")


def test_payments_schedule(rnd):
    calc, _ = rnd
    mine = calc.payments[(calc.payments["party"] == "FINCO1") & (calc.payments["role"] == "assignee")]
    out = collateral.payments_schedule(mine)
    assert out.iloc[0]["month_end"] == M("2017-03-31")
    assert out.iloc[0]["status"] == "due"
    assert out.iloc[0]["due_date"] == M("2017-04-17")  # 10th NYSE day after 31 March 2017 (Good Friday 14 April)
    assert (out.iloc[1:]["status"] == "paid").all()
    # As of the statement of June 2016: its own payment (due 14 July) and later ones are due.
    as_of = collateral.payments_schedule(mine, M("2016-06-30")).set_index("month_end")["status"]
    assert as_of[M("2016-06-30")] == "due" and as_of[M("2016-05-31")] == "paid" and as_of[M("2017-03-31")] == "due"


def test_assignee_terms_several_assignments():
    feed = read_feed(example_feed("hand-v3"))
    terms = collateral.assignee_terms(feed.assignments, "FIN")
    assert list(terms["portfolios"]) == ["P", "all portfolios"]
    assert collateral.assignee_lot_filters(feed.assignments, "FIN") == [("ADI", ""), ("ADI", "P")]


def test_runoff_by_issue_year():
    portfolios = pd.DataFrame({"portfolio_id": ["P", "Q"], "cdsc_schedule": [(5.0, 4.0, 3.0, 3.0, 2.0, 1.0), (4.0, 3.0)]})
    lots = pd.DataFrame({
        "month_end": [M("2020-06-30")] * 4 + [M("2021-06-30")],
        "portfolio_id": ["P", "P", "Q", "P", "P"],
        "rights_holder": ["ADI", "ADI", "ADI", "OD1", "ADI"],
        "issue_year": [2019, 2012, 2019, 2019, 2019],
        "commission_shares": [80.0, 400.0, 10.0, 50.0, 60.0],
        "cost": [800.0, 4000.0, 100.0, 500.0, 600.0],
    })
    out = collateral.runoff(lots, portfolios, [("ADI", "P")])
    june = out[out["month_end"] == M("2020-06-30")].set_index("issue_year")
    # 2019 lot in P at June 2020: year 2, 4% of 800 = 32; the 2012 lot is in year 9: no CDSC left.
    assert june.loc[2019, "cdsc_carried"] == pytest.approx(32.0)
    assert june.loc[2012, "cdsc_carried"] == 0
    assert june.loc[2012, "carrying_shares"] == 0
    assert june["commission_shares"].sum() == pytest.approx(480.0)  # OD1's and Q's lots are not behind the stream
    everywhere = collateral.runoff(lots, portfolios, [("ADI", "")])
    june_all = everywhere[everywhere["month_end"] == M("2020-06-30")].set_index("issue_year")
    assert june_all.loc[2019, "cdsc_carried"] == pytest.approx(32.0 + 3.0)  # Q: year 2 at 3% of 100
    at = collateral.runoff_at(out)  # the latest month: June 2021, year 3 at 3% of 600
    assert at.loc[0, "year_held"] == 3
    assert at.loc[0, "rate"] == pytest.approx(0.03)
    assert collateral.runoff_totals(at)["cdsc_carried"] == pytest.approx(18.0)
    assert collateral.runoff(lots.iloc[0:0], portfolios, [("ADI", "P")]).empty
