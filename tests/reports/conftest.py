"""The worked examples for the report tests, against numbers checked by hand.

The ``hand`` example accrues on constant net assets from 2 January 2020:
P 10 x 1,000,000 and Q 10 x 500,000, so a day of P's Distribution Fee is
0.0075 x 10,000,000 / 366 = 204.918033 and of Q's 102.459016; P accrues
181 days in January-June 2020, Q 166 (to its Complete Termination on
16 June).  The omnibus account P/OM's Commission Shares are worked out from
its transactions (see ``OM_COMMISSION`` in test_omnibus.py).

``hand`` and ``rnd`` (random-1095) are (expected outputs, feed) from
``tests/data/examples`` (``feedkit.EXAMPLES``); ``june`` is the hand example's
statement of June 2020.
"""

from __future__ import annotations

import pandas as pd
import pytest
from feedkit import example_feed

from calc.feed import read_feed
from calc.report import read_csv
from calc.reports.statement import statement


def _example(name: str):
    feed = example_feed(name)
    return read_csv(feed.parent / "expected"), read_feed(feed)


@pytest.fixture(scope="session")
def hand():
    return _example("hand")


@pytest.fixture(scope="session")
def rnd():
    return _example("random-1095")


@pytest.fixture(scope="session")
def june(hand):
    """The statement of June 2020 of the hand example, all portfolios."""
    calc, _ = hand
    return statement(calc.summary, calc.payments, calc.allocation, calc.cdsc, calc.exceptions, pd.Timestamp("2020-06-30"))
