"""calc.views on the worked examples' expected outputs, against numbers checked by hand.

The ``hand`` example accrues on constant net assets from 2 January 2020:
P 10 x 1,000,000 and Q 10 x 500,000, so a day of P's Distribution Fee is
0.0075 x 10,000,000 / 366 = 204.918033 and of Q's 102.459016; P accrues
181 days in January-June 2020, Q 166 (to its Complete Termination on
16 June).  The omnibus account P/OM's Commission Shares are worked out from
its transactions (see ``OM_COMMISSION``).
"""

from __future__ import annotations

import io
import math
import zipfile

import pandas as pd
import pytest
from feedkit import EXAMPLES, copy_example

from calc import views
from calc.feed import FeedError, read_feed
from calc.report import read_csv

M = pd.Timestamp


@pytest.fixture(scope="module")
def hand():
    return read_csv(EXAMPLES / "hand" / "expected"), read_feed(EXAMPLES / "hand" / "feed")


@pytest.fixture(scope="module")
def rnd():
    return read_csv(EXAMPLES / "random-1095" / "expected"), read_feed(EXAMPLES / "random-1095" / "feed")


# --- 1. Revenue -----------------------------------------------------------------------


def test_revenue_comparison_month_and_ytd(hand):
    calc, _ = hand
    out = views.revenue_comparison(calc.summary, M("2020-06-30"))
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
    out = views.revenue_comparison(calc.summary, M("2020-06-30"), "Q")
    assert out.loc["Distribution Fee", "month"] == pytest.approx(1536.89)
    summary = calc.summary.copy()  # a year earlier with half the June fee: +100%
    earlier = summary[summary["month_end"] == M("2020-06-30")].assign(month_end=M("2019-06-30"))
    earlier[["distribution_fee", "service_fee", "cdsc"]] /= 2
    summary = pd.concat([summary[summary["month_end"] != M("2019-06-30")], earlier])
    out = views.revenue_comparison(summary, M("2020-06-30"))
    assert out.loc["Distribution Fee", "month_change"] == pytest.approx(1.0, abs=1e-5)  # halves rounded to the cent


def test_monthly_revenue_by_party(hand):
    calc, _ = hand
    june = M("2020-06-30")
    out = views.monthly_revenue_by_party(calc.payments, june, june).set_index("party")
    # ADI: P own Portion 3495.07 + CDSC 6.75, Q fee 1536.89 + Q service fee 512.30.
    assert out.loc["ADI", "total"] == pytest.approx(3495.07 + 6.75 + 1536.89 + 512.30)
    assert out.loc["ADI", "offset"] == pytest.approx(3501.82)  # the 5000 claim absorbs P's June Portions
    assert out.loc["FIN", "distribution_fee"] == pytest.approx(699.01)
    assert out.loc["OD1", "total"] == pytest.approx(1953.46 + 2049.18)
    # The parties receive the whole month.
    assert out["total"].sum() == pytest.approx(7684.43 + 2561.48 + 6.75)


def test_revenue_by_schedule_and_fund(hand):
    calc, feed = hand
    by_schedule = views.revenue_by_group(calc.summary, feed.portfolios, "schedule").set_index("schedule")
    assert by_schedule.loc["A-1 (AIM)", "distribution_fee"] == pytest.approx(37090.16)
    assert by_schedule.loc["A-2 (INVESCO)", "distribution_fee"] == pytest.approx(17008.20)
    assert by_schedule.loc["A-2 (INVESCO)", "total"] == pytest.approx(17008.20 + 5669.40)
    by_fund = views.revenue_by_group(calc.summary, feed.portfolios, "fund")
    assert list(by_fund["fund"]) == ["AIM FUNDS GROUP", "INVESCO STOCK FUNDS"]  # largest first
    with pytest.raises(ValueError):
        views.revenue_by_group(calc.summary, feed.portfolios, "party")


def test_top_portfolios_and_period(hand):
    calc, feed = hand
    top = views.top_portfolios(calc.summary, feed.portfolios, n=1)
    assert list(top["portfolio_id"]) == ["P"]
    assert top.loc[0, "total"] == pytest.approx(37090.16 + 12363.39 + 71.75)
    assert top.loc[0, "share_of_total"] == pytest.approx(49525.30 / (49525.30 + 22677.60))
    # May 2020 alone: P 31 days, Q 31 days.
    may = views.top_portfolios(calc.summary, feed.portfolios, M("2020-05-31"), M("2020-05-31")).set_index("portfolio_id")
    assert may.loc["P", "distribution_fee"] == pytest.approx(6352.46)
    assert may.loc["Q", "distribution_fee"] == pytest.approx(3176.23)


# --- 2. Shares over time ----------------------------------------------------------------


def test_distribution_fee_shares(hand):
    calc, _ = hand
    out = views.distribution_fee_shares(calc.payments, "P")
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
    one = views.twelve_b1_shares(calc.allocation, calc.summary, "P")
    march = one[one["month_end"] == M("2020-03-31")].set_index("rights_holder")
    # S_ADI(March) = 1244.473684 / 1744.473684 (OD1's 500 shares of T06).
    assert march.loc["ADI", "share"] == pytest.approx(1244.473684 / 1744.473684, rel=1e-9)
    both = views.twelve_b1_shares(calc.allocation, calc.summary)
    m = both[both["month_end"] == M("2020-05-31")].set_index("rights_holder")
    # Weighted by shares outstanding: P 1609.473684, Q 135 (all ADI's).
    a = calc.allocation
    p_adi = a[(a["month_end"] == M("2020-05-31")) & (a["portfolio_id"] == "P") & (a["rights_holder"] == "ADI")]["share"].iloc[0]
    expected = (p_adi * 1609.473684 + 1.0 * 135) / (1609.473684 + 135)
    assert m.loc["ADI", "share"] == pytest.approx(expected, rel=1e-9)
    assert m["share"].sum() == pytest.approx(1.0)


def test_plan_timeline(hand, rnd):
    _, feed = hand
    out = views.plan_timeline(feed.tenures, feed.plan_events)
    assert list(zip(out["date"], out["portfolio_id"], out["kind"], strict=True)) == [
        (M("2020-03-16"), "P", "tenure_change"),
        (M("2020-06-01"), "Q", "tenure_change"),
        (M("2020-06-16"), "Q", "complete_termination"),
    ]
    assert "IDI, rights holder ADI" in out.loc[1, "label"]
    assert views.termination_date(feed.plan_events, "Q") == M("2020-06-16")
    assert views.termination_date(feed.plan_events, "P") is None
    _, rfeed = rnd
    only_p2 = views.plan_timeline(rfeed.tenures, rfeed.plan_events, "P2")
    assert list(only_p2["kind"]) == ["tenure_change", "tenure_change", "complete_termination"]


# --- 3. Collateral ----------------------------------------------------------------------


def test_assignee_stream_and_payback(hand, rnd):
    calc, feed = hand
    stream = views.assignee_stream(calc.payments, "FIN")
    # FIN: half of ADI's P fee for 11-20 June only.
    assert stream["total"].sum() == pytest.approx(699.01)
    assert stream.loc[stream["month_end"] == M("2020-06-30"), "due_date"].iloc[0] == M("2020-07-15")
    assert views.purchase_price(feed.assignments, "FIN") is None
    pb = views.payback(stream, 1000.0)
    assert pb.received == pytest.approx(699.01)
    assert pb.recovered == pytest.approx(0.69901)
    assert pb.remaining == pytest.approx(300.99)
    assert pb.payback_month is None
    assert views.payback(stream, 600.0).payback_month == M("2020-06-30")

    rcalc, rfeed = rnd
    mine = rcalc.payments[(rcalc.payments["party"] == "FINCO1") & (rcalc.payments["role"] == "assignee")]
    stream = views.assignee_stream(mine)
    assert stream["cumulative"].iloc[-1] == pytest.approx(round(mine["distribution_fee"].sum() + mine["cdsc"].sum(), 2))
    price = views.purchase_price(rfeed.assignments, "FINCO1")
    assert price == 25_000_000
    pb = views.payback(stream, price)
    assert pb.recovered == pytest.approx(pb.received / 25_000_000)
    by_portfolio = views.assignee_by_portfolio(mine, rfeed.portfolios)
    assert by_portfolio["total"].sum() == pytest.approx(pb.received)
    assert by_portfolio["share_of_total"].sum() == pytest.approx(1.0)
    # P2 ends with its Complete Termination (October 2016): no money after.
    assert by_portfolio.set_index("portfolio_id").loc["P2", "last_month"] <= M("2016-10-31")


def test_payments_schedule(rnd):
    calc, _ = rnd
    mine = calc.payments[(calc.payments["party"] == "FINCO1") & (calc.payments["role"] == "assignee")]
    out = views.payments_schedule(mine)
    assert out.iloc[0]["month_end"] == M("2017-03-31")
    assert out.iloc[0]["status"] == "due"
    assert out.iloc[0]["due_date"] == M("2017-04-17")  # 10th NYSE day after 31 March 2017 (Good Friday 14 April)
    assert (out.iloc[1:]["status"] == "paid").all()
    # As of the statement of June 2016: its own payment (due 14 July) and later ones are due.
    as_of = views.payments_schedule(mine, M("2016-06-30")).set_index("month_end")["status"]
    assert as_of[M("2016-06-30")] == "due" and as_of[M("2016-05-31")] == "paid" and as_of[M("2017-03-31")] == "due"


def test_assignee_terms_several_assignments():
    feed = read_feed(EXAMPLES / "hand-v3" / "feed")
    terms = views.assignee_terms(feed.assignments, "FIN")
    assert list(terms["portfolios"]) == ["P", "all portfolios"]
    assert views.assignee_lot_filters(feed.assignments, "FIN") == [("ADI", ""), ("ADI", "P")]


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
    out = views.runoff(lots, portfolios, [("ADI", "P")])
    june = out[out["month_end"] == M("2020-06-30")].set_index("issue_year")
    # 2019 lot in P at June 2020: year 2, 4% of 800 = 32; the 2012 lot is in year 9: no CDSC left.
    assert june.loc[2019, "cdsc_carried"] == pytest.approx(32.0)
    assert june.loc[2012, "cdsc_carried"] == 0
    assert june.loc[2012, "carrying_shares"] == 0
    assert june["commission_shares"].sum() == pytest.approx(480.0)  # OD1's and Q's lots are not behind the stream
    everywhere = views.runoff(lots, portfolios, [("ADI", "")])
    june_all = everywhere[everywhere["month_end"] == M("2020-06-30")].set_index("issue_year")
    assert june_all.loc[2019, "cdsc_carried"] == pytest.approx(32.0 + 3.0)  # Q: year 2 at 3% of 100
    at = views.runoff_at(out)  # the latest month: June 2021, year 3 at 3% of 600
    assert at.loc[0, "year_held"] == 3
    assert at.loc[0, "rate"] == pytest.approx(0.03)
    assert views.runoff_totals(at)["cdsc_carried"] == pytest.approx(18.0)
    assert views.runoff(lots.iloc[0:0], portfolios, [("ADI", "P")]).empty


# --- 4. Omnibus -------------------------------------------------------------------------

# P/OM's Commission Shares at each month end of 2020, from its transactions: the
# 2012 lot (400, ADI) until it converts on 2020-03-31, T03 (1000, ADI, January),
# T06 (500, OD1, March). The exchanges out in May and June take Free Shares only.
OM_COMMISSION = {
    "2019-12-31": {"ADI": 400.0, "OD1": 0.0},
    "2020-01-31": {"ADI": 1400.0, "OD1": 0.0},
    "2020-02-29": {"ADI": 1400.0, "OD1": 0.0},
    "2020-03-31": {"ADI": 1000.0, "OD1": 500.0},
    "2020-04-30": {"ADI": 1000.0, "OD1": 500.0},
    "2020-05-31": {"ADI": 1000.0, "OD1": 500.0},
    "2020-06-30": {"ADI": 1000.0, "OD1": 500.0},
}


def _with_commission(calc):
    om = calc.omnibus[(calc.omnibus["portfolio_id"] == "P") & (calc.omnibus["account_id"] == "OM")].copy()
    om = om[om["month_end"] >= M("2019-12-31")]
    om["commission_shares"] = [OM_COMMISSION[f"{m:%Y-%m-%d}"][h] for m, h in zip(om["month_end"], om["rights_holder"], strict=True)]
    acc = views.omnibus_account_totals(om)
    acc["commission_shares"] = acc["month_end"].map(lambda m: sum(OM_COMMISSION[f"{m:%Y-%m-%d}"].values()))
    return om, acc


def test_omnibus_account_history(hand):
    calc, _ = hand
    om, acc = _with_commission(calc)
    hist = views.omnibus_account_history(om, acc, "P", "OM")
    april = hist[hist["month_end"] == M("2020-04-30")].set_index("rights_holder")
    # April: I = 60 (T11), R = 20 (T12); March closed with F = 144.473684, all ADI's.
    assert april.loc["ADI", "I"] == pytest.approx(60)
    assert april.loc["ADI", "R"] == pytest.approx(20)
    assert april.loc["ADI", "F_prev"] == pytest.approx(144.473684)
    assert april.loc["ADI", "F_h_prev"] == pytest.approx(144.473684)
    assert april.loc["OD1", "F_h_prev"] == 0
    assert april.loc["ADI", "K_prev"] == 1500
    assert april.loc["OD1", "K_h_prev"] == 500
    # The whole expected frame: K unknown, I R E F from the holders' lines.
    bare = views.omnibus_account_history(calc.omnibus, None, "P", "OM")
    assert bare["K"].isna().all()
    assert bare[bare["month_end"] == M("2020-06-30")]["F"].iloc[0] == pytest.approx(44.473684)


def test_omnibus_formula_lines_written_out(hand):
    calc, _ = hand
    om, acc = _with_commission(calc)
    hist = views.omnibus_account_history(om, acc, "P", "OM")
    lines = views.omnibus_formula_lines(hist, M("2020-04-30"))
    issued = lines[(lines["rights_holder"] == "ADI") & (lines["line"] == "issued")].iloc[0]
    # 60 x (1000 + 144.473684) / (1500 + 144.473684) = 41.757081
    assert issued["formula"] == (
        "issued to ADI = I × (K_h(m-1)+F_h(m-1)) / (K(m-1)+F(m-1)) = "
        "60 × (1000+144.473684)/(1500+144.473684) = 41.757081"
    )
    assert issued["by_formula"] == pytest.approx(issued["value"], abs=1e-6)
    redeemed = lines[(lines["rights_holder"] == "ADI") & (lines["line"] == "redeemed")].iloc[0]
    assert redeemed["formula"].endswith("= 20 × 144.473684/144.473684 = 20.000000")
    # Every line whose denominator is not zero is the calculation's own figure.
    checked = lines.dropna(subset=["by_formula"])
    for month in ("2020-01-31", "2020-02-29", "2020-03-31", "2020-05-31", "2020-06-30"):
        more = views.omnibus_formula_lines(hist, M(month)).dropna(subset=["by_formula"])
        checked = pd.concat([checked, more])
    assert (checked["by_formula"] - checked["value"]).abs().max() < 2e-6
    # June: ADI's balance goes negative (-160.669380), flagged.
    june = views.omnibus_formula_lines(hist, M("2020-06-30"))
    bal = june[(june["rights_holder"] == "ADI") & (june["line"] == "balance")].iloc[0]
    assert bal["value"] == pytest.approx(-160.669380)
    assert bal["note"] == "negative Free Shares"


def test_omnibus_zero_denominator_line(hand):
    calc, _ = hand
    hist = views.omnibus_account_history(calc.omnibus, None, "Q", "OM")
    lines = views.omnibus_formula_lines(hist, M("2020-05-31"))
    ex = lines[(lines["rights_holder"] == "ADI") & (lines["line"] == "net_exchange")].iloc[0]
    assert ex["note"] == "zero denominator"
    assert ex["value"] == pytest.approx(100)
    assert "F(m-1) = 0" in ex["formula"]


def test_omnibus_zero_denominator_split_by_issued(rnd):
    calc, _ = rnd
    # P1/AC012, December 2007: F(m-1) = 0 and I > 0, so E follows the month's issued shares.
    hist = views.omnibus_account_history(calc.omnibus, None, "P1", "AC012")
    lines = views.omnibus_formula_lines(hist, M("2007-12-31"))
    ex = lines[(lines["line"] == "net_exchange") & (lines["note"] == "zero denominator")]
    assert not ex.empty
    row = hist[hist["month_end"] == M("2007-12-31")].set_index("rights_holder")
    for r in ex.itertuples(index=False):
        assert "in the proportions issued_h / I" in r.formula
        share = row.loc[r.rights_holder, "issued"] / row.loc[r.rights_holder, "I"]
        assert r.value == pytest.approx(row.loc[r.rights_holder, "E"] * share, abs=2e-6)


def test_omnibus_accounts_overview(hand):
    calc, _ = hand
    out = views.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2020-06-30"))
    row = out.set_index("account_id").loc["OM"]
    assert row["F_ADI"] == pytest.approx(-160.669380)
    assert row["F_OD1"] == pytest.approx(205.143064)
    assert row["free_shares"] == pytest.approx(44.473684)
    assert bool(row["flagged"]) and row["exceptions_this_month"] == 1
    may = views.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2020-05-31"))
    assert not bool(may.set_index("account_id").loc["OM", "flagged"])
    assert views.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2011-01-31")).empty


# --- 5. The statement -------------------------------------------------------------------


@pytest.fixture(scope="module")
def june(hand):
    calc, _ = hand
    return views.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, M("2020-06-30"))


def test_statement_totals_tie_out(june):
    s = june
    assert s.due_date == M("2020-07-15")  # 3 July 2020 was an NYSE holiday
    assert s.totals["distribution_fee"] == pytest.approx(7684.43)
    assert s.totals["payments_distribution_fee"] == pytest.approx(7684.43)
    # Payable: P 0 (ADI, all offset) + 699.01 + 2049.18 + 1953.46; Q 512.30 + 1536.89.
    assert s.totals["payments_payable"] == pytest.approx(6750.84)
    assert s.ties_out
    assert len(s.tie_out) == 8  # 2 portfolios x (3 kinds of money + payable)
    assert list(s.cdsc["txn_id"]) == ["T26"]
    assert set(s.exceptions["code"]) == {"offset_unapplied", "negative_free_shares"}
    party = s.by_party.set_index(["party", "role"])
    assert party.loc[("ADI", "rights_holder"), "offset"] == pytest.approx(3501.82)


def test_statement_detects_a_broken_total(hand):
    calc, _ = hand
    payments = calc.payments.copy()
    hit = (payments["month_end"] == M("2020-06-30")) & (payments["party"] == "FIN")
    payments.loc[hit, "distribution_fee"] += 0.01
    s = views.statement(calc.summary, payments, calc.allocation, calc.cdsc, calc.exceptions, M("2020-06-30"))
    assert not s.ties_out
    bad = s.tie_out[~s.tie_out["ok"]]
    assert set(bad["item"]) == {"Distribution Fee", "Payable = money - offsets"}


def test_statement_one_portfolio_and_empty_month(hand):
    calc, _ = hand
    q = views.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, M("2020-06-30"), "Q")
    assert q.totals["distribution_fee"] == pytest.approx(1536.89)
    assert q.exceptions.empty
    none = views.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, M("2030-01-31"))
    assert none.empty and none.due_date is None


def test_statement_sheets_csv_excel_html(june):
    names = {"P": "Portfolio P", "Q": "Portfolio Q"}
    sheets = views.statement_sheets(june, names)
    assert list(sheets) == ["Summary", "Payments", "By party", "Allocation", "CDSC", "Exceptions", "Tie-out"]
    pay = sheets["Payments"]
    assert pay.iloc[-1]["Portfolio"] == "Total"
    assert pay.iloc[-1]["Payable"] == pytest.approx(6750.84)
    sub = pay[pay["Party"] == "Subtotal"].set_index("Portfolio")
    assert sub.loc["P", "Payable"] == pytest.approx(4701.65)
    assert sub.loc["Q", "Payable"] == pytest.approx(2049.19)
    assert sheets["Summary"].iloc[-1]["Distribution Fee"] == pytest.approx(7684.43)
    assert sheets["Summary"].iloc[0]["Name"] == "Portfolio P"

    csv = pd.read_csv(io.BytesIO(views.statement_csv(june, names)), dtype=str, keep_default_na=False)
    assert csv.iloc[-1]["Payable"] == "6750.84"
    assert csv.iloc[0]["Due date"] == "2020-07-15"

    xlsx = views.statement_excel(june, names)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        styles = zf.read("xl/styles.xml").decode()
        strings = zf.read("xl/sharedStrings.xml").decode()
    for name in sheets:
        assert f'name="{name}"' in workbook
    assert "&quot;$&quot;#,##0.00" in styles and "0.00%" in styles
    assert "Monthly Calculation, June 2020" in strings

    page = views.statement_html(june, names)
    assert page.startswith("<!DOCTYPE html>")
    assert "$6,750.84" in page and "Wednesday, 15 July 2020" in page
    embedded = views.statement_html(june, names, standalone=False)
    assert embedded.startswith("<style>") and "<body>" not in embedded


# --- 6. Data ----------------------------------------------------------------------------


def test_problems_frame_of_a_rejected_feed(tmp_path):
    feed = copy_example(tmp_path)
    text = (feed / "portfolios.csv").read_text().replace(",A-2", ",A-3")
    (feed / "portfolios.csv").write_text(text)
    with pytest.raises(FeedError) as err:
        read_feed(feed)
    out = views.problems_frame(err.value.problems)
    assert list(out.columns) == ["file", "line", "column", "rule"]
    row = out[out["file"] == "portfolios.csv"].iloc[0]
    assert row["line"] == 3 and row["column"] == "schedule"


def test_month_ends_and_feed_overview(hand):
    calc, feed = hand
    months = views.month_ends(calc.summary)
    assert months[0] == M("2012-03-31") and months[-1] == M("2020-06-30") and len(months) == 100
    overview = views.feed_overview(feed).set_index("table")
    assert overview.loc["transactions", "rows"] == 26
    assert views.portfolio_labels(feed.portfolios) == {"P": "P · Portfolio P", "Q": "Q · Portfolio Q"}
