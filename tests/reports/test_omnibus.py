"""calc.reports.omnibus: the Exhibit A 2(c) drill-down of an omnibus account."""

from __future__ import annotations

import pandas as pd
import pytest

from calc.reports import omnibus

M = pd.Timestamp


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
    acc = omnibus.omnibus_account_totals(om)
    acc["commission_shares"] = acc["month_end"].map(lambda m: sum(OM_COMMISSION[f"{m:%Y-%m-%d}"].values()))
    return om, acc


def test_omnibus_account_history(hand):
    calc, _ = hand
    om, acc = _with_commission(calc)
    hist = omnibus.omnibus_account_history(om, acc, "P", "OM")
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
    bare = omnibus.omnibus_account_history(calc.omnibus, None, "P", "OM")
    assert bare["K"].isna().all()
    assert bare[bare["month_end"] == M("2020-06-30")]["F"].iloc[0] == pytest.approx(44.473684)


def test_omnibus_formula_lines_written_out(hand):
    calc, _ = hand
    om, acc = _with_commission(calc)
    hist = omnibus.omnibus_account_history(om, acc, "P", "OM")
    lines = omnibus.omnibus_formula_lines(hist, M("2020-04-30"))
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
        more = omnibus.omnibus_formula_lines(hist, M(month)).dropna(subset=["by_formula"])
        checked = pd.concat([checked, more])
    assert (checked["by_formula"] - checked["value"]).abs().max() < 2e-6
    # June: ADI's balance goes negative (-160.669380), flagged.
    june = omnibus.omnibus_formula_lines(hist, M("2020-06-30"))
    bal = june[(june["rights_holder"] == "ADI") & (june["line"] == "balance")].iloc[0]
    assert bal["value"] == pytest.approx(-160.669380)
    assert bal["note"] == "negative Free Shares"


def test_omnibus_zero_denominator_line(hand):
    calc, _ = hand
    hist = omnibus.omnibus_account_history(calc.omnibus, None, "Q", "OM")
    lines = omnibus.omnibus_formula_lines(hist, M("2020-05-31"))
    ex = lines[(lines["rights_holder"] == "ADI") & (lines["line"] == "net_exchange")].iloc[0]
    assert ex["note"] == "zero denominator"
    assert ex["value"] == pytest.approx(100)
    assert "F(m-1) = 0" in ex["formula"]


def test_omnibus_zero_denominator_split_by_issued(rnd):
    calc, _ = rnd
    # P1/AC012, December 2007: F(m-1) = 0 and I > 0, so E follows the month's issued shares.
    hist = omnibus.omnibus_account_history(calc.omnibus, None, "P1", "AC012")
    lines = omnibus.omnibus_formula_lines(hist, M("2007-12-31"))
    ex = lines[(lines["line"] == "net_exchange") & (lines["note"] == "zero denominator")]
    assert not ex.empty
    row = hist[hist["month_end"] == M("2007-12-31")].set_index("rights_holder")
    for r in ex.itertuples(index=False):
        assert "in the proportions issued_h / I" in r.formula
        share = row.loc[r.rights_holder, "issued"] / row.loc[r.rights_holder, "I"]
        assert r.value == pytest.approx(row.loc[r.rights_holder, "E"] * share, abs=2e-6)


def test_omnibus_accounts_overview(hand):
    calc, _ = hand
    out = omnibus.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2020-06-30"))
    row = out.set_index("account_id").loc["OM"]
    assert row["F_ADI"] == pytest.approx(-160.669380)
    assert row["F_OD1"] == pytest.approx(205.143064)
    assert row["free_shares"] == pytest.approx(44.473684)
    assert bool(row["flagged"]) and row["exceptions_this_month"] == 1
    may = omnibus.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2020-05-31"))
    assert not bool(may.set_index("account_id").loc["OM", "flagged"])
    assert omnibus.omnibus_accounts_overview(calc.omnibus, None, calc.exceptions, "P", M("2011-01-31")).empty
