"""One worked example per rule of the rulebook (docs/rules.md), with hand-computed numbers.

Every expected number below was worked out by hand (exact fractions) from the
rulebook and is written as a literal, or as simple literal arithmetic, in the
test; none is computed by the engine's own functions.  Each feed is built with
``feedbuilder.FeedBuilder`` and run through ``read_feed`` +
``monthly_calculation``.

Conventions used in the arithmetic:

- 2020 has 366 days: on net assets of 10,000,000 (nav 10 x 1,000,000) the
  Distribution Fee is 0.0075 * 10,000,000 / 366 = 75,000/366 a day and the
  service fee 25,000/366 a day; a 31-day month is 2,325,000/366 = 6352.459016
  (6352.46), a 29-day February 2,175,000/366 = 5942.622951 (5942.62).
- The default CDSC schedule is 5;4;3;3;2;1 (percent by year held).
"""

from __future__ import annotations

import pandas as pd
import pytest
from feedbuilder import FeedBuilder, day, one, rows


def cents(x: float):
    """Money as the engine reports it: rounded to the cent (compared well inside a cent)."""
    return pytest.approx(x, abs=0.001)


def shares(x: float):
    """Share counts, unrounded in the frames; exact by hand."""
    return pytest.approx(x, abs=1e-7)


def fraction(x: float):
    return pytest.approx(x, abs=1e-12)


def exception_keys(calc, code: str | None = None) -> list[tuple[str, str, str, str]]:
    exc = calc.exceptions
    if code is not None:
        exc = exc[exc["code"] == code]
    return sorted(
        (day(m), p, a if isinstance(a, str) else "", c)
        for m, p, a, c in zip(exc["month_end"], exc["portfolio_id"], exc["account_id"], exc["code"], strict=True)
    )


def omni(calc, month: str, p: str, a: str, h: str) -> tuple[float, float, float, float]:
    """(issued, redeemed, net_exchange, free_shares) of an omnibus.csv row."""
    r = one(calc.omnibus, month_end=month, portfolio_id=p, account_id=a, rights_holder=h)
    return (r["issued"], r["redeemed"], r["net_exchange"], r["free_shares"])


def approx_shares(values: tuple) -> tuple:
    return tuple(shares(v) for v in values)


def pay(calc, month: str, p: str, party: str, role: str) -> pd.Series:
    return one(calc.payments, month_end=month, portfolio_id=p, party=party, role=role)


def paid(calc, month: str, p: str, party: str, role: str, column: str) -> float:
    """A payments.csv amount; a row that is absent counts as zero (all-zero rows may be absent)."""
    found = rows(calc.payments, month_end=month, portfolio_id=p, party=party, role=role)
    assert len(found) <= 1
    return float(found[column].iloc[0]) if len(found) else 0.0


def alloc(calc, month: str, p: str, h: str) -> pd.Series:
    return one(calc.allocation, month_end=month, portfolio_id=p, rights_holder=h)


def summ(calc, month: str, p: str = "P") -> pd.Series:
    return one(calc.summary, month_end=month, portfolio_id=p)


def cdsc_parts(calc, txn_id: str) -> pd.DataFrame:
    return rows(calc.cdsc, txn_id=txn_id).reset_index(drop=True)


# =============================================================================
# Exhibit A 2(c): Free Shares in an omnibus account
# =============================================================================


def test_exhibit_a_2c_issued_redeemed_net_exchange_over_three_months(tmp_path):
    """Exhibit A 2(c)(ii), (iii), (iv) and the F_h roll-forward, one omnibus account, three months.

    P: ADI to 2019-11-30, then OD1.  OM buys 600 (ADI, Nov) and 400 (OD1, Dec).
    Jan 2020 (ii): I = 150 reinvest + 50 nav_purchase = 200, split by
      (K_h+F_h)(Dec)/(K+F)(Dec) = 600/1000, 400/1000 -> ADI 120, OD1 80.
      OM also buys 230 (OD1) in January, so K(Jan) = 600 / 630 differs from F's split.
    Feb (iii): redeem 50 takes Free Shares: R = 50, split by F_h(Jan)/F(Jan) = 120/200
      -> ADI 30, OD1 20 (by K+F it would be 50*720/1430).  F: ADI 90, OD1 60.
    Mar: exchange 30 Free Shares out to Q, reinvest 100.  F(Mar) = 150 - 30 + 100 = 220,
      E = 220 - 150 - 100 + 0 = -30.
      (ii) issued: 100 * (600+90)/(600+630+150) = 100 * 690/1380 -> ADI 50, OD1 50.
      (iv) net exchange: -30 * F_h(Feb)/F(Feb) = -30 * 90/150 -> ADI -18, OD1 -12.
      F_ADI = 90 + 50 - 18 = 122; F_OD1 = 60 + 50 - 12 = 98.
    Q/OM receives 30 Free Shares with F(m-1) = 0 and I = 0: the only exception.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2019-11-30").tenure("P", "OD1", "2019-12-01")
    fb.tenure("Q", "ADI", "2000-01-01")
    fb.buy("2019-11-05", 600, a="OM")
    fb.buy("2019-12-05", 400, a="OM")
    fb.reinvest("2020-01-15", 150, a="OM")
    fb.nav_buy("2020-01-16", 50, a="OM")
    fb.buy("2020-01-25", 230, a="OM")
    fb.redeem("2020-02-10", 50, a="OM")
    fb.exchange("2020-03-10", 30, "P", "Q", a="OM")
    fb.reinvest("2020-03-20", 100, a="OM")
    calc = fb.run(tmp_path)

    assert omni(calc, "2019-12-31", "P", "OM", "ADI") == approx_shares((0, 0, 0, 0))
    # (ii) issued line
    assert omni(calc, "2020-01-31", "P", "OM", "ADI") == approx_shares((120, 0, 0, 120))
    assert omni(calc, "2020-01-31", "P", "OM", "OD1") == approx_shares((80, 0, 0, 80))
    # (iii) redeemed line
    assert omni(calc, "2020-02-29", "P", "OM", "ADI") == approx_shares((0, 30, 0, 90))
    assert omni(calc, "2020-02-29", "P", "OM", "OD1") == approx_shares((0, 20, 0, 60))
    # (ii) and (iv) together, each with its own denominator
    assert omni(calc, "2020-03-31", "P", "OM", "ADI") == approx_shares((50, 0, -18, 122))
    assert omni(calc, "2020-03-31", "P", "OM", "OD1") == approx_shares((50, 0, -12, 98))

    adi, od1 = alloc(calc, "2020-03-31", "P", "ADI"), alloc(calc, "2020-03-31", "P", "OD1")
    assert adi["omnibus_free_shares"] == shares(122)
    assert od1["omnibus_free_shares"] == shares(98)
    assert adi["commission_shares"] == shares(600)
    assert od1["commission_shares"] == shares(630)
    assert adi["attributed_shares"] == shares(722)
    assert summ(calc, "2020-03-31")["shares_outstanding"] == shares(1450)
    assert adi["share"] == fraction(722 / 1450)
    assert od1["share"] == fraction(728 / 1450)

    assert exception_keys(calc) == [("2020-03-31", "Q", "OM", "zero_denominator")]


# =============================================================================
# Zero denominators and negative F_h (Exhibit A 2(c), RULES.md section 5)
# =============================================================================


def test_zero_denominators_each_line_and_count_zero_raises_nothing(tmp_path):
    """RULES 5 'Zero denominators' (Exhibit A 2(c)(ii)-(iv)).

    P: ADI to 2020-01-15, then OD1 (the tenure at every month end from January).
    - OM1, issued line: reinvest 100 on 2020-01-10 (ADI serving that day) with
      K(Dec)+F(Dec) = 0 -> all to OD1, the tenure rights holder at the month end.
      Its R and E are zero: no more exceptions; nothing at all in February.
    - OM2, redeemed line with I > 0: holds ADI 300 + OD1 100 commission, F(Jan) = 0.
      Feb: reinvest 80 -> issued ADI 60, OD1 20 (by K); redeem 50 takes 50 Free
      Shares: R = 50 over F(Jan) = 0 -> issued_h/I: ADI 37.5, OD1 12.5.
      F: ADI 22.5, OD1 7.5.
    - OM3, net-exchange line with I = 0: holds an ADI lot of 100 in P; receives 20
      Free Shares from Q in February: E = 20 over F(Jan) = 0 -> OD1 20 (not ADI).
      Q/OM3 sends them with F_Q(Jan) = 20 (ADI): -20 to ADI, no exception.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-01-15").tenure("P", "OD1", "2020-01-16")
    fb.tenure("Q", "ADI", "2000-01-01")
    fb.reinvest("2020-01-10", 100, a="OM1")
    fb.buy("2019-12-05", 300, a="OM2")
    fb.buy("2020-01-20", 100, a="OM2")
    fb.reinvest("2020-02-05", 80, a="OM2")
    fb.redeem("2020-02-20", 50, a="OM2")
    fb.buy("2019-12-05", 100, a="OM3")
    fb.buy("2019-12-05", 100, p="Q", a="OM3")
    fb.reinvest("2020-01-08", 20, p="Q", a="OM3")
    fb.exchange("2020-02-10", 20, "Q", "P", a="OM3")
    calc = fb.run(tmp_path)

    assert omni(calc, "2020-01-31", "P", "OM1", "OD1") == approx_shares((100, 0, 0, 100))
    assert omni(calc, "2020-01-31", "P", "OM1", "ADI") == approx_shares((0, 0, 0, 0))
    assert omni(calc, "2020-02-29", "P", "OM1", "OD1") == approx_shares((0, 0, 0, 100))

    assert omni(calc, "2020-02-29", "P", "OM2", "ADI") == approx_shares((60, 37.5, 0, 22.5))
    assert omni(calc, "2020-02-29", "P", "OM2", "OD1") == approx_shares((20, 12.5, 0, 7.5))

    assert omni(calc, "2020-02-29", "P", "OM3", "OD1") == approx_shares((0, 0, 20, 20))
    assert omni(calc, "2020-02-29", "P", "OM3", "ADI") == approx_shares((0, 0, 0, 0))
    assert omni(calc, "2020-01-31", "Q", "OM3", "ADI") == approx_shares((20, 0, 0, 20))
    assert omni(calc, "2020-02-29", "Q", "OM3", "ADI") == approx_shares((0, 0, -20, 0))

    assert exception_keys(calc) == [
        ("2020-01-31", "P", "OM1", "zero_denominator"),
        ("2020-02-29", "P", "OM2", "zero_denominator"),
        ("2020-02-29", "P", "OM3", "zero_denominator"),
    ]


def test_negative_free_shares_reported_every_month_it_lasts(tmp_path):
    """RULES 5: one negative_free_shares per rights holder and month while F_h(m) < 0.

    P: ADI to 2019-11-30, then OD1.  OM: Oct ADI lot 100; Nov reinvest 100 -> ADI 100
    (denominator 100); Dec OD1 lot 800.  Dec end: K 100/800, F_ADI 100, F_OD1 0.
    Jan: reinvest 100 -> issued by (K+F)(Dec) = 200/1000, 800/1000 -> ADI 20, OD1 80;
      redeem 150 (Free Shares) -> by F(Dec) = 100/100 -> ADI 150, OD1 0.
      F_ADI = 100 + 20 - 150 = -30, F_OD1 = 80 (F = 50).
    Feb, Mar: no activity in OM, F_ADI stays -30: an exception each month.
    Apr: redeem 50 = all F(Mar): ADI 50 * -30/50 = -30 -> 0; OD1 80 -> 0.  No exception.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2019-11-30").tenure("P", "OD1", "2019-12-01")
    fb.buy("2019-10-07", 100, a="OM")
    fb.reinvest("2019-11-05", 100, a="OM")
    fb.buy("2019-12-03", 800, a="OM")
    fb.reinvest("2020-01-06", 100, a="OM")
    fb.redeem("2020-01-20", 150, a="OM")
    fb.redeem("2020-04-15", 50, a="OM")
    calc = fb.run(tmp_path)

    assert omni(calc, "2019-11-30", "P", "OM", "ADI") == approx_shares((100, 0, 0, 100))
    assert omni(calc, "2020-01-31", "P", "OM", "ADI") == approx_shares((20, 150, 0, -30))
    assert omni(calc, "2020-01-31", "P", "OM", "OD1") == approx_shares((80, 0, 0, 80))
    assert omni(calc, "2020-03-31", "P", "OM", "ADI") == approx_shares((0, 0, 0, -30))
    assert omni(calc, "2020-04-30", "P", "OM", "ADI") == approx_shares((0, -30, 0, 0))
    assert omni(calc, "2020-04-30", "P", "OM", "OD1") == approx_shares((0, 80, 0, 0))
    assert alloc(calc, "2020-02-29", "P", "ADI")["omnibus_free_shares"] == shares(-30)

    assert exception_keys(calc) == [
        ("2020-01-31", "P", "OM", "negative_free_shares"),
        ("2020-02-29", "P", "OM", "negative_free_shares"),
        ("2020-03-31", "P", "OM", "negative_free_shares"),
    ]
    assert all("ADI" in d for d in calc.exceptions["detail"])


# =============================================================================
# Lot relief and CDSC (section 3, FOURTH (D))
# =============================================================================


def test_cdsc_every_year_of_the_default_schedule_and_after(tmp_path):
    """FOURTH (D), RULES 6 CDSC: year held = 1 + anniversaries on or before the redemption.

    One lot of 1000 at 10 bought 2010-06-15; redemptions of 100 at 10 (base 1000):
    2011-06-14 year 1 5% 50; 2011-06-15 (anniversary itself) year 2 4% 40;
    2012-06-15 year 3 3% 30; 2013-06-14 year 3 3% 30; 2013-06-15 year 4 3% 30;
    2014-06-15 year 5 2% 20; 2015-06-15 year 6 1% 10; 2016-06-15 year 7: 0 (a row,
    rate 0, beyond the schedule).
    """
    fb = FeedBuilder()
    fb.buy("2010-06-15", 1000)
    expected = [
        ("2011-06-14", 1, 0.05, 50.00),
        ("2011-06-15", 2, 0.04, 40.00),
        ("2012-06-15", 3, 0.03, 30.00),
        ("2013-06-14", 3, 0.03, 30.00),
        ("2013-06-15", 4, 0.03, 30.00),
        ("2014-06-15", 5, 0.02, 20.00),
        ("2015-06-15", 6, 0.01, 10.00),
        ("2016-06-15", 7, 0.00, 0.00),
    ]
    ids = [fb.redeem(d, 100) for d, *_ in expected]
    calc = fb.run(tmp_path)

    assert len(calc.cdsc) == len(expected)
    for txn, (date, year, rate, cdsc) in zip(ids, expected, strict=True):
        part = one(calc.cdsc, txn_id=txn)
        assert day(part["date"]) == date
        assert day(part["issue_date"]) == "2010-06-15"
        assert part["year_held"] == year, date
        assert part["rate"] == fraction(rate), date
        assert part["shares"] == shares(100)
        assert part["base"] == cents(1000.00)
        assert part["cdsc"] == cents(cdsc), date
        assert part["waived"] == cents(0)
        assert part["rights_holder"] == "ADI"
    assert summ(calc, "2011-06-30")["cdsc"] == cents(90.00)
    assert summ(calc, "2013-06-30")["cdsc"] == cents(60.00)
    assert summ(calc, "2016-06-30")["cdsc"] == cents(0.00)
    assert pay(calc, "2011-06-30", "P", "ADI", "rights_holder")["cdsc"] == cents(90.00)


def test_cdsc_base_is_min_of_cost_and_value_both_ways(tmp_path):
    """FOURTH (D), RULES 6: CDSC = rate * min(cost, shares * price) of the part.

    Lot 300 at 10 (cost 3000) bought 2020-01-06; year 1 (5%).
    Redeem 100 at 12.50: part cost 1000 < value 1250 -> base 1000, CDSC 50.00.
    Redeem 100 at 7.50: value 750 < part cost 1000 -> base 750, CDSC 37.50.
    """
    fb = FeedBuilder()
    fb.buy("2020-01-06", 300)
    up = fb.redeem("2020-02-03", 100, price=12.5)
    down = fb.redeem("2020-02-04", 100, price=7.5)
    calc = fb.run(tmp_path)

    p_up, p_down = one(calc.cdsc, txn_id=up), one(calc.cdsc, txn_id=down)
    assert (p_up["base"], p_up["cdsc"]) == (cents(1000.00), cents(50.00))
    assert (p_down["base"], p_down["cdsc"]) == (cents(750.00), cents(37.50))
    assert summ(calc, "2020-02-29")["cdsc"] == cents(87.50)


def test_lot_relief_free_first_then_oldest_lot_and_partial_cost(tmp_path):
    """RULES 3: Free Shares first, then oldest issue_date (ties: lot created first);
    part of a lot takes the same fraction of its cost; lots never merged.

    OR: lot A 100 at 10 (2020-01-10), reinvest 10 (2020-02-03), lot B 100 at 20 (2020-03-10).
    Redeem 150 at 15 on 2020-04-01: Free 10 (no CDSC row), A 100 (cost 1000, value 1500
    -> 50.00), B 40 (cost 40/100 * 2000 = 800, value 600 -> base 600, 30.00).
    OR2: two lots the same day, 100 at 10 then 100 at 20; redeem 50 at 15: the lot
    created first (cost 500, value 750 -> 25.00; the other would give 37.50, a merged
    lot 37.50 too).
    """
    fb = FeedBuilder()
    fb.buy("2020-01-10", 100, price=10)
    fb.reinvest("2020-02-03", 10)
    fb.buy("2020-03-10", 100, price=20)
    big = fb.redeem("2020-04-01", 150, price=15)
    fb.buy("2020-01-10", 100, price=10, a="OR2")
    fb.buy("2020-01-10", 100, price=20, a="OR2")
    tie = fb.redeem("2020-04-01", 50, price=15, a="OR2")
    calc = fb.run(tmp_path)

    parts = cdsc_parts(calc, big)
    assert len(parts) == 2
    assert [day(d) for d in parts["issue_date"]] == ["2020-01-10", "2020-03-10"]
    assert list(parts["shares"]) == [shares(100), shares(40)]
    assert list(parts["base"]) == [cents(1000.00), cents(600.00)]
    assert list(parts["cdsc"]) == [cents(50.00), cents(30.00)]

    t = one(calc.cdsc, txn_id=tie)
    assert (t["shares"], t["base"], t["cdsc"]) == (shares(50), cents(500.00), cents(25.00))


def test_waived_redemption(tmp_path):
    """FOURTH (A)/(D), RULES 6: a waiver makes the CDSC 0 and the waived amount is reported.

    Lot 100 at 10 (2020-01-06). Feb: redeem 40 with waiver 'death' (5% of 400 = 20.00
    waived), redeem 20 without (10.00).  summary Feb: cdsc 10.00, cdsc_waived 20.00.
    """
    fb = FeedBuilder()
    fb.buy("2020-01-06", 100)
    waived = fb.redeem("2020-02-10", 40, waiver="death")
    paid = fb.redeem("2020-02-11", 20)
    calc = fb.run(tmp_path)

    w = one(calc.cdsc, txn_id=waived)
    assert (w["year_held"], w["rate"], w["base"]) == (1, fraction(0.05), cents(400.00))
    assert (w["cdsc"], w["waived"]) == (cents(0.00), cents(20.00))
    p = one(calc.cdsc, txn_id=paid)
    assert (p["cdsc"], p["waived"]) == (cents(10.00), cents(0.00))
    s = summ(calc, "2020-02-29")
    assert (s["cdsc"], s["cdsc_waived"]) == (cents(10.00), cents(20.00))
    assert pay(calc, "2020-02-29", "P", "ADI", "rights_holder")["cdsc"] == cents(10.00)


def test_nav_purchase_is_free_shares_without_cdsc(tmp_path):
    """SECOND (B), RULES 2 kinds: a nav_purchase issues Free Shares (no CDSC).

    Lot 100 (2020-01-06), nav_purchase 50 (2020-01-08): Jan ADI commission 100, free 50.
    Redeem 60 on 2020-02-03: the 50 Free Shares first (no row), then 10 of the lot:
    one CDSC part of 10 shares, 5% of 100 = 5.00.
    """
    fb = FeedBuilder()
    fb.buy("2020-01-06", 100)
    fb.nav_buy("2020-01-08", 50)
    red = fb.redeem("2020-02-03", 60)
    calc = fb.run(tmp_path)

    a = alloc(calc, "2020-01-31", "P", "ADI")
    assert (a["commission_shares"], a["free_shares"]) == (shares(100), shares(50))
    assert len(calc.cdsc) == 1
    part = one(calc.cdsc, txn_id=red)
    assert (part["shares"], part["cdsc"]) == (shares(10), cents(5.00))
    assert summ(calc, "2020-02-29")["shares_outstanding"] == shares(90)


def test_29_february_anniversaries(tmp_path):
    """RULES 6 CDSC and 4: an anniversary of 29 February falls on 28 February in other years.

    Lot 1000 at 10 bought 2020-02-29. Redeem 100 at 10 on
    2021-02-27: year 1 (5%, 50.00); 2021-02-28: the anniversary -> year 2 (4%, 40.00);
    2024-02-28: anniversaries 2021-02-28, 2022-02-28, 2023-02-28 -> year 4 (3%, 30.00);
    2024-02-29: the leap-year anniversary itself -> year 5 (2%, 20.00).
    Portfolio S (conversion_years 1): a lot bought 2020-02-29 converts at 2021-02-28.
    """
    fb = FeedBuilder()
    fb.portfolio("P")
    fb.portfolio("S", conversion_years=1)
    fb.buy("2020-02-29", 1000)
    fb.buy("2020-02-29", 100, p="S")
    expected = [("2021-02-27", 1, 50.00), ("2021-02-28", 2, 40.00), ("2024-02-28", 4, 30.00),
                ("2024-02-29", 5, 20.00)]
    ids = [fb.redeem(d, 100) for d, _, _ in expected]
    calc = fb.run(tmp_path)

    for txn, (date, year, amount) in zip(ids, expected, strict=True):
        part = one(calc.cdsc, txn_id=txn)
        assert part["year_held"] == year, date
        assert part["cdsc"] == cents(amount), date
    assert summ(calc, "2021-01-31", "S")["shares_outstanding"] == shares(100)
    assert summ(calc, "2021-02-28", "S")["shares_outstanding"] == shares(0)


# =============================================================================
# Conversion to Class A (section 4)
# =============================================================================


def test_conversion_at_end_of_8th_anniversary_month_with_proportional_free_shares(tmp_path):
    """RULES 4, Exhibit A 2(b): the lot converts at the end of the month of its 8th
    anniversary, with free * lot / commission held of the account's Free Shares,
    which leave pro rata across the account's split.

    P: ADI to 2012-12-31, then OD1.  OR: lot L1 100 (ADI, 2012-03-20), lot L2 300 (OD1,
    2013-01-10), reinvest 40 (2015-01-05) split by holdings 100/300 -> ADI 10, OD1 30.
    L1's 8th anniversary is 2020-03-20: at 2020-03-31 L1 converts with 40 * 100/400 = 10
    Free Shares, pro rata ADI 10 * 10/40 = 2.5, OD1 7.5 -> free ADI 7.5, OD1 22.5.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2012-12-31").tenure("P", "OD1", "2013-01-01")
    fb.buy("2012-03-20", 100)
    fb.buy("2013-01-10", 300)
    fb.reinvest("2015-01-05", 40)
    fb.nav("P", "2020-03-31", 10, 1000)  # extends the feed to March 2020
    calc = fb.run(tmp_path)

    feb_adi, feb_od1 = alloc(calc, "2020-02-29", "P", "ADI"), alloc(calc, "2020-02-29", "P", "OD1")
    assert (feb_adi["commission_shares"], feb_adi["free_shares"]) == (shares(100), shares(10))
    assert (feb_od1["commission_shares"], feb_od1["free_shares"]) == (shares(300), shares(30))
    assert summ(calc, "2020-02-29")["shares_outstanding"] == shares(440)

    mar_adi, mar_od1 = alloc(calc, "2020-03-31", "P", "ADI"), alloc(calc, "2020-03-31", "P", "OD1")
    assert (mar_adi["commission_shares"], mar_adi["free_shares"]) == (shares(0), shares(7.5))
    assert (mar_od1["commission_shares"], mar_od1["free_shares"]) == (shares(300), shares(22.5))
    assert summ(calc, "2020-03-31")["shares_outstanding"] == shares(330)
    assert mar_adi["share"] == fraction(7.5 / 330)
    assert mar_od1["share"] == fraction(322.5 / 330)


def test_conversion_of_a_lot_arriving_after_its_conversion_month(tmp_path):
    """RULES 4: a lot whose conversion month has passed when it arrives by exchange
    converts at the end of the month in which it arrives.

    Q (conversion_years 10): OR buys 200 at 10 on 2012-01-10.  P (8 years): OR buys 100
    at 20 (2019-05-01) and reinvests 30 (2019-06-03).  2020-02-05: exchange 200 Q at 10
    -> 100 P at 20: the 2012 lot's P conversion month (2020-01) has passed.
    2020-02-20: redeem 40 at 20: Free 30, then the oldest lot (2012, still there): 10
      shares, year 9 (rate 0), base min(2000 * 10/100, 10 * 20) = 200.
    2020-02-25: reinvest 19.  At 2020-02-29 the 90 left convert with 19 * 90/190 = 9 Free
      Shares: P keeps commission 100 (the 2019 lot) and free 10.
    """
    fb = FeedBuilder()
    fb.portfolio("P")
    fb.portfolio("Q", conversion_years=10)
    fb.buy("2012-01-10", 200, price=10, p="Q")
    fb.buy("2019-05-01", 100, price=20)
    fb.reinvest("2019-06-03", 30, price=20)
    fb.exchange("2020-02-05", 200, "Q", "P", price_out=10, shares_in=100, price_in=20)
    red = fb.redeem("2020-02-20", 40, price=20)
    fb.reinvest("2020-02-25", 19, price=20)
    calc = fb.run(tmp_path)

    jan = alloc(calc, "2020-01-31", "P", "ADI")
    assert (jan["commission_shares"], jan["free_shares"]) == (shares(100), shares(30))
    assert alloc(calc, "2020-01-31", "Q", "ADI")["commission_shares"] == shares(200)

    part = one(calc.cdsc, txn_id=red)
    assert day(part["issue_date"]) == "2012-01-10"
    assert (part["shares"], part["year_held"], part["rate"]) == (shares(10), 9, fraction(0))
    assert (part["base"], part["cdsc"]) == (cents(200.00), cents(0.00))

    feb = alloc(calc, "2020-02-29", "P", "ADI")
    assert (feb["commission_shares"], feb["free_shares"]) == (shares(100), shares(10))
    assert summ(calc, "2020-02-29", "P")["shares_outstanding"] == shares(110)
    assert summ(calc, "2020-02-29", "Q")["shares_outstanding"] == shares(0)


# =============================================================================
# Exchanges and lot tracing (section 3, FOURTH (D)/(E))
# =============================================================================


def test_exchange_of_free_shares_and_two_lots_between_portfolios_with_different_prices(tmp_path):
    """RULES 3: an exchange_in receives what the out leg took, scaled by in/out shares;
    lots keep issue date, dollar cost and rights holder; Free Shares keep their split.

    P: ADI to 2019-12-31, then OD1.  Q: ADI.  OR in P: lot A 100 at 10 (ADI, 2019-06-03,
    cost 1000), lot B 50 at 12 (OD1, 2020-01-15, cost 600), reinvest 30 (2020-02-03) split
    by holdings 100/50 -> ADI 20, OD1 10.
    2020-03-10: exchange all 180 P at 10 -> 90 Q at 20 (ratio 1/2): in Q, lot A 50 (cost
    1000, ADI), lot B 25 (cost 600, OD1), free ADI 10, OD1 5.  Q is 100% ADI (only ADI
    tenures) while OD1's 30 shares are shown.
    2020-04-06: redeem 70 Q at 25: Free 15, lot A 50 (cost 1000 < 1250 -> 50.00 to ADI),
    lot B 5 (cost 600 * 5/25 = 120 < 125 -> 6.00 to OD1).
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2019-12-31").tenure("P", "OD1", "2020-01-01")
    fb.tenure("Q", "ADI", "2000-01-01")
    fb.buy("2019-06-03", 100, price=10)
    fb.buy("2020-01-15", 50, price=12)
    fb.reinvest("2020-02-03", 30)
    fb.exchange("2020-03-10", 180, "P", "Q", price_out=10, shares_in=90, price_in=20)
    red = fb.redeem("2020-04-06", 70, price=25, p="Q")
    calc = fb.run(tmp_path)

    feb_adi, feb_od1 = alloc(calc, "2020-02-29", "P", "ADI"), alloc(calc, "2020-02-29", "P", "OD1")
    assert (feb_adi["commission_shares"], feb_adi["free_shares"]) == (shares(100), shares(20))
    assert (feb_od1["commission_shares"], feb_od1["free_shares"]) == (shares(50), shares(10))
    assert feb_adi["share"] == fraction(120 / 180)

    q_adi, q_od1 = alloc(calc, "2020-03-31", "Q", "ADI"), alloc(calc, "2020-03-31", "Q", "OD1")
    assert (q_adi["commission_shares"], q_adi["free_shares"]) == (shares(50), shares(10))
    assert (q_od1["commission_shares"], q_od1["free_shares"]) == (shares(25), shares(5))
    assert q_od1["attributed_shares"] == shares(30)
    assert (q_adi["share"], q_od1["share"]) == (fraction(1), fraction(0))
    assert summ(calc, "2020-03-31", "P")["shares_outstanding"] == shares(0)

    parts = cdsc_parts(calc, red)
    assert [day(d) for d in parts["issue_date"]] == ["2019-06-03", "2020-01-15"]
    assert list(parts["rights_holder"]) == ["ADI", "OD1"]
    assert list(parts["shares"]) == [shares(50), shares(5)]
    assert list(parts["base"]) == [cents(1000.00), cents(120.00)]
    assert list(parts["cdsc"]) == [cents(50.00), cents(6.00)]
    assert pay(calc, "2020-04-30", "Q", "ADI", "rights_holder")["cdsc"] == cents(50.00)
    assert pay(calc, "2020-04-30", "Q", "OD1", "rights_holder")["cdsc"] == cents(6.00)


# =============================================================================
# Tenures, terminations and the 12b-1 Share (section 5, SEVENTH (B), Exhibit A)
# =============================================================================


def test_termination_mid_history_splits_by_issue_date_with_monthly_recomputation(tmp_path):
    """Exhibit A, SEVENTH (B), RULES 5-6: ADI serves to 2020-02-14, OD1 from 2020-02-15.

    ADI lot 600 (2019-12-02), OD1 lot 400 (2020-02-20).  Net assets 10,000,000 from 2020-01-01.
    Jan: S(Dec) = ADI 100%: 31 days, 6352.46 to ADI.
    Feb: S(Jan) = ADI 100% (termination inside the month changes nothing): 5942.62 to ADI.
      Service fee by the tenure serving each day: ADI 14 days 350,000/366 = 956.284153
      (956.28), OD1 15 days 375,000/366 = 1024.590164 (1024.59), total 1980.87.
    Feb end: OD1's tenure has started -> S = attributed/outstanding = 600/1000, 400/1000.
    Mar: 6352.459016: ADI 0.6 -> 3811.475410, OD1 0.4 -> 2540.983607; floors 3811.47 +
      2540.98 = 6352.45, the missing cent to the larger remainder (ADI): 3811.48, 2540.98.
      Service fee all OD1: 2117.49.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-02-14").tenure("P", "OD1", "2020-02-15")
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.buy("2019-12-02", 600)
    fb.buy("2020-02-20", 400)
    fb.nav("P", "2020-03-31", 10, 1_000_000)  # same net assets; extends the feed to March
    calc = fb.run(tmp_path)

    assert alloc(calc, "2020-01-31", "P", "ADI")["share"] == fraction(1)
    assert alloc(calc, "2020-01-31", "P", "OD1")["share"] == fraction(0)
    feb_adi, feb_od1 = alloc(calc, "2020-02-29", "P", "ADI"), alloc(calc, "2020-02-29", "P", "OD1")
    assert (feb_adi["commission_shares"], feb_adi["share"]) == (shares(600), fraction(0.6))
    assert (feb_od1["commission_shares"], feb_od1["share"]) == (shares(400), fraction(0.4))

    assert pay(calc, "2020-01-31", "P", "ADI", "rights_holder")["distribution_fee"] == cents(6352.46)
    assert pay(calc, "2020-02-29", "P", "ADI", "rights_holder")["distribution_fee"] == cents(5942.62)
    assert pay(calc, "2020-02-29", "P", "OD1", "rights_holder")["distribution_fee"] == cents(0.00)
    assert pay(calc, "2020-02-29", "P", "ADI", "distributor")["service_fee"] == cents(956.28)
    assert pay(calc, "2020-02-29", "P", "OD1", "distributor")["service_fee"] == cents(1024.59)
    assert summ(calc, "2020-02-29")["service_fee"] == cents(1980.87)

    assert pay(calc, "2020-03-31", "P", "ADI", "rights_holder")["distribution_fee"] == cents(3811.48)
    assert pay(calc, "2020-03-31", "P", "OD1", "rights_holder")["distribution_fee"] == cents(2540.98)
    assert summ(calc, "2020-03-31")["distribution_fee"] == cents(6352.46)
    assert pay(calc, "2020-03-31", "P", "OD1", "distributor")["service_fee"] == cents(2117.49)
    assert paid(calc, "2020-03-31", "P", "ADI", "distributor", "service_fee") == cents(0)


def test_termination_in_one_portfolio_with_lots_exchanged_across(tmp_path):
    """FOURTH (D)/(E), SEVENTH (B), RULES 3 and 5: lots keep their rights holder across
    portfolios of different histories.

    P: ADI to 2020-01-31, then OD1.  Q: ADI throughout.
    OR: ADI lot 100 in Q (2020-01-06); OD1 lot 200 in P (2020-02-03); exchange 100 Q at 10
      -> 50 P at 20 (2020-02-10): an ADI lot in P, served by OD1, stays ADI's.
    OR2: OD1 lot 100 in P (2020-02-04); exchange 100 P -> 100 Q (2020-02-12): an OD1 lot in
      Q, still 100% ADI (ADI keeps 100%; OD1's 100 shares shown with share 0).
    Feb end: P: S_ADI = 50/250 = 0.2, S_OD1 = 0.8.
    Mar (net assets P 5,000,000, Q 1,000,000 from 2020-03-01):
      P fee 31 * 37,500/366 = 3176.229508 (3176.23): ADI 635.245902, OD1 2540.983607;
      floors 635.24 + 2540.98 = 3176.22: the cent to ADI -> 635.25, 2540.98.
      Q fee 31 * 7,500/366 = 635.245902 -> 635.25, all ADI.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-01-31").tenure("P", "OD1", "2020-02-01")
    fb.tenure("Q", "ADI", "2000-01-01")
    fb.nav("P", "2020-03-01", 10, 500_000)
    fb.nav("Q", "2020-03-01", 10, 100_000)
    fb.buy("2020-01-06", 100, p="Q")
    fb.buy("2020-02-03", 200, p="P")
    fb.exchange("2020-02-10", 100, "Q", "P", price_out=10, shares_in=50, price_in=20)
    fb.buy("2020-02-04", 100, p="P", a="OR2")
    fb.exchange("2020-02-12", 100, "P", "Q", a="OR2")
    calc = fb.run(tmp_path)

    p_adi, p_od1 = alloc(calc, "2020-02-29", "P", "ADI"), alloc(calc, "2020-02-29", "P", "OD1")
    assert (p_adi["commission_shares"], p_adi["share"]) == (shares(50), fraction(0.2))
    assert (p_od1["commission_shares"], p_od1["share"]) == (shares(200), fraction(0.8))
    q_adi, q_od1 = alloc(calc, "2020-02-29", "Q", "ADI"), alloc(calc, "2020-02-29", "Q", "OD1")
    assert (q_adi["commission_shares"], q_adi["share"]) == (shares(0), fraction(1))
    assert (q_od1["commission_shares"], q_od1["share"]) == (shares(100), fraction(0))
    assert alloc(calc, "2020-03-31", "Q", "ADI")["share"] == fraction(1)

    assert pay(calc, "2020-03-31", "P", "ADI", "rights_holder")["distribution_fee"] == cents(635.25)
    assert pay(calc, "2020-03-31", "P", "OD1", "rights_holder")["distribution_fee"] == cents(2540.98)
    assert pay(calc, "2020-03-31", "Q", "ADI", "rights_holder")["distribution_fee"] == cents(635.25)
    q_od1_pay = rows(calc.payments, month_end="2020-03-31", portfolio_id="Q", party="OD1")
    assert (q_od1_pay["distribution_fee"] == 0).all()


def test_idi_tenure_rights_go_to_adi(tmp_path):
    """NINETEENTH, RULES 1/3/6: a tenure with distributor IDI and rights_holder ADI.

    Q: IDI (rights holder ADI) throughout; net assets 10,000,000 from 2020-01-01.
    A lot bought under IDI is ADI's; a Free Share issue into an empty account goes to
    the tenure's rights holder (ADI).  Jan (first month): fee 6352.46 to ADI, service fee
    2117.49 to ADI (role distributor).  Feb: redeem 50 at 10 (5% of 500 = 25.00 to ADI);
    fee 5942.62, service 1980.87.  IDI is no party anywhere.
    """
    fb = FeedBuilder()
    fb.tenure("Q", "IDI", "2000-01-01", rights_holder="ADI")
    fb.nav("Q", "2020-01-01", 10, 1_000_000)
    fb.buy("2020-01-06", 100, p="Q")
    fb.reinvest("2020-01-07", 7, p="Q", a="OR2")
    red = fb.redeem("2020-02-03", 50, p="Q")
    calc = fb.run(tmp_path)

    jan = alloc(calc, "2020-01-31", "Q", "ADI")
    assert (jan["commission_shares"], jan["free_shares"], jan["share"]) == (shares(100), shares(7), fraction(1))
    assert one(calc.cdsc, txn_id=red)["rights_holder"] == "ADI"
    assert pay(calc, "2020-01-31", "Q", "ADI", "rights_holder")["distribution_fee"] == cents(6352.46)
    assert pay(calc, "2020-01-31", "Q", "ADI", "distributor")["service_fee"] == cents(2117.49)
    feb = pay(calc, "2020-02-29", "Q", "ADI", "rights_holder")
    assert (feb["distribution_fee"], feb["cdsc"]) == (cents(5942.62), cents(25.00))
    assert pay(calc, "2020-02-29", "Q", "ADI", "distributor")["service_fee"] == cents(1980.87)
    assert "IDI" not in set(calc.payments["party"])
    assert "IDI" not in set(calc.allocation["rights_holder"])


def test_first_month_of_the_feed_fee_to_tenure_serving_each_day(tmp_path):
    """RULES 6: in the feed's first month the rights holder of the tenure serving on d
    accrues the Distribution Fee.

    P: ADI to 2020-01-10, then OD1; net assets 10,000,000 from 2020-01-01; ADI lot
    (2020-01-06).  Jan: ADI 10 days = 2049.180328 (2049.18), OD1 21 days = 4303.278689
    (4303.27 + the missing cent: 4303.28); total 6352.46.  Service: ADI 683.060109
    (683.06), OD1 1434.426230 (1434.42 + the missing cent: 1434.43); total 2117.49.
    Feb: S(Jan) by attribution, ADI holds all: 5942.62 to ADI, none to OD1.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-01-10").tenure("P", "OD1", "2020-01-11")
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.buy("2020-01-06", 100)
    fb.nav("P", "2020-02-01", 10, 1_000_000)
    calc = fb.run(tmp_path)

    assert pay(calc, "2020-01-31", "P", "ADI", "rights_holder")["distribution_fee"] == cents(2049.18)
    assert pay(calc, "2020-01-31", "P", "OD1", "rights_holder")["distribution_fee"] == cents(4303.28)
    assert pay(calc, "2020-01-31", "P", "ADI", "distributor")["service_fee"] == cents(683.06)
    assert pay(calc, "2020-01-31", "P", "OD1", "distributor")["service_fee"] == cents(1434.43)
    s = summ(calc, "2020-01-31")
    assert (s["distribution_fee"], s["service_fee"]) == (cents(6352.46), cents(2117.49))
    assert alloc(calc, "2020-01-31", "P", "ADI")["share"] == fraction(1)
    assert pay(calc, "2020-02-29", "P", "ADI", "rights_holder")["distribution_fee"] == cents(5942.62)
    assert pay(calc, "2020-02-29", "P", "OD1", "rights_holder")["distribution_fee"] == cents(0.00)


# =============================================================================
# Money: net assets, rates, Complete Termination (section 6)
# =============================================================================


def test_net_assets_from_latest_nav_row_on_or_before_each_day(tmp_path):
    """RULES 6: each day accrues on the latest nav.csv row on or before it; days before
    the first row accrue nothing; average over the days from the first row.

    Rows: 2020-01-05 10 x 1,000,000; 2020-01-15 12 x 500,000; 2020-01-25 8 x 1,500,000.
    Days 5-14: 10 x 10,000,000; 15-24: 10 x 6,000,000; 25-31: 7 x 12,000,000 = 244,000,000
    dollar-days over 27 days.  Average 244,000,000/27 = 9,037,037.037 (9037037.04);
    fee 0.0075 * 244,000,000/366 = 5000.00; service 0.0025 * 244,000,000/366 = 1666.67.
    """
    fb = FeedBuilder()
    fb.nav("P", "2020-01-05", 10, 1_000_000)
    fb.nav("P", "2020-01-15", 12, 500_000)
    fb.nav("P", "2020-01-25", 8, 1_500_000)
    fb.buy("2020-01-06", 100)
    calc = fb.run(tmp_path)

    s = summ(calc, "2020-01-31")
    assert s["average_net_assets"] == cents(9037037.04)
    assert s["distribution_fee"] == cents(5000.00)
    assert s["service_fee"] == cents(1666.67)
    assert pay(calc, "2020-01-31", "P", "ADI", "rights_holder")["distribution_fee"] == cents(5000.00)


def test_non_default_rates_cdsc_schedule_and_conversion_years(tmp_path):
    """RULES 2 defaults overridden: distribution 0.005, service 0.001, CDSC 4;2, 2 years.

    Lot 100 at 10 (2019-03-10).  Redeem 10 at 10 on 2020-03-09 (year 1, 4%: 4.00),
    2020-03-10 (year 2, 2%: 2.00), 2021-03-10 (year 3, beyond: 0.00).  The 70 left convert
    at 2021-03-31 (2nd anniversary 2021-03-10): 80 outstanding at Feb 2021 end, 0 at Mar.
    Net assets 20 x 50,000 = 1,000,000 from 2021-01-01 (365 days): Jan fee
    0.005 * 1,000,000 * 31/365 = 424.657534 (424.66), service 0.001 * ... = 84.931507 (84.93).
    """
    fb = FeedBuilder()
    fb.portfolio("P", distribution_fee_rate=0.005, service_fee_rate=0.001, cdsc_schedule="4;2",
                 conversion_years=2)
    fb.buy("2019-03-10", 100)
    r1 = fb.redeem("2020-03-09", 10)
    r2 = fb.redeem("2020-03-10", 10)
    r3 = fb.redeem("2021-03-10", 10)
    fb.nav("P", "2021-01-01", 20, 50_000)
    calc = fb.run(tmp_path)

    for txn, year, rate, amount in ((r1, 1, 0.04, 4.00), (r2, 2, 0.02, 2.00), (r3, 3, 0.0, 0.00)):
        part = one(calc.cdsc, txn_id=txn)
        assert (part["year_held"], part["rate"], part["cdsc"]) == (year, fraction(rate), cents(amount))
    assert summ(calc, "2021-02-28")["shares_outstanding"] == shares(80)
    assert summ(calc, "2021-03-31")["shares_outstanding"] == shares(0)
    s = summ(calc, "2021-01-31")
    assert (s["distribution_fee"], s["service_fee"]) == (cents(424.66), cents(84.93))


def test_complete_termination_stops_fees_not_cdsc(tmp_path):
    """FIFTEENTH (B), RULES 6: from the complete_termination date no fee accrues; CDSCs
    go on; average net assets unchanged.

    Net assets 10,000,000 from 2020-01-01; termination 2020-02-16.  Feb: 15 days:
    fee 1,125,000/366 = 3073.770492 (3073.77), service 375,000/366 = 1024.590164 (1024.59).
    Mar: no fee.  Lot 100 (2020-01-06); redeem 20 on 2020-02-20 and 2020-03-10: 10.00 each.
    """
    fb = FeedBuilder()
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.buy("2020-01-06", 100)
    fb.redeem("2020-02-20", 20)
    fb.redeem("2020-03-10", 20)
    fb.complete_termination("2020-02-16")
    calc = fb.run(tmp_path)

    feb, mar = summ(calc, "2020-02-29"), summ(calc, "2020-03-31")
    assert (feb["distribution_fee"], feb["service_fee"], feb["cdsc"]) == (cents(3073.77), cents(1024.59), cents(10.00))
    assert (mar["distribution_fee"], mar["service_fee"], mar["cdsc"]) == (cents(0), cents(0), cents(10.00))
    assert feb["average_net_assets"] == cents(10_000_000.00)
    assert mar["average_net_assets"] == cents(10_000_000.00)
    m = pay(calc, "2020-03-31", "P", "ADI", "rights_holder")
    assert (m["distribution_fee"], m["cdsc"], m["payable"]) == (cents(0), cents(10.00), cents(10.00))


# =============================================================================
# Assignments and offsets (EIGHTH)
# =============================================================================


def test_assignments_with_end_date_and_an_assignee_with_two_assignments(tmp_path):
    """EIGHTH (A)-(C), RULES 6 Assignments.

    Net assets P 10,000,000, Q 5,000,000 from 2020-01-01; ADI serves both.
    FIN: AS1 (ADI, P only, 2020-02-11..2020-02-20, fee 0.3, CDSC 0.4) and AS2 (ADI, all
    portfolios, from 2020-02-16, fee 0.25, CDSC 0.1), one party.
    P Feb fee, in days of 75,000/366: FIN 10 * 0.3 + 14 * 0.25 = 6.5 -> 1331.967213,
      ADI 29 - 6.5 = 22.5 -> 4610.655738; floors 1331.96 + 4610.65 = 5942.61 of 5942.62:
      the cent to FIN (.7213 > .5738) -> FIN 1331.97, ADI 4610.65.  (Rounded apart, FIN's
      two Portions 614.754098 and 717.213115 would give 1331.96 either by half-up or by
      largest remainder, where ADI's .5738 beats .4098 and .3115.)
    Q Feb fee, days of 37,500/366: FIN 3.5 -> 358.606557, ADI 25.5 -> 2612.704918; total
      2971.31; the cent to FIN -> 358.61, ADI 2612.70.
    P CDSCs of 50.00 each (100 at 10, year 1) on 2020-02-10 (none in effect: ADI 50),
      02-11 (AS1: FIN 20, ADI 30), 02-20 (AS1 + AS2: FIN 25, ADI 25), 02-21 (AS2: FIN 5,
      ADI 45): FIN 50.00, ADI 150.00.
    No FIN row in January (no assignment covers a day of it).
    """
    fb = FeedBuilder()
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.nav("Q", "2020-01-01", 10, 500_000)
    fb.buy("2020-01-06", 1000)
    for d in ("2020-02-10", "2020-02-11", "2020-02-20", "2020-02-21"):
        fb.redeem(d, 100)
    fb.assignment("FIN", "ADI", "2020-02-11", "2020-02-20", fee=0.3, cdsc=0.4, p="P")
    fb.assignment("FIN", "ADI", "2020-02-16", fee=0.25, cdsc=0.1)
    calc = fb.run(tmp_path)

    fin = pay(calc, "2020-02-29", "P", "FIN", "assignee")
    adi = pay(calc, "2020-02-29", "P", "ADI", "rights_holder")
    assert (fin["distribution_fee"], fin["cdsc"]) == (cents(1331.97), cents(50.00))
    assert (adi["distribution_fee"], adi["cdsc"]) == (cents(4610.65), cents(150.00))
    assert fin["service_fee"] == cents(0)
    assert pay(calc, "2020-02-29", "P", "ADI", "distributor")["service_fee"] == cents(1980.87)
    assert len(rows(calc.payments, month_end="2020-02-29", portfolio_id="P", party="FIN")) == 1

    q_fin = pay(calc, "2020-02-29", "Q", "FIN", "assignee")
    q_adi = pay(calc, "2020-02-29", "Q", "ADI", "rights_holder")
    assert q_fin["distribution_fee"] == cents(358.61)
    assert q_adi["distribution_fee"] == cents(2612.70)
    assert rows(calc.payments, month_end="2020-01-31", party="FIN").empty


def test_offset_larger_than_the_portion_carries_forward(tmp_path):
    """EIGHTH (A)/(D), RULES 6 Offsets: claims reduce the rights holder's own rounded
    Portions (12b-1 first, then CDSC), never an assignee's or the service fee; the rest
    carries; offset_unapplied after the last month.

    Net assets 1,000,000 from 2020-01-01 (fee 7,500/366 a day); FIN holds 0.2 of ADI's fee.
    Jan: 635.245902 (635.25): ADI 0.8 = 508.196721, FIN 127.049180; floors 508.19 + 127.04,
      2 cents missing: FIN (.918) then ADI (.672) -> ADI 508.20, FIN 127.05.
      Service 77,500/366 = 211.748634 (211.75).  Claim 1200: offset 508.20, 691.80 left.
    Feb: 594.262295 (594.26): ADI 475.409836, FIN 118.852459 -> the cent to ADI: 475.41,
      FIN 118.85.  CDSC 50.00 (ADI's).  Offset 475.41 + 50.00 = 525.41; 166.39 left.
    Mar: as January: ADI 508.20.  New claim 1000: 1166.39 against 508.20 -> 658.19
      unapplied at 2020-03-31.
    """
    fb = FeedBuilder()
    fb.nav("P", "2020-01-01", 10, 100_000)
    fb.buy("2020-01-06", 1000)
    fb.redeem("2020-02-10", 100)
    fb.assignment("FIN", "ADI", "2020-01-01", fee=0.2, cdsc=0, p="P")
    fb.offset("2020-01-15", "ADI", 1200)
    fb.offset("2020-03-20", "ADI", 1000)
    fb.nav("P", "2020-03-31", 10, 100_000)
    calc = fb.run(tmp_path)

    jan = pay(calc, "2020-01-31", "P", "ADI", "rights_holder")
    assert (jan["distribution_fee"], jan["offset"], jan["payable"]) == (cents(508.20), cents(508.20), cents(0))
    jan_svc = pay(calc, "2020-01-31", "P", "ADI", "distributor")
    assert (jan_svc["service_fee"], jan_svc["offset"], jan_svc["payable"]) == (cents(211.75), cents(0), cents(211.75))
    jan_fin = pay(calc, "2020-01-31", "P", "FIN", "assignee")
    assert (jan_fin["distribution_fee"], jan_fin["offset"], jan_fin["payable"]) == (cents(127.05), cents(0), cents(127.05))

    feb = pay(calc, "2020-02-29", "P", "ADI", "rights_holder")
    assert (feb["distribution_fee"], feb["cdsc"]) == (cents(475.41), cents(50.00))
    assert (feb["offset"], feb["payable"]) == (cents(525.41), cents(0))
    assert pay(calc, "2020-02-29", "P", "FIN", "assignee")["payable"] == cents(118.85)

    mar = pay(calc, "2020-03-31", "P", "ADI", "rights_holder")
    assert (mar["distribution_fee"], mar["offset"], mar["payable"]) == (cents(508.20), cents(508.20), cents(0))
    assert pay(calc, "2020-03-31", "P", "FIN", "assignee")["payable"] == cents(127.05)

    assert exception_keys(calc) == [("2020-03-31", "P", "", "offset_unapplied")]
    detail = calc.exceptions["detail"].iloc[0]
    assert "658.19" in detail and "ADI" in detail


# =============================================================================
# Rounding (section 6) and due dates (SEVENTH (B))
# =============================================================================


def test_rounding_three_equal_parties_ties_by_party_name(tmp_path):
    """RULES 6 Rounding: largest remainder, ties by party name.

    Tenures ADI (to 2019-10-31), OD1 (November), OD2 (from 2019-12-01), each sells a lot
    of 100: S(Dec) = 1/3 each.  Jan fee 6352.459016 -> 6352.46; each third 2117.486339,
    floor 2117.48 (equal remainders); 2 cents missing -> ADI and OD1 (name order):
    2117.49, 2117.49, 2117.48 (sum 6352.46).
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2019-10-31")
    fb.tenure("P", "OD1", "2019-11-01", "2019-11-30")
    fb.tenure("P", "OD2", "2019-12-01")
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.buy("2019-10-07", 100)
    fb.buy("2019-11-05", 100)
    fb.buy("2019-12-03", 100)
    calc = fb.run(tmp_path)

    got = {h: pay(calc, "2020-01-31", "P", h, "rights_holder")["distribution_fee"] for h in ("ADI", "OD1", "OD2")}
    assert got == {"ADI": cents(2117.49), "OD1": cents(2117.49), "OD2": cents(2117.48)}
    assert summ(calc, "2020-01-31")["distribution_fee"] == cents(6352.46)
    assert pay(calc, "2020-01-31", "P", "OD2", "distributor")["service_fee"] == cents(2117.49)


def test_rounding_ties_by_party_then_role(tmp_path):
    """RULES 6 Rounding: ties by party name, then role (text order: assignee < rights_holder).

    ADI (to 2019-12-31) and OD1 each sell 100: S(Jan) = 1/2 each.  From 2020-02-01 ADI
    assigns 0.5 of its fee to FIN and OD1 assigns 0.5 of its fee to ADI: four parties of
    1/4.  Net assets 4,000,000: Feb fee 0.0075 * 4,000,000 * 29/366 = 2377.049180 (2377.05);
    each quarter 594.262295, floor 594.26; one cent missing -> (ADI, assignee).
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2019-12-31").tenure("P", "OD1", "2020-01-01")
    fb.nav("P", "2020-01-01", 10, 400_000)
    fb.buy("2019-12-02", 100)
    fb.buy("2020-01-06", 100)
    fb.assignment("FIN", "ADI", "2020-02-01", fee=0.5, p="P")
    fb.assignment("ADI", "OD1", "2020-02-01", fee=0.5, p="P")
    fb.nav("P", "2020-02-01", 10, 400_000)
    calc = fb.run(tmp_path)

    m = "2020-02-29"
    assert summ(calc, m)["distribution_fee"] == cents(2377.05)
    assert pay(calc, m, "P", "ADI", "assignee")["distribution_fee"] == cents(594.27)
    assert pay(calc, m, "P", "ADI", "rights_holder")["distribution_fee"] == cents(594.26)
    assert pay(calc, m, "P", "FIN", "assignee")["distribution_fee"] == cents(594.26)
    assert pay(calc, m, "P", "OD1", "rights_holder")["distribution_fee"] == cents(594.26)


def test_due_date_tenth_nyse_business_day(tmp_path):
    """SEVENTH (B), RULES 6 Payment: the 10th NYSE business day after the month end.

    2001-08-31: Labor Day 3 Sep and the closures of 11-14 Sep 2001 -> 4,5,6,7,10,17,18,19,
      20,21: 2001-09-21.
    2004-05-31: Reagan day of mourning 11 Jun 2004 -> 1,2,3,4,7,8,9,10,14,15: 2004-06-15.
    2012-10-31 (after the Sandy closures of 29-30 Oct, which lie before it): 1,2,5,6,7,8,9,
      12 (Veterans Day, open),13,14: 2012-11-14.
    2018-11-30: Bush day of mourning 5 Dec 2018 -> 3,4,6,7,10,11,12,13,14,17: 2018-12-17.
    2020-06-30: Independence Day observed 3 Jul 2020 -> 1,2,6,...,15: 2020-07-15.
    2020-12-31: New Year's Day -> 4,5,6,7,8,11,12,13,14,15 Jan: 2021-01-15.
    """
    fb = FeedBuilder()
    fb.buy("2001-08-15", 100)
    fb.reinvest("2020-12-15", 1)
    calc = fb.run(tmp_path)

    expected = {
        "2001-08-31": "2001-09-21",
        "2004-05-31": "2004-06-15",
        "2012-10-31": "2012-11-14",
        "2018-11-30": "2018-12-17",
        "2020-06-30": "2020-07-15",
        "2020-12-31": "2021-01-15",
    }
    for month_end, due in expected.items():
        assert day(summ(calc, month_end)["due_date"]) == due, month_end
        assert day(pay(calc, month_end, "P", "ADI", "rights_holder")["due_date"]) == due, month_end


# =============================================================================
# The share tolerance (RULES preamble)
# =============================================================================


def test_share_tolerance_one_millionth(tmp_path):
    """RULES preamble: a share count within 1e-6 of zero counts as zero.

    P: ADI to 2020-01-31, then OD1.  OR buys 100 and redeems 100.0000008 (within 1e-6 of
    the holding: accepted, the lot is gone); OR2 buys 100 and redeems 99.9999993 (7e-7 left:
    gone), then 0.0000004 more on 2020-03-02 (accepted, takes nothing, no CDSC).
    OR2 buys 100 again (2020-03-05) and redeems 50 (2020-03-10): one CDSC part only, of
    the new lot (the 7e-7 left of the old one is gone, not an older lot to take first).
    CDSC 5% of 1000 (and of 999.999993) = 50.00 each; summary 100.00.
    Feb end: nothing outstanding -> OD1, the tenure serving at the month end, has 100%
    (not ADI by its 7e-7 attributed shares); March's fee (1,000,000 of net assets:
    635.25) goes to OD1.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-01-31").tenure("P", "OD1", "2020-02-01")
    fb.buy("2020-01-06", 100)
    a = fb.redeem("2020-02-03", 100.0000008)
    fb.buy("2020-01-07", 100, a="OR2")
    b = fb.redeem("2020-02-04", 99.9999993, a="OR2")
    c = fb.redeem("2020-03-02", 0.0000004, a="OR2")
    fb.buy("2020-03-05", 100, a="OR2")
    d = fb.redeem("2020-03-10", 50, a="OR2")
    fb.nav("P", "2020-03-01", 10, 100_000)
    calc = fb.run(tmp_path)

    pa, pb = one(calc.cdsc, txn_id=a), one(calc.cdsc, txn_id=b)
    assert (pa["shares"], pa["base"], pa["cdsc"]) == (shares(100), cents(1000.00), cents(50.00))
    # the part is 99.9999993 shares, or 100 if the 7e-7 that vanishes is counted in it:
    # the rulebook's own tolerance cannot tell them apart
    assert pb["shares"] == pytest.approx(99.9999993, abs=1e-6)
    assert (pb["base"], pb["cdsc"]) == (cents(1000.00), cents(50.00))
    assert rows(calc.cdsc, txn_id=c).empty
    pd_ = one(calc.cdsc, txn_id=d)
    assert (day(pd_["issue_date"]), pd_["shares"], pd_["cdsc"]) == ("2020-03-05", shares(50), cents(25.00))
    assert summ(calc, "2020-02-29")["cdsc"] == cents(100.00)
    assert summ(calc, "2020-02-29")["shares_outstanding"] == pytest.approx(0, abs=1e-12)
    adi = alloc(calc, "2020-02-29", "P", "ADI")
    assert adi["commission_shares"] == pytest.approx(0, abs=1e-12)
    assert adi["attributed_shares"] == pytest.approx(0, abs=1e-12)
    assert adi["share"] == fraction(0)
    assert alloc(calc, "2020-02-29", "P", "OD1")["share"] == fraction(1)
    assert pay(calc, "2020-03-31", "P", "OD1", "rights_holder")["distribution_fee"] == cents(635.25)
    assert paid(calc, "2020-03-31", "P", "ADI", "rights_holder", "distribution_fee") == cents(0)


def test_share_tolerance_balance_gone_then_tiny_redeem(tmp_path):
    """RULES preamble + section 2 'No account ever holds fewer than zero shares (tolerance
    1e-6 share)': OR buys 100 and redeems 100.0000008 (-8e-7 left: counts as zero, gone);
    a redeem of 0.0000004 the next month leaves -4e-7 (within 1e-6): accepted, no CDSC.
    """
    fb = FeedBuilder()
    fb.buy("2020-01-06", 100)
    a = fb.redeem("2020-02-03", 100.0000008)
    c = fb.redeem("2020-03-02", 0.0000004)
    calc = fb.run(tmp_path)

    assert one(calc.cdsc, txn_id=a)["cdsc"] == cents(50.00)
    assert rows(calc.cdsc, txn_id=c).empty
    assert summ(calc, "2020-03-31")["shares_outstanding"] == pytest.approx(0, abs=1e-12)


def test_share_tolerance_per_rights_holder_free_share_bucket(tmp_path):
    """RULES preamble: after every transaction an ordinary account's Free Share bucket of a
    rights holder within 1e-6 share of zero is gone, even while the other buckets remain.

    P: ADI to 2020-01-31, then OD1.  OR buys 1 share (ADI's lot) and, in February, 2000
    (OD1's).  A reinvest of 1000.5 on 2020-03-02 splits by holdings (Exhibit A 2(b)):
    ADI 1000.5 * 1/2001 = 0.5, OD1 1000.5 * 2000/2001 = 1000.  A redeem of 1000.49849925 on
    2020-03-09 takes Free Shares only, pro rata: each bucket keeps (1000.5 - 1000.49849925)
    / 1000.5 = 1.5e-6 of itself: ADI 7.5e-7 (within 1e-6: gone), OD1 0.0015 (stays).
    A second account OR2 does the same.  March end: ADI 2 Commission Shares and no Free
    Shares (kept, the two buckets would add up to 1.5e-6, past the tolerance of the
    portfolio's sum); OD1 4000 + 0.003; outstanding 4002.003; S_ADI = 2/4002.003,
    S_OD1 = 4000.003/4002.003.
    """
    fb = FeedBuilder()
    fb.tenure("P", "ADI", "2000-01-01", "2020-01-31").tenure("P", "OD1", "2020-02-01")
    for a in ("OR", "OR2"):
        fb.buy("2020-01-06", 1, a=a)
        fb.buy("2020-02-03", 2000, a=a)
        fb.reinvest("2020-03-02", 1000.5, a=a)
        fb.redeem("2020-03-09", 1000.49849925, a=a)
    calc = fb.run(tmp_path)

    adi, od1 = alloc(calc, "2020-03-31", "P", "ADI"), alloc(calc, "2020-03-31", "P", "OD1")
    assert (adi["commission_shares"], adi["free_shares"]) == (shares(2), shares(0))
    assert adi["attributed_shares"] == shares(2)
    assert (od1["commission_shares"], od1["free_shares"]) == (shares(4000), shares(0.003))
    assert summ(calc, "2020-03-31")["shares_outstanding"] == shares(4002.003)
    assert adi["share"] == fraction(2 / 4002.003)
    assert od1["share"] == fraction(4000.003 / 4002.003)
    assert calc.cdsc.empty
