"""The value rules of pass 1 (``calc.feed.checks._failures``, vectorised, without pandera)
report what pandera's lazy validation reported: the same problems, in the same words, in
the same order, for text (CSV) and typed (Parquet) tables; and the quick looks at Arrow's
buffers (``calc.arrays.longest_bytes_and_nul``, ``may_need_strip``) agree with Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calc.arrays import longest_bytes_and_nul, may_need_strip
from calc.feed import checks as R
from calc.feed import model as F

FILES = {t: f"{t}.csv" for t in F.TABLES}


def _pass1(table: str, raw: pd.DataFrame, account_rows: pd.Series | None = None) -> list[tuple]:
    text = R._text_frame(raw)
    rules = R._value_rules(table, R._parse(table, text), {"portfolios": {"P1", "P2"}}, FILES, account_rows)
    return [(p.line, p.column, p.rule) for _, p in R._value_problems(table, FILES[table], text, rules)]


# What pandera's schemas reported for these tables (calc.feed.checks before it was
# replaced), word for word: the missing date of a typed table is not reported as empty
# (pandera left missing values out of its failure cases), as before.
CASES = {
    "accounts with bad rows": (
        "accounts",
        pd.DataFrame({"account_id": ["A1", "", "A3", "A4", " "], "omnibus": ["true", "maybe", "", "FALSE", "no"],
                      "holder": ["x", "y", "", "z", "w"]}),
        None,
        [(3, "account_id", "account_id must not be empty"),
         (3, "omnibus", "omnibus must be true or false (got maybe)"),
         (4, "omnibus", "omnibus must not be empty"),
         (6, "account_id", "account_id must not be empty"),
         (6, "omnibus", "omnibus must be true or false (got no)")],
    ),
    "accounts without omnibus": (
        "accounts", pd.DataFrame({"account_id": ["A1", "A2"]}), None,
        [(1, "omnibus", "the required column omnibus is missing")],
    ),
    "typed nav": (
        "nav",
        pd.DataFrame({"portfolio_id": ["P1", "P2", "", "P1"],
                      "date": pd.to_datetime(["2020-01-31", None, "2020-02-29", "1850-01-01"]),
                      "nav": [10.0, np.nan, -1.0, 2e9], "shares": [1.0, -5.0, np.inf, 3]}),
        None,
        [(3, "shares", "shares must be zero or more (got -5.0)"),
         (4, "portfolio_id", "portfolio_id must not be empty"),
         (4, "nav", "nav must be greater than zero (got -1.0)"),
         (4, "shares", "shares must be a number (got inf)"),
         (5, "date", "date must lie between 1900-01-01 and 2199-12-31 (got 1850-01-01 00:00:00)"),
         (5, "nav", "nav must be at most 1,000,000 (got 2000000000.0)")],
    ),
    "typed portfolios": (
        "portfolios",
        pd.DataFrame({"portfolio_id": ["P1", "P2"], "name": ["a", "b"], "fund": ["f", "g"],
                      "schedule": ["A-1", "A-3"], "distribution_fee_rate": [0.5, 2.0], "conversion_years": [0, 8]}),
        None,
        [(2, "conversion_years", "conversion_years must be a positive whole number of years (e.g. 8) (got 0)"),
         (3, "schedule", "schedule must be A-1 or A-2 (got A-3)"),
         (3, "distribution_fee_rate", "distribution_fee_rate must be between 0 and 1 (got 2.0)")],
    ),
    "text transactions": (
        "transactions",
        pd.DataFrame({"txn_id": ["T1", "T2", "T3", "T4"], "date": ["2020-01-02", "2020-13-01", "", "2020-01-03"],
                      "portfolio_id": ["P1", "P9", "P1", "P1"], "account_id": ["A1", "A1", "", "A2"],
                      "kind": ["purchase", "exchange_in", "sell", "purchase"], "shares": ["1", "x", "-2", "3"],
                      "price": ["10", "10", "0", "10"], "issue_date": ["2020-01-05", "", "", "bad"],
                      "exchange_id": ["", "", "", ""]}),
        pd.Series([0, 0, -1, -1]),
        [(2, "issue_date", "a purchase's issue_date, when given, must be the purchase's date (got 2020-01-05)"),
         (3, "portfolio_id", "portfolio_id must name a portfolio of portfolios.csv (got P9)"),
         (3, "date", "date must be a date written YYYY-MM-DD (got 2020-13-01)"),
         (3, "shares", "shares must be a number (got x)"),
         (3, "exchange_id", "an exchange_out or exchange_in must have an exchange_id"),
         (4, "date", "date must not be empty"),
         (4, "account_id", "account_id must not be empty"),
         (4, "kind", "kind must be one of purchase, nav_purchase, reinvest, redeem, exchange_out, exchange_in (got sell)"),
         (4, "shares", "shares must be greater than zero (got -2)"),
         (4, "price", "price must be greater than zero (got 0)"),
         (5, "account_id", "account_id must name an account of accounts.csv (got A2)"),
         (5, "issue_date", "a purchase's issue_date must be a date written YYYY-MM-DD (got bad)")],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_value_rules_report_what_pandera_reported(case: str) -> None:
    table, raw, account_rows, expected = CASES[case]
    assert _pass1(table, raw, account_rows) == expected


def test_a_good_table_has_no_failures() -> None:
    raw = pd.DataFrame({"account_id": ["A1", "A2"], "omnibus": ["true", "False"]})
    text = R._text_frame(raw)
    rules = R._value_rules("accounts", R._parse("accounts", text), {"portfolios": None}, FILES)
    assert R._failures("accounts", rules, text).empty


def test_a_column_rule_that_raises_is_one_case_without_a_row() -> None:
    def test(s: pd.Series) -> pd.Series:
        raise KeyError("a defect")

    text = R._text_frame(pd.DataFrame({"account_id": ["A1"], "omnibus": ["true"]}))
    problems = R._value_problems("accounts", "accounts.csv", text, [R._Rule("omnibus", "omnibus must be odd", test)])
    assert [(p.line, p.column, p.rule) for _, p in problems] == [
        (None, "omnibus", "omnibus must be odd: could not be checked (KeyError(\"a defect\"))")]


TEXT = st.text(alphabet=st.sampled_from(list("ab 9\t\n\x00\x1f\x7fé\u00a0\u3000\U0001f600")), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=20))
def test_quick_looks_agree_with_python(values: list[str]) -> None:
    s = pd.Series(values, dtype="str")
    longest, nul = longest_bytes_and_nul(s)
    assert longest >= max((len(v) for v in values), default=0)
    assert nul == any("\x00" in v for v in values)
    if not may_need_strip(s):
        assert all(v.strip() == v for v in values)
        assert R._stripped(s).tolist() == values


def test_quick_looks_on_columns_not_in_arrow() -> None:
    s = pd.Series(["a ", None], dtype=object)
    assert longest_bytes_and_nul(s) is None
    assert may_need_strip(s)
    assert may_need_strip(pd.Series(["a", None], dtype="str"))  # a missing value: the slow way


@pytest.mark.parametrize("ids", [["A1", "A2", "A3"], ["", "A1", "A2"], ["A2", "A1", "A3"], ["A1", "", "A1"]])
def test_account_rows_by_search_are_those_by_hash(ids: list[str]) -> None:
    tx = pd.Series(["A2", "", "A9", "A1", "A3", "A2"], dtype="str")
    text = {"accounts": pd.DataFrame({"account_id": pd.Series(ids, dtype="str")}),
            "transactions": pd.DataFrame({"account_id": tx})}
    expected = [ids.index(a) if a in ids and a != "" else -1 for a in tx]
    assert R._account_rows(text).tolist() == expected


@pytest.mark.parametrize("ids", [["A1", "A2"], ["B", "A", "C"], ["B", "", "A", ""], ["B", "A", "B"], []])
def test_repeats_are_found_side_by_side(ids: list[str]) -> None:
    _, names = R._sorted_ids(pd.Series(ids, dtype="str"))
    assert names.to_pylist() == sorted(ids)
    repeated = {a for a in ids if a != "" and ids.count(a) > 1}
    assert R._repeats_none(names) == (not repeated)


def test_parties_take_the_validators_order_of_the_accounts(tmp_path) -> None:
    """An accounts table out of id order: the validator's sort (``Feed.account_order``)
    gives the engine the codes its own sort gives; a stale order is not taken."""
    import dataclasses

    from feedkit import copy_example, read_rows, write_rows

    from calc.engine.parties import Parties
    from calc.feed import read_feed

    folder = copy_example(tmp_path)
    rows = read_rows(folder, "accounts")
    write_rows(folder, "accounts", [rows[0], *reversed(rows[1:])])
    feed = read_feed(folder)
    assert feed.account_order is not None
    assert feed.accounts["account_id"].iloc[feed.account_order].tolist() == sorted(feed.accounts["account_id"])
    for order in (None, feed.account_order, np.arange(len(feed.accounts))):  # the last: stale
        other = dataclasses.replace(feed, account_order=order)
        got, want = Parties.of(other), Parties.of(dataclasses.replace(feed, account_order=None))
        assert got == want
        assert np.array_equal(got.__dict__["_accounts_of"][1], want.__dict__["_accounts_of"][1])
        assert np.array_equal(got.omnibus_flags(other), want.omnibus_flags(feed))
