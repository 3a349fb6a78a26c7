"""The rule kernels of calc.rules on their own: hand-computed cases, and the same answer on
any grain (one account, a batch of accounts, paths x cohorts)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from calc.rules import assignments, exhibit_a, fees, lots, offsets
from calc.rules.cdsc import cdsc_base, cdsc_charge, cdsc_rate, years_held
from calc.rules.payment import due_dates
from calc.rules.rounding import round_cents, split_cents


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


# --- Exhibit A 2(c) ------------------------------------------------------------------


def test_omnibus_month_by_hand():
    """K(m-1) = ADI 60, OD1 20; F(m-1) = ADI 15, OD1 5 (F = 20); I = 10, R = 4, F(m) = 30.
    issued ADI 10 * 75/100 = 7.5, OD1 2.5; redeemed ADI 4 * 15/20 = 3, OD1 1;
    E = 30 - 20 - 10 + 4 = 4: ADI 3, OD1 1; F_h(m) = ADI 15 + 7.5 - 3 + 3 = 22.5, OD1 7.5."""
    m = exhibit_a.omnibus_month(
        np.array([10.0]), np.array([4.0]), np.array([30.0]), np.array([20.0]),
        np.array([[15.0, 5.0]]), np.array([[60.0, 20.0]]), np.array([[1.0, 0.0]]),
    )
    assert m.issued.tolist() == [[7.5, 2.5]]
    assert m.redeemed.tolist() == [[3.0, 1.0]]
    assert m.net_exchange.tolist() == [[3.0, 1.0]]
    assert m.free_by_holder.tolist() == [[22.5, 7.5]]
    assert not m.zero_issued.any() and not m.zero_free.any()


def test_omnibus_month_zero_denominators_go_to_the_serving_holder():
    """Nothing held before: I = 6 goes to the serving holder (OD1), and so does E = 2 (issued_h / I)."""
    m = exhibit_a.omnibus_month(
        np.array([6.0]), np.array([0.0]), np.array([8.0]), np.array([0.0]),
        np.zeros((1, 2)), np.zeros((1, 2)), np.array([[0.0, 1.0]]),
    )
    assert m.issued.tolist() == [[0.0, 6.0]]
    assert m.net_exchange.tolist() == [[0.0, 2.0]]
    assert m.zero_issued.tolist() == [True] and m.zero_free.tolist() == [True]


def test_omnibus_month_on_any_grain():
    """A batch of paths x cohorts gives each row what it gives alone."""
    rng = np.random.default_rng(3)
    shape = (50, 7)
    i_n, r_n = rng.uniform(0, 10, shape), rng.uniform(0, 5, shape)
    f_prev = rng.uniform(0, 100, shape) * (rng.uniform(size=shape) > 0.2)
    f_h_prev = rng.dirichlet([1, 1, 1], shape) * f_prev[..., None]
    k_h_prev = rng.uniform(0, 50, (*shape, 3))
    f_now = f_prev + i_n - r_n + rng.uniform(-2, 2, shape)
    serving = np.eye(3)[rng.integers(0, 3, shape)]
    batch = exhibit_a.omnibus_month(i_n, r_n, f_now, f_prev, f_h_prev, k_h_prev, serving)
    for s in range(0, 50, 7):
        for j in range(7):
            one = exhibit_a.omnibus_month(i_n[s, j:j + 1], r_n[s, j:j + 1], f_now[s, j:j + 1], f_prev[s, j:j + 1],
                                          f_h_prev[s, j:j + 1], k_h_prev[s, j:j + 1], serving[s, j:j + 1])
            assert np.array_equal(one.free_by_holder[0], batch.free_by_holder[s, j])
    # parts add up to the whole: the lines by holder add up to I, R and E
    i, r, e = batch.counts
    assert np.allclose(batch.issued.sum(-1), i) and np.allclose(batch.redeemed.sum(-1), r)
    assert np.allclose(batch.net_exchange.sum(-1), e)


def test_twelve_b1_share():
    attributed = np.array([[30.0, 10.0], [30.0, 10.0], [0.0, 0.0]])
    outstanding = np.array([40.0, 40.0, 0.0])
    by_attribution = np.array([False, True, True])
    hundred = np.array([0, 1, 1])
    share = exhibit_a.twelve_b1_share(attributed, outstanding, by_attribution, hundred)
    assert share.tolist() == [[1.0, 0.0], [0.75, 0.25], [0.0, 1.0]]
    # any grain: paths x months x portfolios
    stacked = exhibit_a.twelve_b1_share(np.stack([attributed] * 4), np.stack([outstanding] * 4),
                                        np.stack([by_attribution] * 4), np.stack([hundred] * 4))
    assert np.array_equal(stacked[2], share)


# --- lots (RULES.md sections 3-4, Exhibit A 2(b)) -------------------------------------


def _lot(shares, issue, holder, seq, conversion=10_000):
    return [float(shares), _day(issue), float(shares) * 10, holder, seq, conversion]


def test_relief_takes_free_shares_then_the_oldest_lot_and_its_cost_pro_rata():
    p = lots.Position(omnibus=False, free={0: 5.0})
    lots.insert_lot(p.lots, _lot(100, "2019-01-01", 1, 1))
    lots.insert_lot(p.lots, _lot(50, "2018-06-01", 0, 2))
    r = lots.relieve(p, 80)
    assert r.free == {0: 5.0} and r.free_shares == 5.0
    assert [(t, h) for t, _, _, h, _ in r.parts] == [(50.0, 0), (25.0, 1)]
    assert r.parts[1][2] == pytest.approx(250.0)  # a quarter of the 1000 dollars of the 2019 lot
    assert p.lots[0][lots.SHARES] == 75.0 and p.lots[0][lots.COST] == pytest.approx(750.0)
    assert r.short == 0.0


def test_relief_reports_a_shortfall():
    p = lots.Position(omnibus=True, free=2.0)
    r = lots.relieve(p, 3.5)
    assert r.free_shares == 2.0 and r.short == 1.5


def test_a_bucket_left_within_the_tolerance_is_gone():
    free = {0: 0.5, 1: 1000.0}
    taken = lots.take_free(free, 1000.49849925)
    assert 0 not in free and free[1] == pytest.approx(0.0015)
    assert taken[0] == 0.5  # the whole bucket left
    assert sum(taken.values()) + sum(free.values()) == pytest.approx(1000.5)


def test_issue_split_exhibit_a_2b():
    p = lots.Position(omnibus=False, free={1: 10.0})
    lots.insert_lot(p.lots, _lot(30, "2019-01-01", 0, 1))
    assert lots.issue_split(p, 8.0, serving_holder=2) == {0: 6.0, 1: 2.0}
    assert lots.issue_split(lots.Position(omnibus=False), 8.0, serving_holder=2) == {2: 8.0}


def test_conversion_takes_free_shares_in_proportion():
    p = lots.Position(omnibus=False, free={0: 6.0, 1: 2.0})
    p.lots = [_lot(30, "2012-03-05", 0, 1, conversion=24242), _lot(10, "2013-01-01", 1, 2, conversion=24252)]
    c = lots.convert_due(p, 24242)
    assert [lot[lots.SHARES] for lot in c.lots] == [30.0]
    assert c.free == {0: 4.5, 1: 1.5}  # 8 x 30/40 = 6, pro rata
    assert lots.next_conversion(p) == 24252
    assert lots.convert_due(p, 24242) is None


# --- money (RULES.md section 6) ----------------------------------------------------------


def test_fees_accrue_daily_until_a_complete_termination():
    days = np.arange(_day("2020-06-14"), _day("2020-06-18"))
    accrues = fees.accruing(days, _day("2020-06-16"))
    assert accrues.tolist() == [True, True, False, False]
    fee = fees.daily_fee(0.0075, np.full(4, 10_000_000.0), np.full(4, 366), accrues)
    assert fee[:2] == pytest.approx(75_000 / 366) and fee[2:].tolist() == [0.0, 0.0]
    assert round_cents(fees.fee_total(0.0075, Decimal(10_000_000 * 31), 366)) == Decimal("6352.46")
    # doubling the net assets doubles the fee
    assert fees.daily_fee(0.0075, np.full(4, 2e7), np.full(4, 366), accrues)[0] == 2 * fee[0]


def test_cdsc_rate_by_year_held_and_base():
    schedule = [Decimal(x) for x in ("5", "4", "3", "3", "2", "1")]
    assert years_held(_day("2016-02-29"), _day("2017-02-28")) == 2  # 29 Feb -> 28 Feb
    assert cdsc_rate(schedule, 1) == Decimal("0.05") and cdsc_rate(schedule, 7) == 0
    assert cdsc_base(1000.0, 100.0, 9.5) == Decimal("950.0")
    assert cdsc_charge(Decimal("0.04"), 1000.0, 100.0, 12.0) == Decimal("40.000")


def test_assignment_window_is_inclusive():
    days = np.arange(_day("2020-06-09"), _day("2020-06-23"))
    window = assignments.in_effect(days, _day("2020-06-11"), _day("2020-06-20"))
    assert window.sum() == 10
    assert assignments.portion(np.ones(len(days)), 0.5, window).sum() == 5.0
    assert assignments.covers("", "P") and assignments.covers("P", "P") and not assignments.covers("Q", "P")


def test_offsets_carry_and_never_go_below_zero():
    applied, carry = offsets.apply_claims(
        [Decimal("100"), Decimal("0"), Decimal("0")],
        [offsets.room(3000, -500), offsets.room(4000, 2000), Decimal(0)],
    )
    assert applied == [3000, 6000, 0] and carry == Decimal("10")


def test_split_cents_largest_remainder_ties_by_party_then_role():
    parties = pd.DataFrame({
        "month": 1, "portfolio_id": "P", "kind": "distribution_fee",
        "party": ["B", "A", "C"], "role": "rights_holder", "amount": [1.0 / 3] * 3,
    })
    totals = pd.DataFrame({"month": [1], "portfolio_id": ["P"], "kind": ["distribution_fee"], "total": [Decimal(1)]})
    cents = split_cents(parties, totals).set_index("party")["cents"]
    assert cents.to_dict() == {"B": 33, "A": 34, "C": 33}


def test_due_date_is_the_tenth_nyse_business_day():
    # 3 July 2020 was an NYSE holiday
    assert due_dates(pd.DatetimeIndex(["2020-06-30"]))[0] == pd.Timestamp("2020-07-15")


def test_exact_cents_round_as_decimal_does_near_and_at_one_half():
    """``Exact.cents`` (a float reading where sure, exact integers near one half) gives
    :func:`round_cents` of each number: ties, numbers just either side of them, numerators
    of up to 40 digits and one beyond any float."""
    from decimal import localcontext

    from calc.rules.rounding import Exact

    rng = np.random.default_rng(7)
    numerators, exponents = [], []
    for _ in range(3000):
        exponent = int(rng.integers(-30, 3))
        digits = int(rng.integers(1, 40))
        n = int(rng.integers(0, 10**18)) * 10**max(0, digits - 18) + int(rng.integers(0, 10**min(digits, 18)))
        k = -exponent - 2  # the digits below the cent
        if k > 0 and rng.random() < 0.5:  # at one half, or one unit of the last digit either side
            n = (n // 10**k) * 10**k + 5 * 10**(k - 1) + int(rng.integers(-1, 2))
        numerators.append(n if rng.random() < 0.5 else -n)
        exponents.append(exponent)
    numerators += [10**400, -(10**400) + 5, 3]
    exponents += [-399, -402, -1]
    exact = Exact(np.array(numerators + [0], dtype=object)[:-1], np.array(exponents, dtype=np.int64))
    with localcontext() as context:
        context.prec = 1000
        expected = [int(round_cents(Decimal(n).scaleb(e)) * 100) for n, e in zip(numerators, exponents, strict=True)]
    assert [int(c) for c in exact.cents()] == expected
