"""calc.reports.data: a rejected feed's problems, what a feed holds."""

from __future__ import annotations

import pytest
from feedkit import copy_example

from calc.feed import FeedError, read_feed
from calc.reports import data


def test_problems_frame_of_a_rejected_feed(tmp_path):
    feed = copy_example(tmp_path, "hand")
    text = (feed / "portfolios.csv").read_text().replace(",A-2", ",A-3")
    (feed / "portfolios.csv").write_text(text)
    with pytest.raises(FeedError) as err:
        read_feed(feed)
    out = data.problems_frame(err.value.problems)
    assert list(out.columns) == ["file", "line", "column", "rule"]
    row = out[out["file"] == "portfolios.csv"].iloc[0]
    assert row["line"] == 3 and row["column"] == "schedule"


def test_feed_overview(hand):
    _, feed = hand
    overview = data.feed_overview(feed).set_index("table")
    assert overview.loc["transactions", "rows"] == 26
