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


# --- as of a month, status, returns, the investor's statement and its share of the CDSC -----


def _mine(rnd, assignee):
    calc, feed = rnd
    payments = calc.payments[(calc.payments["party"] == assignee) & (calc.payments["role"] == "assignee")]
    terms = collateral.assignee_terms(feed.assignments, assignee)
    return payments, terms


def test_status_of_an_ended_assignment(rnd):
    payments, terms = _mine(rnd, "FINCO2")  # AS3 to 2015-07-31, AS2 to 2016-02-20; no purchase price
    end = pd.Timestamp("2017-03-31")
    pb = collateral.payback(collateral.assignee_stream(collateral.as_of(payments, end)), None)
    status = collateral.assignment_status(terms, pb, end)
    assert status.label == "window ended 2016-02" and status.ended == pd.Timestamp("2016-02-20")
    # Before the last window closed: still collecting.
    early = pd.Timestamp("2015-12-31")
    assert collateral.assignment_status(terms, pb, early).label == "–"  # no price: nothing to recover


def test_final_recovery_is_written_out():
    terms = pd.DataFrame({"start_date": [pd.Timestamp("2005-01-01")], "end_date": [pd.Timestamp("2011-06-30")]})
    pb = collateral.Payback(320.0, 300.0, 20.0, 1000.0, 0.32, 680.0, None, 60, pd.Timestamp("2011-06-30"))
    status = collateral.assignment_status(terms, pb, pd.Timestamp("2012-01-31"))
    assert status.label == "window ended 2011-06"
    assert status.detail.endswith("final recovery 32.00% of the purchase price.")


def test_returns_multiple_yield_and_irr(rnd):
    payments, terms = _mine(rnd, "FINCO1")
    m = pd.Timestamp("2016-05-31")
    stream = collateral.assignee_stream(collateral.as_of(payments, m))
    r = collateral.returns(stream, terms, m)
    assert r.multiple == pytest.approx(stream["total"].sum() / 25_000_000)
    last12 = stream[stream["month_end"] > pd.Timestamp("2015-05-31")]["total"].sum()
    assert r.cash_yield == pytest.approx(last12 / 25_000_000)
    assert r.irr is not None and r.irr < 0  # far from paid back
    # irr() itself: 100 now, 110 a year later is 10% a year.
    assert collateral.irr([pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31") + pd.Timedelta(hours=6)],
                          [-100.0, 110.0]) == pytest.approx(0.10, abs=1e-3)


def test_investor_statement_rows_add_up_to_the_stream(rnd):
    payments, _ = _mine(rnd, "FINCO1")
    calc, feed = rnd
    m = pd.Timestamp("2016-05-31")
    rows = collateral.investor_statement(payments, feed.portfolios, end=m)
    assert list(rows.columns) == collateral.STATEMENT_COLUMNS
    assert rows["month_end"].max() == m
    stream = collateral.assignee_stream(collateral.as_of(payments, m))
    assert rows["distribution_fee"].sum() + rows["cdsc"].sum() == pytest.approx(stream["total"].sum())
    months = collateral.statement_by_month(rows)
    assert months["payable"].sum() == pytest.approx(rows["payable"].sum())


def test_investor_cdsc_is_its_fraction_by_anniversary():
    portfolios = pd.DataFrame({"portfolio_id": ["P"], "cdsc_schedule": [(5.0, 4.0, 3.0, 3.0, 2.0, 1.0)]})
    lots = pd.DataFrame({
        "month_end": [M("2020-06-30"), M("2020-06-30"), M("2020-12-31"), M("2020-06-30")],
        "portfolio_id": ["P", "P", "P", "P"],
        "rights_holder": ["ADI", "ADI", "ADI", "OD1"],
        "issue_year": [2019, 2020, 2019, 2019],
        "commission_shares": [80.0, 10.0, 80.0, 50.0],
        "cost": [800.0, 100.0, 800.0, 500.0],
    })
    terms = pd.DataFrame({"assignment_id": ["A"], "assignee": ["FIN"], "rights_holder": ["ADI"], "portfolio_id": ["P"],
                          "start_date": [M("2020-01-01")], "end_date": [pd.NaT], "fee_fraction": [0.5],
                          "cdsc_fraction": [0.5], "purchase_price": [1000.0]})
    june = collateral.investor_cdsc(lots, portfolios, terms, M("2020-06-30")).set_index("issue_year")
    # Issued in 2019, at June 2020: year 2 if its anniversary has passed (4%), else year 1 (5%).
    assert june.loc[2019, "year_held"] == "1 or 2"
    assert (june.loc[2019, "cdsc_low"], june.loc[2019, "cdsc_high"]) == (pytest.approx(32.0), pytest.approx(40.0))
    assert (june.loc[2019, "investor_low"], june.loc[2019, "investor_high"]) == (pytest.approx(16.0), pytest.approx(20.0))
    assert june.loc[2020, "year_held"] == "1" and june.loc[2020, "cdsc_low"] == pytest.approx(5.0)  # this year's: year 1
    assert june["commission_shares"].sum() == pytest.approx(90.0)  # OD1's lot is not behind FIN's stream
    dec = collateral.investor_cdsc(lots, portfolios, terms, M("2020-12-31")).set_index("issue_year")
    assert dec.loc[2019, "year_held"] == "2" and dec.loc[2019, "cdsc_low"] == dec.loc[2019, "cdsc_high"] == pytest.approx(32.0)
    early = terms.assign(start_date=M("2020-07-01"))
    assert collateral.investor_cdsc(lots, portfolios, early, M("2020-06-30"))["investor_high"].sum() == 0  # not yet FIN's


def test_net_assets_behind_the_stream(rnd):
    calc, _ = rnd
    _, terms = _mine(rnd, "FINCO3")
    allocation = calc.allocation[calc.allocation["rights_holder"] == "OD1"]
    nav = collateral.stream_net_assets(allocation, calc.summary, terms)
    assert nav["month_end"].min() >= pd.Timestamp("2016-03-31")  # from the assignment's start
    assert (nav["investor_net_assets"] <= nav["net_assets"] + 1e-6).all()  # fee fraction 1: equal
    assert nav["investor_net_assets"].to_numpy() == pytest.approx(nav["net_assets"].to_numpy())


# --- years held exactly, from the lots' anniversary parts ---------------------------------------


def _exact_lots() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    portfolios = pd.DataFrame({"portfolio_id": ["P"], "cdsc_schedule": [(5.0, 4.0, 3.0, 3.0, 2.0, 1.0)]})
    # 100 shares issued in March 2019 and 40 in November 2019
    lots = pd.DataFrame({
        "month_end": [M("2021-02-28"), M("2021-03-31"), M("2021-11-30"), M("2019-06-30")],
        "portfolio_id": ["P"] * 4,
        "rights_holder": ["ADI"] * 4,
        "issue_year": [2019] * 4,
        "commission_shares": [140.0, 140.0, 140.0, 100.0],
        "cost": [1400.0, 1400.0, 1400.0, 1000.0],
        "anniversary_shares": [0.0, 100.0, 140.0, 100.0],
        "anniversary_cost": [0.0, 1000.0, 1400.0, 1000.0],
    })
    terms = pd.DataFrame({"assignment_id": ["A"], "assignee": ["FIN"], "rights_holder": ["ADI"], "portfolio_id": [""],
                          "start_date": [M("2019-01-01")], "end_date": [pd.NaT], "fee_fraction": [0.5],
                          "cdsc_fraction": [0.5], "purchase_price": [None]})
    return lots, portfolios, terms


def test_investor_cdsc_counts_the_exact_years_held_by_anniversary():
    lots, portfolios, terms = _exact_lots()
    assert collateral.by_anniversary(lots) and not collateral.by_anniversary(lots.drop(columns="anniversary_cost"))
    # February 2021, the third calendar year: the March lot's anniversary is to come: year 2 (4%)
    feb = collateral.investor_cdsc(lots, portfolios, terms, M("2021-02-28"))
    assert feb["year_held"].tolist() == [2] and feb["exact"].all()
    assert feb.loc[0, "cdsc_low"] == feb.loc[0, "cdsc_high"] == pytest.approx(0.04 * 1400)
    # March 2021: its anniversary has passed, year 3 (3%); the November lot's has not, year 2 (4%)
    mar = collateral.investor_cdsc(lots, portfolios, terms, M("2021-03-31"))
    assert mar["year_held"].tolist() == [3, 2] and mar["commission_shares"].tolist() == [100.0, 40.0]
    assert mar["cdsc_low"].tolist() == [pytest.approx(30.0), pytest.approx(16.0)]
    assert mar["investor_low"].sum() == pytest.approx(23.0)  # half: the cdsc_fraction
    nov = collateral.investor_cdsc(lots, portfolios, terms, M("2021-11-30"))
    assert nov["year_held"].tolist() == [3] and nov["cdsc_low"].sum() == pytest.approx(42.0)
    # the year of issue: year 1
    assert collateral.investor_cdsc(lots, portfolios, terms, M("2019-06-30"))["year_held"].tolist() == [1]


def test_runoff_splits_each_issue_year_by_anniversary():
    lots, portfolios, terms = _exact_lots()
    run = collateral.runoff(lots, portfolios, [("ADI", "")])
    mar = run[run["month_end"] == M("2021-03-31")].iloc[0]
    assert mar["cdsc_carried"] == pytest.approx(30.0 + 16.0) and mar["anniversary_cdsc"] == pytest.approx(30.0)
    at = collateral.runoff_at(run, M("2021-03-31"))
    assert at["year_held"].tolist() == [3, 2] and at["commission_shares"].tolist() == [100.0, 40.0]
    assert at["rate"].tolist() == [pytest.approx(0.03), pytest.approx(0.04)]
    assert collateral.runoff_totals(at)["cdsc_carried"] == pytest.approx(46.0)
    assert collateral.runoff_at(run, M("2021-02-28"))["year_held"].tolist() == [2]
    # lots stored before the anniversary parts: every share in the later year, as before
    old = collateral.runoff(lots.drop(columns=["anniversary_shares", "anniversary_cost"]), portfolios, [("ADI", "")])
    assert old["anniversary_shares"].isna().all()
    assert collateral.runoff_at(old, M("2021-03-31"))["year_held"].tolist() == [3]


def test_the_exact_cdsc_lies_within_the_old_range():
    """Metamorphic: at every month end of the random example, each issue year's exact CDSC carried lies
    between the range counted from the issue year alone, and the shares add up to the same."""
    feed = read_feed(example_feed("random-1095"))
    from calc.monthly import compute

    lots = compute(feed)[0].lots
    for assignee in ("FINCO1", "FINCO3"):
        terms = collateral.assignee_terms(feed.assignments, assignee)
        for m in sorted(lots["month_end"].unique())[::5]:
            exact = collateral.investor_cdsc(lots, feed.portfolios, terms, M(m))
            ranged = collateral.investor_cdsc(lots.drop(columns=["anniversary_shares"]), feed.portfolios, terms, M(m))
            if ranged.empty:
                continue
            assert exact["exact"].all()
            by_year = exact.groupby("issue_year")[["commission_shares", "cdsc_low"]].sum()
            ranged = ranged.set_index("issue_year")
            common = ranged.index.intersection(by_year.index)
            assert (by_year.loc[common, "cdsc_low"] >= ranged.loc[common, "cdsc_low"] - 1e-6).all()
            assert (by_year.loc[common, "cdsc_low"] <= ranged.loc[common, "cdsc_high"] + 1e-6).all()
            assert abs(exact["commission_shares"].sum() - ranged["commission_shares"].sum()) < 1e-4
