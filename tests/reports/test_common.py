"""calc.reports.common: month ends, portfolio labels; and the package stays free of streamlit and plotly."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from calc.reports import common

M = pd.Timestamp
MODULES = ("common", "revenue", "shares", "collateral", "omnibus", "statement", "render", "data")


def test_month_ends_and_portfolio_labels(hand):
    calc, feed = hand
    months = common.month_ends(calc.summary)
    assert months[0] == M("2012-03-31") and months[-1] == M("2020-06-30") and len(months) == 100
    assert common.portfolio_labels(feed.portfolios) == {"P": "P · Portfolio P", "Q": "Q · Portfolio Q"}


def test_reports_import_neither_streamlit_nor_plotly():
    code = (f"import sys\nfor m in {MODULES!r}: __import__('calc.reports.' + m)\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('streamlit', 'plotly')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
