"""The feed's validation (RULES.md section 2) and its normalised contract (calc/feed.py).

Each rule gets a small bad feed: a copy of the worked example ``hand`` with one
cell or row changed.  Line numbers are source lines, header = line 1: in hand's
transactions.csv, T01 is line 2 and Tnn is line nn + 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feedkit import (
    EXAMPLE_NAMES,
    add_row,
    copy_example,
    drop_column,
    example_feed,
    find_problem,
    problems_of,
    read_rows,
    set_cell,
    write_rows,
)

from calc import feed as F
from calc.feed import checks as R
from calc.feed import validate

Edit = Callable[[Path], None]
TX = "transactions.csv"
KINDS = "one of purchase, nav_purchase, reinvest, redeem, exchange_out, exchange_in"


def _set(table: str, line: int, column: str, value: str) -> Edit:
    return lambda folder: set_cell(folder, table, line, column, value)


def _add(table: str, **values: str) -> Edit:
    return lambda folder: add_row(folder, table, **values)


def _drop(table: str, column: str) -> Edit:
    return lambda folder: drop_column(folder, table, column)


def _delete(table: str) -> Edit:
    return lambda folder: (folder / f"{table}.csv").unlink()


def _all(*edits: Edit) -> Edit:
    def edit(folder: Path) -> None:
        for one in edits:
            one(folder)

    return edit


def _assignment(**values: str) -> Edit:
    """A second assignment of ADI's P fee (AS1 is FIN's 0.5/0.5, 2020-06-11 to 2020-06-20)."""
    row = dict(assignment_id="AS2", assignee="GHI", rights_holder="ADI", portfolio_id="P",
               start_date="2020-06-01", end_date="", fee_fraction="0", cdsc_fraction="0")  # fmt: skip
    return _add("assignments", **{**row, **values})


def _txn(
    txn_id: str, date: str, kind: str, shares: str, account: str = "OM", portfolio: str = "P"
) -> Edit:
    return _add("transactions", txn_id=txn_id, date=date, portfolio_id=portfolio, account_id=account,
                kind=kind, shares=shares, price="10")  # fmt: skip


# name: (edit of the hand feed, (file, line, column, words of the rule), ...)
# fmt: off
BAD_FEEDS: dict[str, tuple] = {
    # files and columns
    "required file": (_delete("tenures"), ("tenures.csv", None, None, "the required file tenures.csv is missing")),
    "required column": (_drop("nav", "nav"), ("nav.csv", 1, "nav", "the required column nav is missing")),
    "required column of an optional file": (_drop("assignments", "fee_fraction"), ("assignments.csv", 1, "fee_fraction", "the required column fee_fraction is missing")),
    "required value": (_set("transactions", 5, "kind", ""), (TX, 5, "kind", "kind must not be empty")),
    "required value, only blanks": (_set("accounts", 3, "account_id", "  "), ("accounts.csv", 3, "account_id", "account_id must not be empty")),
    # unique ids, one nav row per portfolio and date
    "portfolio_id unique": (_add("portfolios", portfolio_id="P", name="Again", fund="F", schedule="A-1"), ("portfolios.csv", 4, "portfolio_id", "portfolio_id P is used more than once (first on line 2)")),
    "account_id unique": (_add("accounts", account_id="OM", omnibus="false"), ("accounts.csv", 4, "account_id", "account_id OM is used more than once (first on line 2)")),
    "txn_id unique": (_set("transactions", 3, "txn_id", "T01"), (TX, 3, "txn_id", "txn_id T01 is used more than once (first on line 2)")),
    "assignment_id unique": (_assignment(assignment_id="AS1", portfolio_id="Q"), ("assignments.csv", 3, "assignment_id", "assignment_id AS1 is used more than once (first on line 2)")),
    "one nav row per portfolio and date": (_add("nav", portfolio_id="P", date="2020-01-02", nav="11", shares="1"), ("nav.csv", 4, "date", "portfolio P already has a nav.csv row on 2020-01-02 (line 2); one row per portfolio and date")),
    # references
    "transaction portfolio": (_set("transactions", 27, "portfolio_id", "Z"), (TX, 27, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "transaction account": (_set("transactions", 27, "account_id", "ZZ"), (TX, 27, "account_id", "account_id must name an account of accounts.csv (got ZZ)")),
    "nav portfolio": (_set("nav", 3, "portfolio_id", "Z"), ("nav.csv", 3, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "tenure portfolio": (_add("tenures", portfolio_id="Z", distributor="ADI", start_date="2010-01-01"), ("tenures.csv", 6, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "assignment portfolio": (_set("assignments", 2, "portfolio_id", "Z"), ("assignments.csv", 2, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "offset portfolio": (_set("offsets", 2, "portfolio_id", "Z"), ("offsets.csv", 2, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "plan event portfolio": (_set("plan_events", 2, "portfolio_id", "Z"), ("plan_events.csv", 2, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got Z)")),
    "every portfolio has a tenure": (_add("portfolios", portfolio_id="R", name="R", fund="F", schedule="A-1"), ("portfolios.csv", 4, "portfolio_id", "portfolio R has no tenure in tenures.csv; every portfolio needs at least one")),
    # values
    "schedule": (_set("portfolios", 2, "schedule", "A-3"), ("portfolios.csv", 2, "schedule", "schedule must be A-1 or A-2 (got A-3)")),
    "transaction kind": (_set("transactions", 5, "kind", "buy"), (TX, 5, "kind", f"kind must be {KINDS} (got buy)")),
    "plan event kind": (_set("plan_events", 2, "kind", "termination"), ("plan_events.csv", 2, "kind", "kind must be complete_termination (got termination)")),
    "tenure end before start": (_set("tenures", 5, "end_date", "2020-05-31"), ("tenures.csv", 5, "end_date", "end_date must not be before start_date (got 2020-05-31)")),
    "assignment end before start": (_set("assignments", 2, "end_date", "2020-06-10"), ("assignments.csv", 2, "end_date", "end_date must not be before start_date (got 2020-06-10)")),
    "rates 0..1": (
        _all(_set("portfolios", 2, "distribution_fee_rate", "1.5"), _set("portfolios", 3, "service_fee_rate", "-0.1")),
        ("portfolios.csv", 2, "distribution_fee_rate", "distribution_fee_rate must be between 0 and 1 (got 1.5)"),
        ("portfolios.csv", 3, "service_fee_rate", "service_fee_rate must be between 0 and 1 (got -0.1)"),
    ),
    "fractions 0..1": (
        _all(_set("assignments", 2, "fee_fraction", "1.2"), _set("assignments", 2, "cdsc_fraction", "-0.5")),
        ("assignments.csv", 2, "fee_fraction", "fee_fraction must be between 0 and 1 (got 1.2)"),
        ("assignments.csv", 2, "cdsc_fraction", "cdsc_fraction must be between 0 and 1 (got -0.5)"),
    ),
    "cdsc_schedule entries 0..100": (_set("portfolios", 2, "cdsc_schedule", "5;101"), ("portfolios.csv", 2, "cdsc_schedule", "cdsc_schedule must be percents from 0 to 100 separated by semicolons (e.g. 5;4;3;3;2;1) (got 5;101)")),
    "cdsc_schedule written wrong": (
        _all(_set("portfolios", 2, "cdsc_schedule", "5;;3"), _set("portfolios", 3, "cdsc_schedule", "5,4")),
        ("portfolios.csv", 2, "cdsc_schedule", "separated by semicolons (e.g. 5;4;3;3;2;1) (got 5;;3)"),
        ("portfolios.csv", 3, "cdsc_schedule", "separated by semicolons (e.g. 5;4;3;3;2;1) (got 5,4)"),
    ),
    "conversion_years whole": (_set("portfolios", 2, "conversion_years", "8.5"), ("portfolios.csv", 2, "conversion_years", "conversion_years must be a positive whole number of years (e.g. 8) (got 8.5)")),
    "conversion_years positive": (
        _all(_set("portfolios", 2, "conversion_years", "0"), _set("portfolios", 3, "conversion_years", "eight")),
        ("portfolios.csv", 2, "conversion_years", "a positive whole number of years (e.g. 8) (got 0)"),
        ("portfolios.csv", 3, "conversion_years", "a positive whole number of years (e.g. 8) (got eight)"),
    ),
    "nav above zero": (_set("nav", 2, "nav", "0"), ("nav.csv", 2, "nav", "nav must be greater than zero (got 0)")),
    "nav shares zero or more": (_set("nav", 3, "shares", "-1"), ("nav.csv", 3, "shares", "shares must be zero or more (got -1)")),
    "transaction shares above zero": (_set("transactions", 14, "shares", "-5"), (TX, 14, "shares", "shares must be greater than zero (got -5)")),
    "transaction price above zero": (_set("transactions", 14, "price", "0"), (TX, 14, "price", "price must be greater than zero (got 0)")),
    "offset amount above zero": (_set("offsets", 2, "amount", "0"), ("offsets.csv", 2, "amount", "amount must be greater than zero (got 0)")),
    "omnibus true or false": (_set("accounts", 2, "omnibus", "yes"), ("accounts.csv", 2, "omnibus", "omnibus must be true or false (got yes)")),
    "purchase issue_date is its date": (_set("transactions", 2, "issue_date", "2012-03-06"), (TX, 2, "issue_date", "a purchase's issue_date, when given, must be the purchase's date (got 2012-03-06)")),
    "purchase issue_date not a date": (_set("transactions", 2, "issue_date", "2012-03-32"), (TX, 2, "issue_date", "a purchase's issue_date must be a date written YYYY-MM-DD (got 2012-03-32)")),
    "bad dates": (
        _all(_set("transactions", 5, "date", "2020-02-30"), _set("tenures", 3, "start_date", "03/16/2020"), _set("offsets", 2, "date", "2020-6-5")),
        (TX, 5, "date", "date must be a date written YYYY-MM-DD (got 2020-02-30)"),
        ("tenures.csv", 3, "start_date", "start_date must be a date written YYYY-MM-DD (got 03/16/2020)"),
        ("offsets.csv", 2, "date", "date must be a date written YYYY-MM-DD (got 2020-6-5)"),
    ),
    "bad numbers": (
        _all(_set("transactions", 5, "shares", "1,000"), _set("nav", 2, "shares", "inf"), _set("portfolios", 3, "service_fee_rate", "25bp"), _set("assignments", 2, "purchase_price", "n/a")),
        (TX, 5, "shares", "shares must be a number (got 1,000)"),
        ("nav.csv", 2, "shares", "shares must be a number (got inf)"),
        ("portfolios.csv", 3, "service_fee_rate", "service_fee_rate must be a number (got 25bp)"),
        ("assignments.csv", 2, "purchase_price", "purchase_price must be a number (got n/a)"),
    ),
    # tenures
    "tenures overlap": (_set("tenures", 2, "end_date", "2020-03-20"), ("tenures.csv", 3, "start_date", "this tenure of portfolio P starts on 2020-03-16, before an earlier tenure ends (2020-03-20); the tenures of a portfolio must not overlap")),
    "tenure overlaps an open one": (_set("tenures", 2, "end_date", ""), ("tenures.csv", 3, "start_date", "while an earlier tenure is still open; the tenures of a portfolio must not overlap")),
    "tenures leave a gap": (_set("tenures", 2, "end_date", "2020-03-10"), ("tenures.csv", 3, "start_date", "this tenure of portfolio P starts on 2020-03-16 but the one before ends on 2020-03-10; the next tenure must start the day after the last ends (2020-03-11)")),
    "tenure after first transaction": (_set("tenures", 2, "start_date", "2013-01-01"), ("tenures.csv", 2, "start_date", "portfolio P has a transaction or nav.csv row on 2012-03-05 but its first tenure starts on 2013-01-01; every day from then on must lie in a tenure")),
    "tenure after first nav": (_set("tenures", 4, "start_date", "2020-01-03"), ("tenures.csv", 4, "start_date", "portfolio Q has a transaction or nav.csv row on 2020-01-02 but its first tenure starts on 2020-01-03")),
    "tenures end before the feed": (_set("tenures", 5, "end_date", "2020-06-29"), ("tenures.csv", 5, "end_date", "the last tenure of portfolio Q ends on 2020-06-29 but the feed runs to 2020-06-30; every day up to the feed's last month end must lie in a tenure")),
    # assignments
    "fee_fractions add up above 1": (_assignment(start_date="2020-06-20", end_date="2020-06-30", fee_fraction="0.6"), ("assignments.csv", 3, "fee_fraction", "the fee_fractions of rights holder ADI in effect in portfolio P on 2020-06-20 add up to 1.1; they may add up to at most 1")),
    "an all-portfolio assignment counts in each": (_assignment(portfolio_id="", cdsc_fraction="0.6"), ("assignments.csv", 2, "cdsc_fraction", "the cdsc_fractions of rights holder ADI in effect in portfolio P on 2020-06-11 add up to 1.1")),
    # exchanges
    "exchange leg without exchange_id": (_set("transactions", 16, "exchange_id", ""), (TX, 16, "exchange_id", "an exchange_out or exchange_in must have an exchange_id")),
    "exchange with two out legs": (_set("transactions", 17, "kind", "exchange_out"), (TX, 17, "exchange_id", "exchange X1 has more than one exchange_out (first on line 16)")),
    "exchange legs apart": (
        _set("transactions", 17, "exchange_id", "X9"),
        (TX, 16, "exchange_id", "exchange X1 has no exchange_in"),
        (TX, 17, "exchange_id", "exchange X9 has no exchange_out"),
    ),
    "exchange across accounts": (_set("transactions", 17, "account_id", "OR"), (TX, 17, "account_id", "the exchange_in of exchange X1 has account OR but its exchange_out (line 16) has OM; both legs must have the same account")),
    "exchange across dates": (_set("transactions", 17, "date", "2020-05-13"), (TX, 17, "date", "the exchange_in of exchange X1 has date 2020-05-13 but its exchange_out (line 16) has 2020-05-12; both legs must have the same date")),
    "exchange in leg first": (_set("transactions", 17, "txn_id", "T14a"), (TX, 17, "txn_id", "the exchange_out of exchange X1 (T15, line 16) must come before its exchange_in in txn_id order (got T14a)")),
    "transaction between exchange legs": (_txn("T15a", "2020-05-12", "reinvest", "1"), (TX, 28, "txn_id", "transaction T15a of account OM comes between the exchange_out (T15) and the exchange_in (T16) of exchange X1; no other transaction of the account may come between the two legs")),
    "exchange values differ": (_set("transactions", 17, "price", "10.02"), (TX, 17, "shares", "the exchange_in of exchange X1 is worth 1,002 dollars (shares x price) against 1,000 for its exchange_out (line 16); they may differ by at most one cent per thousand dollars (0.01)")),
    "exchange values just beyond a cent per thousand": (_set("transactions", 20, "price", "10.00011"), (TX, 20, "shares", "is worth 10,500.1155 dollars (shares x price) against 10,500 for its exchange_out (line 19); they may differ by at most one cent per thousand dollars (0.105)")),
    # holdings
    "holding below zero": (_set("transactions", 27, "shares", "15.000002"), (TX, 27, "shares", "this redeem of 15.000002 shares leaves account OR holding -0.000002 shares of portfolio P; an account may never hold fewer than zero shares")),
    "holding below zero after a balance gone": (
        _all(_set("transactions", 27, "shares", "15.0000008"), _txn("T27", "2020-06-25", "redeem", "0.0000011", "OR")),
        (TX, 28, "shares", "this redeem of 0.0000011 shares leaves account OR holding -0.0000011 shares of portfolio P"),
    ),
    "exchange out of nothing": (_set("transactions", 21, "account_id", "OM"), (TX, 22, "shares", "this exchange_out of 30 shares leaves account OR holding -30 shares of portfolio Q")),
    "same day in txn_id order": (
        _all(_add("accounts", account_id="AC", omnibus="false"), _txn("X9", "2020-01-15", "purchase", "10", "AC"), _txn("X10", "2020-01-15", "redeem", "10", "AC")),
        (TX, 29, "shares", "this redeem of 10 shares leaves account AC holding -10 shares of portfolio P"),
    ),
    # the feed's months
    "offset after the last month": (_set("offsets", 2, "date", "2020-07-01"), ("offsets.csv", 2, "date", "the date 2020-07-01 falls outside the feed's months (the feed's months run from 2012-03 to 2020-06)")),
    "offset before the first month": (_set("offsets", 2, "date", "2012-02-29"), ("offsets.csv", 2, "date", "the date 2012-02-29 falls outside the feed's months")),
    "plan event after the last month": (_set("plan_events", 2, "date", "2020-07-01"), ("plan_events.csv", 2, "date", "the date 2020-07-01 falls outside the feed's months")),
    # bad input (issue 11): dates outside pandas' calendar, absurd numbers, odd digits, cells
    "dates outside the years allowed": (
        _all(_set("transactions", 5, "date", "9999-12-31"), _set("nav", 2, "date", "2262-04-12"),
             _set("tenures", 2, "start_date", "0001-01-01"), _set("offsets", 2, "date", "1899-12-31"),
             _set("plan_events", 2, "date", "2200-01-01")),
        (TX, 5, "date", "date must lie between 1900-01-01 and 2199-12-31 (got 9999-12-31)"),
        ("nav.csv", 2, "date", "date must lie between 1900-01-01 and 2199-12-31 (got 2262-04-12)"),
        ("tenures.csv", 2, "start_date", "start_date must lie between 1900-01-01 and 2199-12-31 (got 0001-01-01)"),
        ("offsets.csv", 2, "date", "(got 1899-12-31)"),
        ("plan_events.csv", 2, "date", "(got 2200-01-01)"),
    ),
    "end dates beyond the years allowed, other than the open end": (
        _all(_set("tenures", 3, "end_date", "2262-04-11"), _set("assignments", 2, "end_date", "9999-12-30")),
        ("tenures.csv", 3, "end_date", "end_date must lie between 1900-01-01 and 2199-12-31 (or be empty or 9999-12-31 for an open end) (got 2262-04-11)"),
        ("assignments.csv", 2, "end_date", "(or be empty or 9999-12-31 for an open end) (got 9999-12-30)"),
    ),
    "purchase issue_date far away": (_set("transactions", 2, "issue_date", "9999-12-31"), (TX, 2, "issue_date", "a purchase's issue_date, when given, must be the purchase's date (got 9999-12-31)")),
    "dates in other digits": (
        _all(_set("transactions", 5, "date", "\uff12\uff10\uff12\uff10-01-20"), _set("tenures", 2, "start_date", "\u0662\u0660\u0661\u0660-01-01")),
        (TX, 5, "date", "date must be a date written YYYY-MM-DD (got \uff12\uff10\uff12\uff10-01-20)"),
        ("tenures.csv", 2, "start_date", "start_date must be a date written YYYY-MM-DD"),
    ),
    "absurd numbers": (
        _all(_set("transactions", 5, "shares", "1.7e308"), _set("transactions", 6, "price", "2000000"),
             _set("nav", 2, "nav", "1e300"), _set("nav", 3, "shares", "1e13"), _set("offsets", 2, "amount", "1.2e29"),
             _set("assignments", 2, "purchase_price", "-5"), _set("portfolios", 2, "conversion_years", "1e300")),
        (TX, 5, "shares", "shares must be at most 1,000,000,000,000 (got 1.7e308)"),
        (TX, 6, "price", "price must be at most 1,000,000 (got 2000000)"),
        ("nav.csv", 2, "nav", "nav must be at most 1,000,000 (got 1e300)"),
        ("nav.csv", 3, "shares", "shares must be at most 1,000,000,000,000 (got 1e13)"),
        ("offsets.csv", 2, "amount", "amount must be at most 1,000,000,000,000 (got 1.2e29)"),
        ("assignments.csv", 2, "purchase_price", "purchase_price must be between 0 and 1,000,000,000,000 (got -5)"),
        ("portfolios.csv", 2, "conversion_years", "conversion_years must be at most 100 (got 1e300)"),
    ),
    "a NUL character in a name": (_set("portfolios", 2, "name", "Port\x00folio"), ("portfolios.csv", 2, "name", "name must not contain a NUL character")),
    "a value too long": (_set("accounts", 3, "holder", "x" * 5_000), ("accounts.csv", 3, "holder", "holder must be at most 1,000 characters long (got 5,000 characters)")),
    "a value of 5 MB": (_set("accounts", 3, "holder", "x" * 5_000_000), ("accounts.csv", 3, None, "the line is longer than 1,048,576 bytes; no value may be longer than 1,000 characters")),
}
# fmt: on


@pytest.mark.parametrize("case", list(BAD_FEEDS))
def test_each_rule_rejects_its_bad_feed(tmp_path: Path, case: str) -> None:
    edit, *expected = BAD_FEEDS[case]
    folder = copy_example(tmp_path)
    edit(folder)
    problems = problems_of(folder)
    for file, line, column, words in expected:
        find_problem(problems, file, line, column, words)


# Edits that look odd but keep every rule: the feed must still be accepted.
# fmt: off
GOOD_FEEDS: dict[str, Edit] = {
    "written forms": _all(
        _set("transactions", 2, "comment", "unknown columns are ignored"),
        _set("transactions", 2, "portfolio_id", "  P "),
        _set("transactions", 3, "issue_date", " 2019-06-03 "),  # a purchase's own date
        _set("accounts", 2, "omnibus", " TRUE "),
        _set("accounts", 3, "omnibus", "False"),
        _set("portfolios", 2, "conversion_years", "8.0"),
        _set("nav", 3, "shares", "0"),
        _set("transactions", 5, "issue_date", "not-a-date"),  # ignored on a reinvest
        _set("transactions", 2, "waiver", "death"),  # ignored on a purchase
        _set("transactions", 13, "exchange_id", "X1"),  # ignored on a redeem
    ),
    "assignments within their limits": _all(
        _assignment(assignment_id="AS2", rights_holder="OD1", fee_fraction="0.9", cdsc_fraction="0.9"),
        _assignment(assignment_id="AS3", start_date="2020-06-21", fee_fraction="0.6"),  # the day after AS1 ends
        _assignment(assignment_id="AS4", start_date="2020-06-15", end_date="2020-06-20", fee_fraction="0.5000000009"),
    ),
    "tolerances and edges": _all(
        _set("transactions", 20, "price", "10.0001"),  # exactly one cent per thousand dollars
        _txn("T15a", "2020-05-12", "reinvest", "1", "OR", "Q"),  # another account between legs
        _set("transactions", 27, "shares", "15.0000008"),  # -8e-7: within 1e-6 of zero, gone
        _txn("T27", "2020-06-25", "redeem", "0.0000004", "OR"),  # -4e-7 from zero, not -1.2e-6
        _set("offsets", 2, "date", "2012-03-01"),  # first day of the first month
    ),
    "no optional files": _all(_delete("assignments"), _delete("offsets"), _delete("plan_events")),
    "open ends written 9999-12-31": _all(_set("tenures", 3, "end_date", "9999-12-31"), _set("tenures", 5, "end_date", " 9999-12-31 ")),
    "the years allowed, at both ends": _all(_set("tenures", 2, "start_date", "1900-01-01"), _set("tenures", 3, "end_date", "2199-12-31")),
}
# fmt: on


@pytest.mark.parametrize("case", list(GOOD_FEEDS))
def test_odd_but_valid_feeds_are_accepted(tmp_path: Path, case: str) -> None:
    folder = copy_example(tmp_path)
    GOOD_FEEDS[case](folder)
    feed = F.read_feed(folder)
    if case == "written forms":
        assert feed.transactions.loc[0, "portfolio_id"] == "P"
        assert list(feed.accounts["omnibus"]) == [True, False]
        assert feed.portfolios.loc[0, "conversion_years"] == 8
        assert pd.isna(feed.transactions.loc[3, "issue_date"])
        assert (
            feed.transactions.loc[0, "waiver"] == ""
            and feed.transactions.loc[11, "exchange_id"] == ""
        )


@pytest.mark.parametrize("cells", [R.SMALL_TABLE_CELLS, 0], ids=["small tables", "large tables"])
def test_blank_lines_keep_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: int
) -> None:
    """Blank lines are skipped, but problems still name the line of the file (both ways of reading)."""
    monkeypatch.setattr(R, "SMALL_TABLE_CELLS", cells)
    folder = copy_example(tmp_path)
    set_cell(folder, "accounts", 2, "omnibus", " TRUE ")
    set_cell(folder, "transactions", 14, "shares", "-5")
    text = (folder / TX).read_text().splitlines()
    (folder / TX).write_text("\n".join(text[:5] + [""] + text[5:] + ["", ",,,,,,,,,"]) + "\n")
    (folder / "accounts.csv").write_bytes(b"\xef\xbb\xbf" + (folder / "accounts.csv").read_bytes())
    problems = problems_of(folder)
    assert [str(p) for p in problems] == [
        "transactions.csv, line 15, column shares: shares must be greater than zero (got -5)"
    ]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    set_cell(folder, "portfolios", 3, "schedule", "B")
    set_cell(folder, "transactions", 14, "shares", "-5")
    set_cell(folder, "transactions", 9, "date", "2020-03-32")
    set_cell(folder, "tenures", 2, "end_date", "2020-03-10")
    set_cell(folder, "offsets", 2, "date", "2021-01-01")
    problems = problems_of(folder)
    # in file order, then line order; the offset's month is not judged while a
    # transaction date is unreadable (the feed's months are not known)
    assert [(p.file, p.line, p.column) for p in problems] == [
        ("portfolios.csv", 3, "schedule"),
        ("tenures.csv", 3, "start_date"),
        (TX, 9, "date"),
        (TX, 14, "shares"),
    ]
    find_problem(problems, "portfolios.csv", 3, "schedule", "A-1 or A-2 (got B)")
    find_problem(problems, "tenures.csv", 3, "start_date", "the day after the last ends")
    find_problem(problems, TX, 9, "date", "YYYY-MM-DD (got 2020-03-32)")


def test_problems_are_capped(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    rows = read_rows(folder, "transactions")
    shares, price = rows[0].index("shares"), rows[0].index("price")
    for row in rows[1:]:
        row[shares], row[price] = "-1", "-1"
    write_rows(folder, "transactions", rows)
    problems = problems_of(folder)
    assert len(rows) - 1 == 26  # 52 problems found
    assert len(problems) == F.MAX_PROBLEMS == 50
    assert problems[0] == F.Problem(TX, 2, "shares", "shares must be greater than zero (got -1)")
    assert problems[1] == F.Problem(TX, 2, "price", "price must be greater than zero (got -1)")
    assert problems[-1].line == 26


def test_message_reads_as_file_line_column_rule(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    set_cell(folder, "transactions", 14, "shares", "-5")
    (problem,) = problems_of(folder)
    expected = "transactions.csv, line 14, column shares: shares must be greater than zero (got -5)"
    assert str(problem) == expected


def test_a_bad_cell_does_not_cascade(tmp_path: Path) -> None:
    """A purchase with unreadable shares: one problem, not a negative holding after it."""
    folder = copy_example(tmp_path)
    set_cell(folder, "transactions", 3, "shares", "one hundred")
    assert [(p.line, p.column) for p in problems_of(folder)] == [(3, "shares")]


# --------------------------------------------------------------------------- sources


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """A text table with its dates and numbers typed, as a Parquet writer would."""
    out = frame.copy()
    for column in ("date", "start_date", "end_date", "issue_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column].replace("", None))
    for column in ("shares", "price", "nav", "amount"):
        if column in out:
            out[column] = pd.to_numeric(out[column])
    return out


def test_parquet_tables_read_like_csv(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    expected = F.read_feed(folder)
    for table in ("transactions", "tenures", "nav"):
        text = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        _typed(text).to_parquet(folder / f"{table}.parquet")
        (folder / f"{table}.csv").unlink()
    feed = F.read_feed(folder)
    for name in F.TABLES:
        pd.testing.assert_frame_equal(getattr(feed, name), getattr(expected, name))


def test_parquet_problems_name_the_parquet_file(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    text = pd.read_csv(folder / TX, dtype=str, keep_default_na=False)
    text.loc[12, "shares"] = "-5"  # T13, line 14
    text.to_parquet(folder / "transactions.parquet")
    (folder / TX).unlink()
    problems = problems_of(folder)
    find_problem(problems, "transactions.parquet", 14, "shares", "greater than zero (got -5)")


def test_csv_and_parquet_of_one_table_are_rejected(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    pd.read_csv(folder / "nav.csv", dtype=str).to_parquet(folder / "nav.parquet")
    (folder / "tenures.csv").unlink()
    problems = problems_of(folder)  # both file problems, together
    find_problem(problems, "nav.csv", None, None, "both nav.csv and nav.parquet are present")
    find_problem(problems, "tenures.csv", None, None, "the required file tenures.csv is missing")


def test_unreadable_file_is_rejected(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    latin1 = "account_id,omnibus,holder\nOM,true,Soci\xe9t\xe9\n".encode("latin-1")
    (folder / "accounts.csv").write_bytes(latin1)
    find_problem(problems_of(folder), "accounts.csv", 2, None, "the file cannot be read: it is not UTF-8 text")


def test_validate_takes_source_names(tmp_path: Path) -> None:
    raw = F.read_raw_tables(copy_example(tmp_path))
    raw["nav"] = raw["nav"].assign(nav="-1")
    with pytest.raises(F.FeedError) as caught:
        validate(raw, sources={"nav": "nav.parquet"})
    find_problem(caught.value.problems, "nav.parquet", 2, "nav", "greater than zero (got -1)")


def test_validate_without_a_required_table(tmp_path: Path) -> None:
    raw = F.read_raw_tables(copy_example(tmp_path))
    del raw["accounts"]
    with pytest.raises(F.FeedError) as caught:
        validate(raw)
    missing = F.Problem("accounts.csv", None, None, "the required file accounts.csv is missing")
    assert caught.value.problems == [missing]


# --------------------------------------------------------------------------- the contract

# fmt: off
CONTRACT = {
    "portfolios": ["portfolio_id", "name", "fund", "schedule", "distribution_fee_rate", "service_fee_rate", "cdsc_schedule", "conversion_years"],
    "tenures": ["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"],
    "accounts": ["account_id", "omnibus", "holder"],
    "nav": ["portfolio_id", "date", "nav", "shares"],
    "transactions": ["txn_id", "date", "portfolio_id", "account_id", "kind", "shares", "price", "issue_date", "exchange_id", "waiver", "line"],
    "assignments": ["assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date", "fee_fraction", "cdsc_fraction", "purchase_price"],
    "offsets": ["date", "rights_holder", "portfolio_id", "amount"],
    "plan_events": ["portfolio_id", "date", "kind"],
}
DATES = {"start_date", "end_date", "date", "issue_date"}
FLOATS = {"distribution_fee_rate", "service_fee_rate", "nav", "shares", "price", "fee_fraction", "cdsc_fraction", "purchase_price", "amount"}
# fmt: on


def _assert_column_dtype(frame: pd.DataFrame, column: str) -> None:
    values = frame[column]
    if column in DATES:
        assert values.dtype == "datetime64[ns]", column
        assert (values.dropna() == values.dropna().dt.normalize()).all(), column
    elif column in FLOATS:
        assert values.dtype == np.float64, column
    elif column in ("conversion_years", "line"):
        assert values.dtype == np.int64, column
    elif column == "omnibus":
        assert values.dtype == bool
    elif column == "cdsc_schedule":
        assert all(isinstance(s, tuple) and all(isinstance(x, float) for x in s) for s in values)
    else:
        assert pd.api.types.is_string_dtype(values), column
        assert all(isinstance(x, str) and x == x.strip() for x in values), column


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_worked_example_is_valid_and_keeps_the_contract(name: str) -> None:
    feed = F.read_feed(example_feed(name))
    assert feed.checksum and len(feed.transactions) > 0
    for table, columns in CONTRACT.items():
        frame = getattr(feed, table)
        assert list(frame.columns) == columns, table
        assert isinstance(frame.index, pd.RangeIndex), table
        for column in columns:
            _assert_column_dtype(frame, column)
    _assert_transaction_contract(feed.transactions, example_feed(name))
    _assert_defaults(feed)


def test_header_only_tables_make_an_empty_feed(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    for table in F.TABLES:
        write_rows(folder, table, read_rows(folder, table)[:1])
    feed = F.read_feed(folder)
    for table, columns in CONTRACT.items():
        frame = getattr(feed, table)
        assert frame.empty and list(frame.columns) == columns, table
        for column in columns:
            _assert_column_dtype(frame, column)


def test_empty_file_lacks_its_columns(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    (folder / "tenures.csv").write_text("")
    problems = problems_of(folder)
    for column in ("portfolio_id", "distributor", "start_date"):
        find_problem(problems, "tenures.csv", 1, column, f"the required column {column} is missing")


def _assert_transaction_contract(tx: pd.DataFrame, folder: Path) -> None:
    purchase = tx["kind"] == "purchase"
    leg = tx["kind"].isin(F.EXCHANGE_KINDS)
    assert tx["issue_date"][~purchase].isna().all()
    assert (tx["issue_date"][purchase] == tx["date"][purchase]).all()
    assert (tx["exchange_id"][~leg] == "").all() and (tx["exchange_id"][leg] != "").all()
    assert (tx["waiver"][tx["kind"] != "redeem"] == "").all()
    rows = read_rows(folder, "transactions")
    at = rows[0].index("txn_id")
    assert [rows[line - 1][at] for line in tx["line"]] == list(tx["txn_id"])


def _assert_defaults(feed: F.Feed) -> None:
    assert feed.portfolios["conversion_years"].gt(0).all()
    assert feed.portfolios["distribution_fee_rate"].between(0, 1).all()
    assert feed.portfolios["cdsc_schedule"].map(len).gt(0).all()
    assert (feed.tenures["rights_holder"] != "").all()
    assert feed.tenures.groupby("portfolio_id")["start_date"].is_monotonic_increasing.all()


def test_defaults_and_written_forms(tmp_path: Path) -> None:
    feed = F.read_feed(example_feed("hand-v3"))
    p = feed.portfolios.set_index("portfolio_id")
    assert p.loc["P", "cdsc_schedule"] == (5.0, 4.0, 3.0, 3.0, 2.0, 1.0)
    assert p.loc["S", "cdsc_schedule"] == (5.0, 4.0)
    assert list(p["conversion_years"]) == [8, 8, 3, 1]
    assert p.loc["P", "distribution_fee_rate"] == F.DEFAULT_DISTRIBUTION_FEE_RATE
    assert p.loc["P", "service_fee_rate"] == F.DEFAULT_SERVICE_FEE_RATE
    assert list(feed.accounts["omnibus"]) == [True, False, False, False]
    t03 = feed.transactions.set_index("txn_id").loc["T03"]
    assert pd.isna(t03["issue_date"]) and t03["waiver"] == "" and t03["exchange_id"] == ""
    assert feed.assignments.loc[1, "portfolio_id"] == ""
    assert pd.isna(feed.assignments.loc[1, "end_date"])
    assert feed.assignments["purchase_price"].isna().all()
    tenures = feed.tenures.set_index(["portfolio_id", "distributor"])
    assert tenures.loc[("P", "OD1"), "rights_holder"] == "OD1"


# --------------------------------------------------------------------------- bad input (issue 11)


def test_an_open_end_written_9999_12_31_is_an_empty_one(tmp_path: Path) -> None:
    written = copy_example(tmp_path / "written")
    set_cell(written, "assignments", 2, "end_date", "9999-12-31")
    empty = copy_example(tmp_path / "empty")
    set_cell(empty, "assignments", 2, "end_date", "")
    pd.testing.assert_frame_equal(F.read_feed(written).assignments, F.read_feed(empty).assignments)


def test_a_value_check_that_raises_rejects_the_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row rule that cannot run is reported, never dropped (docs/feed.md)."""

    def broken() -> R._Rule:
        def test(df: pd.DataFrame) -> pd.Series:
            raise RuntimeError("a defect")

        return R._Rule("exchange_id", "an exchange_out or exchange_in must have an exchange_id", test,
                       row=True, needs=("kind", "exchange_id"))

    monkeypatch.setattr(R, "_exchange_leg_has_id", broken)
    problems = problems_of(copy_example(tmp_path))
    find_problem(problems, TX, None, "exchange_id", "must have an exchange_id: could not be checked (RuntimeError")


def test_a_row_check_that_raises_rejects_the_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object) -> list:
        raise ValueError("a defect")

    broken.__doc__ = "No account ever holds fewer than zero shares."
    monkeypatch.setattr(R, "ROW_CHECKS", (*R.ROW_CHECKS, broken))
    (problem,) = problems_of(copy_example(tmp_path))
    assert problem.rule == "No account ever holds fewer than zero shares: could not be checked (ValueError: a defect)"


def test_a_link_to_nothing_is_no_absent_table(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    (folder / "offsets.csv").unlink()
    (folder / "offsets.csv").symlink_to(tmp_path / "nowhere.csv")
    find_problem(problems_of(folder), "offsets.csv", None, None, "the file is a link to nothing")


def test_a_header_of_too_many_columns_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    rows = read_rows(folder, "accounts")
    extra = 200_000
    rows[0] += [""] * extra  # 200 kB of commas
    write_rows(folder, "accounts", rows)
    (problem,) = problems_of(folder)
    assert str(problem) == "accounts.csv, line 1: the header has 200,002 columns; a table may have at most 100"


def test_a_line_too_long_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    with (folder / "accounts.csv").open("a") as handle:  # one cell of 2 MiB on line 4
        handle.write("OX,false," + "n" * (2 * 2**20) + "\n")
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line) == ("accounts.csv", 4)
    assert "the line is longer than 1,048,576 bytes" in problem.rule


def test_nul_bytes_are_rejected_with_their_line(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    (folder / "nav.csv").write_bytes((folder / "nav.csv").read_bytes() + b"\x00" * (3 * 2**20))
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line) == ("nav.csv", 4)
    assert "the line is longer than" in problem.rule


def test_an_encoding_error_names_its_line(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    set_cell(folder, "transactions", 20, "waiver", "caf\N{LATIN SMALL LETTER E WITH ACUTE}")
    text = (folder / TX).read_bytes().replace("é".encode(), b"\xe9")
    (folder / TX).write_bytes(text)
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line) == (TX, 20)
    assert "not UTF-8 text" in problem.rule


def test_a_parquet_text_cell_is_capped_too(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    text = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    text.loc[1, "account_id"] = "OR\x00"
    text.to_parquet(folder / "accounts.parquet")
    (folder / "accounts.csv").unlink()
    find_problem(problems_of(folder), "accounts.parquet", 3, "account_id", "must not contain a NUL character")
