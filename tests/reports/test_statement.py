"""calc.reports.statement: the numbers of a month's statement, its tie-out and its sheets."""

from __future__ import annotations

import pandas as pd
import pytest

from calc.reports import statement

M = pd.Timestamp


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
    s = statement.statement(calc.summary, payments, calc.allocation, calc.cdsc, calc.exceptions, M("2020-06-30"))
    assert not s.ties_out
    bad = s.tie_out[~s.tie_out["ok"]]
    assert set(bad["item"]) == {"Distribution Fee", "Payable = money - offsets"}


def test_statement_one_portfolio_and_empty_month(hand):
    calc, _ = hand
    q = statement.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, M("2020-06-30"), "Q")
    assert q.totals["distribution_fee"] == pytest.approx(1536.89)
    assert q.exceptions.empty
    none = statement.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, M("2030-01-31"))
    assert none.empty and none.due_date is None


def test_statement_sheets(june):
    names = {"P": "Portfolio P", "Q": "Portfolio Q"}
    sheets = statement.statement_sheets(june, names)
    assert list(sheets) == ["Summary", "Payments", "By party", "Allocation", "CDSC", "Exceptions", "Tie-out"]
    pay = sheets["Payments"]
    assert pay.iloc[-1]["Portfolio"] == "Total"
    assert pay.iloc[-1]["Payable"] == pytest.approx(6750.84)
    sub = pay[pay["Party"] == "Subtotal"].set_index("Portfolio")
    assert sub.loc["P", "Payable"] == pytest.approx(4701.65)
    assert sub.loc["Q", "Payable"] == pytest.approx(2049.19)
    assert sheets["Summary"].iloc[-1]["Distribution Fee"] == pytest.approx(7684.43)
    assert sheets["Summary"].iloc[0]["Name"] == "Portfolio P"


def test_sheet_kinds_from_the_engine_tables(june):
    sheets = statement.statement_sheets(june, {"P": "Portfolio P", "Q": "Portfolio Q"})
    assert statement.sheet_kinds(sheets["CDSC"]) == {
        "money": ["Base", "CDSC", "Waived"], "shares": ["Shares"], "percent": ["Rate"], "dates": ["Date", "Issue date"],
    }
    assert statement.sheet_kinds(sheets["Summary"]) == {
        "money": ["Average net assets", "Distribution Fee", "Service fee", "CDSC", "CDSC waived"],
        "shares": ["Shares outstanding"], "dates": ["Due date"],
    }
    assert statement.sheet_kinds(sheets["Tie-out"]) == {"money": ["Portfolio total", "Parties added up", "Difference"]}
    assert statement.sheet_kinds(sheets["Exceptions"]) == {}


def test_statement_of_one_party(hand):
    calc, _ = hand
    m = pd.Timestamp("2020-06-30")
    s = statement.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, m, party="ADI")
    assert set(s.payments["party"]) == {"ADI"} and set(s.by_party["party"]) == {"ADI"}
    assert s.totals["payments_offset"] == pytest.approx(3501.82)
    assert s.totals["distribution_fee"] == pytest.approx(7684.43)  # the portfolios' own totals stay whole
    assert s.ties_out  # checked on every party's cents
    assert "Summary" in s.whole and "Allocation" not in s.whole  # ADI is a rights holder: its allocation rows
    assert set(s.allocation["rights_holder"]) == {"ADI"}
    fin = statement.statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, m, party="FIN")
    assert "Allocation" in fin.whole and not fin.allocation.empty  # an assignee holds no shares: shown whole
