"""How long each dashboard page takes to render (streamlit.testing AppTest), on a store.

Usage::

    DATABASE_URL=sqlite:///data/bshare.db .venv/bin/python bench/bench_dashboard.py [--repeat N] [--run RUN_ID]

The store is the one ``make run`` fills with the medium sample (the default
``data/bshare.db`` when ``DATABASE_URL`` is not set).  For every page: the
first load (Streamlit's caches emptied: the page reads the store), a second
load in a new session (caches warm), and a filter change in the same session
(the month for most pages, the account on Omnibus, the assignee on
Collateral).  It prints the figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calc.access import Principal  # noqa: E402

ANALYST = Principal("bench", "analyst")

APP = ROOT / "dashboard" / "app.py"
PAGES = ["revenue", "shares", "collateral", "omnibus", "statement", "compare", "data"]
TIMEOUT = 600


def _open(page: str, params: dict[str, str]):
    """The app, not yet run, on ``page``: Revenue (the default page) at the root, another by its script.

    Switching to ``screens/revenue.py`` by name would reach the ``/revenue``
    alias, which redirects to the root on every run AppTest makes.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["_principal"] = ANALYST  # the session state a sign-in sets (dashboard.auth)
    at.query_params.update(params)
    if page != "revenue":
        at.switch_page(f"screens/{page}.py")
    return at


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _problems(at) -> str:
    bad = [e.value for e in at.exception] + [e.value for e in at.error]
    return "" if not bad else f"  !! {bad[0]!s:.80}"


def _change_filter(at, page: str) -> str:
    """Change one filter the way a user would; returns what was changed."""
    if page == "collateral":
        box = at.selectbox(key="assignee")
        options = box.options
        if len(options) > 1:
            box.select_index(1)
            return "assignee"
    if page == "omnibus":
        try:
            box = at.selectbox(key="account")
        except KeyError:
            box = None
        if box is not None and len(box.options) > 1:
            box.select_index(1)
            return "account"
    month = at.sidebar.selectbox(key="month")
    month.select_index(min(1, len(month.options) - 1))
    return "month"


def bench(repeat: int, run_id: int | None, portfolio: str | None) -> None:
    import streamlit as st

    from calc import store

    engine = store.get_engine()
    runs = store.list_runs(engine, ANALYST)
    if runs.empty:
        print("The store holds no calculation run: run `make run` (or `python -m calc load FEED`) first.")
        return
    run_id = run_id or int(runs["run_id"].max())
    info = runs[runs["run_id"] == run_id].iloc[0]
    print(f"store {store.resolve_url()} · run {run_id} · {info['source']} · {info['months']} months · "
          f"{info['payments_rows']:,} payment rows · {info['omnibus_rows']:,} omnibus rows · {info['lots_rows']:,} lot rows")
    if portfolio is None:
        omnibus = store.read_table(engine, ANALYST, "omnibus_accounts", run_id, month_end=info["last_month"])
        portfolio = str(omnibus["portfolio_id"].iloc[0]) if not omnibus.empty else None
    params = {"run": str(run_id)}
    print(f"{'page':<11} {'first load':>11} {'warm load':>10} {'filter change':>14}  (seconds, median of {repeat})")
    for page in PAGES:
        first, warm, change, changed, note = [], [], [], "", ""
        for _ in range(repeat):
            st.cache_data.clear()
            st.cache_resource.clear()
            qp = dict(params)
            if page == "omnibus" and portfolio:
                qp["portfolio"] = portfolio
            at = _open(page, qp)
            first.append(_timed(at.run))
            note = note or _problems(at)
            again = _open(page, qp)
            warm.append(_timed(again.run))
            changed = _change_filter(again, page)
            change.append(_timed(again.run))
            note = note or _problems(again)
        print(f"{page:<11} {statistics.median(first):>11.2f} {statistics.median(warm):>10.2f} "
              f"{statistics.median(change):>14.2f}  ({changed}){note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="measure each page N times (median)")
    parser.add_argument("--run", type=int, default=None, help="calculation run (default: the newest)")
    parser.add_argument("--portfolio", default=None, help="portfolio for the Omnibus page (default: one with omnibus accounts)")
    args = parser.parse_args()
    bench(args.repeat, args.run, args.portfolio)


if __name__ == "__main__":
    main()
