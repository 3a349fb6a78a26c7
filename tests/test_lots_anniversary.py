"""The lots drill-down's anniversary columns: the part of each issue year's Commission Shares
(and cost) whose anniversary of issue in the month end's year has passed (FOURTH (D) counts
years held by anniversary), kept through a month-end state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from feedbuilder import FeedBuilder
from feedkit import EXAMPLES
from statekit import after_month, continued, differences, lots_text, split, state_differences

from calc.calendar import _years_held
from calc.engine.state import load_state, lot_months_of, save_state
from calc.feed import read_feed
from calc.monthly import compute
from calc.vocabulary import SHARE_TOLERANCE

M = pd.Timestamp


def _lot(lots: pd.DataFrame, month_end: str, issue_year: int) -> pd.Series:
    row = lots[(lots["month_end"] == M(month_end)) & (lots["issue_year"] == issue_year)]
    assert len(row) == 1, row
    return row.iloc[0]


def test_a_lot_issued_in_march_passes_its_anniversary_at_the_march_month_end(tmp_path):
    fb = FeedBuilder()
    fb.nav("P", "2020-03-02", 10, 1_000_000)
    fb.buy("2020-03-10", 100, price=10)
    fb.buy("2020-11-30", 40, price=10)
    fb.nav("P", "2022-04-29", 10, 1_000_000)
    lots = fb.run(tmp_path).lots
    # issued March 2020: at February 2022 (a month end of its third calendar year) it is in year 2
    feb = _lot(lots, "2022-02-28", 2020)
    assert feb["commission_shares"] == 140 and feb["anniversary_shares"] == 0 and feb["anniversary_cost"] == 0
    # at March 2022 its anniversary has passed: year 3 (the November lot's not yet)
    mar = _lot(lots, "2022-03-31", 2020)
    assert mar["anniversary_shares"] == 100 and mar["anniversary_cost"] == 1000
    assert _lot(lots, "2021-11-30", 2020)["anniversary_shares"] == 140  # both passed, through December
    assert _lot(lots, "2021-12-31", 2020)["anniversary_shares"] == 140
    assert _lot(lots, "2022-01-31", 2020)["anniversary_shares"] == 0  # a new year: none passed yet
    # in the year of issue every share is past "its anniversary" (year 1)
    assert _lot(lots, "2020-03-31", 2020)["anniversary_shares"] == 100
    assert _lot(lots, "2020-11-30", 2020)["anniversary_shares"] == 140


def test_the_anniversary_part_agrees_with_the_cdsc_statements_years_held():
    """At every month end, each issue year's shares past their anniversary are those of its lots
    whose year held by FOURTH (D) on the month end is ``Y - y + 1`` (the CDSC statement's count):
    checked against the open lots of a state at each month end of the random example."""
    feed = read_feed(EXAMPLES / "random-1095" / "feed")
    whole, _ = compute(feed)
    ends = list(feed.months())
    for end in ends[5::7]:
        _, state = compute(split(feed, end)[0], through=end)
        lots = state.lots
        issue = pd.to_datetime(lots["issue_date"])
        year = _years_held(issue.dt.year.to_numpy(), issue.dt.month.to_numpy(), issue.dt.day.to_numpy(),
                           end.year, end.month, end.day, int(end.is_leap_year))
        passed = year == end.year - issue.dt.year.to_numpy() + 1
        expected = lots.assign(a=np.where(passed, lots["shares"], 0.0), y=issue.dt.year.astype("int64")).groupby(
            ["portfolio_id", "rights_holder", "y"])["a"].sum()
        got = whole.lots[whole.lots["month_end"] == end].set_index(["portfolio_id", "rights_holder", "issue_year"])
        got = got["anniversary_shares"]
        both = pd.concat([expected.rename("expected"), got.rename("got")], axis=1).fillna(0.0)
        assert np.abs(both["expected"] - both["got"]).max() < 1e-6, end
        # and never more than the year's shares
        rows = whole.lots[whole.lots["month_end"] == end]
        assert (rows["anniversary_shares"] <= rows["commission_shares"] + SHARE_TOLERANCE).all()


def test_a_december_month_end_has_every_anniversary_passed():
    feed = read_feed(EXAMPLES / "random-1095" / "feed")
    lots = compute(feed)[0].lots
    dec = lots[lots["month_end"].dt.month == 12]
    assert len(dec)
    assert np.abs(dec["anniversary_shares"] - dec["commission_shares"]).max() < 1e-6
    assert np.abs(dec["anniversary_cost"] - dec["cost"]).max() < 1e-4


@pytest.mark.parametrize("end", ["2014-12-31", "2015-01-31", "2016-02-29", "2016-06-30"])
def test_continued_runs_give_the_anniversary_columns_to_the_bit(end):
    feed = read_feed(EXAMPLES / "random-1095" / "feed")
    whole, whole_state = compute(feed)
    calc, state = continued(feed, M(end))
    assert "anniversary_shares" in calc.lots.columns
    pd.testing.assert_frame_equal(lots_text(whole.lots, M(end)), lots_text(calc.lots, M(end)))
    assert not state_differences(whole_state, state)


def test_a_state_saved_without_lot_months_derives_them_from_its_open_lots(tmp_path):
    """A state saved before ``lot_months`` was kept: read, its issue-month sums come from the open
    lots (equal to the running sums up to rounding), and a run continued from it gives the whole
    run's figures (the anniversary columns to within 1e-6 share and a cent)."""
    feed = read_feed(EXAMPLES / "random-1095" / "feed")
    end = M("2015-06-30")
    whole, _ = compute(feed)
    first, rest = split(feed, end)
    _, state = compute(first, through=end)
    folder = save_state(state, tmp_path / "state", version=1)  # Parquet files, as states were then
    (folder / "lot_months.parquet").unlink()
    old = load_state(folder)
    assert old.lot_months_derived and not state.lot_months_derived
    pd.testing.assert_frame_equal(old.lot_months, lot_months_of(state.lots))
    kept = state.lot_months.merge(old.lot_months, how="outer",
                                  on=["portfolio_id", "rights_holder", "issue_year", "issue_month"]).fillna(0.0)
    assert np.abs(kept["commission_shares_x"] - kept["commission_shares_y"]).max() < 1e-6
    assert np.abs(kept["cost_x"] - kept["cost_y"]).max() < 1e-4
    calc, _ = compute(rest, opening=old)
    assert not differences({k: v for k, v in after_month(whole, end).items() if k != "lots"},
                           {k: v for k, v in after_month(calc, end).items() if k != "lots"})
    a = whole.lots[whole.lots["month_end"] > end].reset_index(drop=True)
    b = calc.lots.reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["month_end", "portfolio_id", "rights_holder", "issue_year"]],
                                  b[["month_end", "portfolio_id", "rights_holder", "issue_year"]])
    assert np.abs(a["commission_shares"] - b["commission_shares"]).max() == 0  # kept by issue year: exact
    assert np.abs(a["anniversary_shares"] - b["anniversary_shares"]).max() < 1e-6
    assert np.abs(a["anniversary_cost"] - b["anniversary_cost"]).max() < 1e-4
