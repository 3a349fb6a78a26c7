"""calc.reports.compare: two runs side by side, what changed per party and month."""

from __future__ import annotations

import pandas as pd
import pytest

from calc.reports import compare

M = pd.Timestamp


def test_the_same_run_has_no_changes(hand):
    calc, _ = hand
    assert compare.compare_runs(calc.payments, calc.payments).empty
    assert compare.compare_totals(calc.payments, calc.payments)["change"].abs().sum() == 0


def test_a_changed_amount_and_a_month_in_one_run_only(hand):
    calc, _ = hand
    b = calc.payments.copy()
    row = (b["party"] == "OD1") & (b["month_end"] == M("2020-06-30")) & (b["portfolio_id"] == "P") & (b["role"] == "rights_holder")
    b.loc[row, "distribution_fee"] += 12.0
    b.loc[row, "payable"] += 12.0
    b = b[b["month_end"] != M("2020-01-31")]
    out = compare.compare_runs(calc.payments, b)
    june = out[(out["month_end"] == M("2020-06-30")) & (out["party"] == "OD1")].iloc[0]
    assert june["status"] == "changed" and june["total_change"] == pytest.approx(12.0)
    assert june["what_changed"] == "Distribution Fee +$12.00, Payable +$12.00"
    assert set(out.loc[out["month_end"] == M("2020-01-31"), "status"]) == {"only in run A"}
    by_party = compare.compare_by_party(out).set_index("party")
    assert by_party.loc["OD1", "total_change"] == pytest.approx(12.0 - out[(out["party"] == "OD1") & (out["status"] == "only in run A")]["total_a"].sum())
    assert compare.compare_runs(calc.payments, b, party="FIN").query("month_end == @M('2020-06-30')").empty
