"""calc.reports.revenue: this month and year to date, money by party, Fund, schedule; top portfolios."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from calc.reports import revenue

M = pd.Timestamp


def test_revenue_comparison_month_and_ytd(hand):
    calc, _ = hand
    out = revenue.revenue_comparison(calc.summary, M("2020-06-30"))
    # June: P 30 days x 204.918033 = 6147.54; Q 15 days (1-15 June) x 102.459016 = 1536.89.
    assert out.loc["Distribution Fee", "month"] == pytest.approx(6147.54 + 1536.89)
    # Service fee: a third of the Distribution Fee (0.25% against 0.75%): 2049.18 + 512.30.
    assert out.loc["Service fee", "month"] == pytest.approx(2561.48)
    assert out.loc["CDSC", "month"] == pytest.approx(6.75)  # T26: 15 shares, cost 135, 5%
    assert out.loc["Total", "month"] == pytest.approx(7684.43 + 2561.48 + 6.75)
    # Year to date: P 181 days = 37090.16, Q 166 days = 17008.20.
    assert out.loc["Distribution Fee", "ytd"] == pytest.approx(37090.16 + 17008.20)
    # CDSC YTD: 10 + 40 + 15 (May) + 6.75 (June).
    assert out.loc["CDSC", "ytd"] == pytest.approx(71.75)
    # Nothing a year earlier: no change to show.
    assert out.loc["Total", "month_prior_year"] == 0
    assert math.isnan(out.loc["Total", "month_change"])


def test_revenue_comparison_change_and_portfolio_filter(hand):
    calc, _ = hand
    out = revenue.revenue_comparison(calc.summary, M("2020-06-30"), "Q")
    assert out.loc["Distribution Fee", "month"] == pytest.approx(1536.89)
    summary = calc.summary.copy()  # a year earlier with half the June fee: +100%
    earlier = summary[summary["month_end"] == M("2020-06-30")].assign(month_end=M("2019-06-30"))
    earlier[["distribution_fee", "service_fee", "cdsc"]] /= 2
    summary = pd.concat([summary[summary["month_end"] != M("2019-06-30")], earlier])
    out = revenue.revenue_comparison(summary, M("2020-06-30"))
    assert out.loc["Distribution Fee", "month_change"] == pytest.approx(1.0, abs=1e-5)  # halves rounded to the cent


def test_monthly_revenue_by_party(hand):
    calc, _ = hand
    june = M("2020-06-30")
    out = revenue.monthly_revenue_by_party(calc.payments, june, june).set_index("party")
    # ADI: P own Portion 3495.07 + CDSC 6.75, Q fee 1536.89 + Q service fee 512.30.
    assert out.loc["ADI", "total"] == pytest.approx(3495.07 + 6.75 + 1536.89 + 512.30)
    assert out.loc["ADI", "offset"] == pytest.approx(3501.82)  # the 5000 claim absorbs P's June Portions
    assert out.loc["FIN", "distribution_fee"] == pytest.approx(699.01)
    assert out.loc["OD1", "total"] == pytest.approx(1953.46 + 2049.18)
    # The parties receive the whole month.
    assert out["total"].sum() == pytest.approx(7684.43 + 2561.48 + 6.75)


def test_revenue_by_schedule_and_fund(hand):
    calc, feed = hand
    by_schedule = revenue.revenue_by_group(calc.summary, feed.portfolios, "schedule").set_index("schedule")
    assert by_schedule.loc["A-1 (AIM)", "distribution_fee"] == pytest.approx(37090.16)
    assert by_schedule.loc["A-2 (INVESCO)", "distribution_fee"] == pytest.approx(17008.20)
    assert by_schedule.loc["A-2 (INVESCO)", "total"] == pytest.approx(17008.20 + 5669.40)
    by_fund = revenue.revenue_by_group(calc.summary, feed.portfolios, "fund")
    assert list(by_fund["fund"]) == ["AIM FUNDS GROUP", "INVESCO STOCK FUNDS"]  # largest first
    with pytest.raises(ValueError):
        revenue.revenue_by_group(calc.summary, feed.portfolios, "party")


def test_top_portfolios_and_period(hand):
    calc, feed = hand
    top = revenue.top_portfolios(calc.summary, feed.portfolios, n=1)
    assert list(top["portfolio_id"]) == ["P"]
    assert top.loc[0, "total"] == pytest.approx(37090.16 + 12363.39 + 71.75)
    assert top.loc[0, "share_of_total"] == pytest.approx(49525.30 / (49525.30 + 22677.60))
    # May 2020 alone: P 31 days, Q 31 days.
    may = revenue.top_portfolios(calc.summary, feed.portfolios, M("2020-05-31"), M("2020-05-31")).set_index("portfolio_id")
    assert may.loc["P", "distribution_fee"] == pytest.approx(6352.46)
    assert may.loc["Q", "distribution_fee"] == pytest.approx(3176.23)


# --- the party filter, gross and retained, net assets, years -------------------------------


def test_money_frame_of_a_party_is_its_own_rows(hand):
    calc, _ = hand
    june = M("2020-06-30")
    whole = revenue.money_frame(calc.summary, calc.payments)
    adi = revenue.money_frame(calc.summary, calc.payments, "ADI")
    comp = revenue.revenue_comparison(adi, june)
    assert comp.loc["Total", "month"] == pytest.approx(3495.07 + 6.75 + 1536.89 + 512.30)
    assert comp.loc["Offsets", "month"] == pytest.approx(3501.82)
    assert comp.loc["Net of offsets", "month"] == pytest.approx(3495.07 + 6.75 + 1536.89 + 512.30 - 3501.82)
    # The complex: the portfolios' totals, less every party's offsets.
    comp = revenue.revenue_comparison(whole, june)
    assert comp.loc["Total", "month"] == pytest.approx(7684.43 + 2561.48 + 6.75)
    assert comp.loc["Net of offsets", "month"] == pytest.approx(6750.84)


def test_net_assets_and_the_effective_fee_rate(hand):
    calc, _ = hand
    june = M("2020-06-30")
    p = revenue.net_assets_comparison(revenue.money_frame(calc.summary, calc.payments), june, "P")
    assert p.loc["average_net_assets", "month"] == pytest.approx(10_000_000)
    assert p.loc["fee_rate", "month"] == pytest.approx(0.0075, abs=1e-8)  # the whole fee accrues on P
    # Q terminated on 16 June: 15 days of fee on a month of net assets.
    q = revenue.net_assets_comparison(revenue.money_frame(calc.summary, calc.payments), june, "Q")
    assert q.loc["fee_rate", "month"] == pytest.approx(0.0075 * 15 / 30, abs=1e-7)
    # OD1's fee in P is earned on its part of P's net assets: the rate stays 0.75%.
    od1 = revenue.net_assets_comparison(revenue.money_frame(calc.summary, calc.payments, "OD1"), june, "P")
    assert od1.loc["average_net_assets", "month"] == pytest.approx(10_000_000 * 1953.46 / 6147.54)
    assert od1.loc["fee_rate", "month"] == pytest.approx(0.0075, abs=1e-8)


def test_party_revenue_gross_and_retained(hand):
    calc, feed = hand
    june = M("2020-06-30")
    out = revenue.party_revenue(calc.payments, feed.assignments, june, june).set_index("party")
    # ADI's P fee before assignment: its own 3495.07 and FIN's 699.01; Q 1536.89; service fee 512.30.
    assert out.loc["ADI", "distribution_fee"] == pytest.approx(3495.07 + 699.01 + 1536.89)
    assert out.loc["ADI", "assigned"] == pytest.approx(699.01)
    assert out.loc["ADI", "gross"] == pytest.approx(3495.07 + 699.01 + 1536.89 + 6.75 + 512.30)
    assert out.loc["ADI", "retained"] == pytest.approx(out.loc["ADI", "gross"] - 699.01 - 3501.82)
    assert out.loc["FIN", "assigned_by"] == "ADI" and out.loc["FIN", "gross"] == pytest.approx(699.01)
    holders = out[out["assigned_by"] == ""]
    assert holders["gross"].sum() == pytest.approx(7684.43 + 2561.48 + 6.75)  # the whole month, once
    assert out["retained"].sum() == pytest.approx(6750.84)  # what is payable to everyone
    only = revenue.party_revenue(calc.payments, feed.assignments, june, june, party="FIN")
    assert list(only["party"]) == ["FIN"]


def test_years_and_the_full_year_table(hand):
    calc, _ = hand
    frame = revenue.money_frame(calc.summary, calc.payments)
    years = revenue.annual_revenue(frame).set_index("year")
    year = revenue.year_by_month(frame, 2020)
    assert year["month"].iloc[-1] == "Year 2020"
    assert year.iloc[-1]["total"] == pytest.approx(years.loc[2020, "total"])
    assert year.iloc[:-1]["distribution_fee"].sum() == pytest.approx(years.loc[2020, "distribution_fee"])
    assert years.loc[2020, "distribution_fee"] == pytest.approx(frame[frame["month_end"].dt.year == 2020]["distribution_fee"].sum())


def test_each_breakdown_is_its_report_and_an_unknown_one_is_refused(hand):
    calc, feed = hand
    money = revenue.money_frame(calc.summary, calc.payments)
    start, end = M("2020-05-31"), M("2020-06-30")
    expected = {
        revenue.YEAR_MONTHS: revenue.year_by_month(money, 2020),
        revenue.YEARS: revenue.annual_revenue(money),
        revenue.BY_FUND: revenue.revenue_by_group(money, feed.portfolios, "fund", start, end),
        revenue.BY_SCHEDULE: revenue.revenue_by_group(money, feed.portfolios, "schedule", start, end),
        revenue.TOP_PORTFOLIOS: revenue.top_portfolios(money, feed.portfolios, start, end),
    }
    assert set(expected) == set(revenue.BREAKDOWNS)
    for view, frame in expected.items():
        year, since, until = revenue.breakdown_scope(view, 2020, start, end)
        pd.testing.assert_frame_equal(revenue.breakdown(view, money, feed.portfolios, year, since, until), frame)
    assert revenue.breakdown_scope(revenue.YEARS, 2020, start, end) == (0, None, None)  # one key for every month
    with pytest.raises(ValueError, match="no breakdown"):
        revenue.breakdown("By moon", money, feed.portfolios, 2020, start, end)
