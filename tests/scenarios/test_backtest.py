"""Model validation: a projection from a month in the history against the actuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calc.feed import read_feed
from calc.scenarios.backtest import BACKTEST_COLUMNS, backtest, backtest_summary


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    from calc.sample import generate

    return read_feed(generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=4))


def test_backtest_compares_each_party_month_by_month(small_sample):
    at = small_sample.months()[-1] - pd.offsets.MonthEnd(30)
    frame = backtest(small_sample, at, months=24)
    assert list(frame.columns) == BACKTEST_COLUMNS
    assert frame["month_end"].min() == at + pd.offsets.MonthEnd(1)
    assert frame["month_end"].max() == at + pd.offsets.MonthEnd(24)
    assert np.allclose(frame["error"], (frame["projected"] - frame["actual"]).round(2))
    summary = backtest_summary(frame)
    main = summary.sort_values("actual").iloc[-1]
    assert main["projected"] > 0 and main["actual"] > 0
    assert np.isfinite(main["total_error_pct"])


def test_backtest_to_the_end_is_cut_to_the_feed(small_sample):
    at = small_sample.months()[-1] - pd.offsets.MonthEnd(3)
    frame = backtest(small_sample, at, months=24)
    assert frame["month_end"].max() == small_sample.months()[-1]
    with pytest.raises(ValueError, match="last month"):
        backtest(small_sample, small_sample.months()[-1])
