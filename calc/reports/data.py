"""Data: what a feed and a calculation hold, and a rejected feed's problems (the Data page)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from calc.feed import TABLES

PROBLEM_COLUMNS = ["file", "line", "column", "rule"]


def problems_frame(problems: Iterable[object]) -> pd.DataFrame:
    """A rejected feed's problems (``calc.feed.Problem``) as a table: file, line, column, rule."""
    rows = [{"file": p.file, "line": p.line, "column": p.column or "", "rule": p.rule} for p in problems]
    out = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    out["line"] = out["line"].astype("Int64")
    return out


def feed_overview(feed: object) -> pd.DataFrame:
    """Rows per table of a feed (``calc.feed.Feed``): table, rows."""
    return pd.DataFrame({"table": list(TABLES), "rows": [len(getattr(feed, n)) for n in TABLES]})


def calculation_overview(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per output table of a calculation: table, rows."""
    return pd.DataFrame({"table": list(tables), "rows": [0 if t is None else len(t) for t in tables.values()]})


__all__ = ["calculation_overview", "feed_overview", "problems_frame"]
