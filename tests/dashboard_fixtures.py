"""A store for the dashboard's tests: a SQLite file holding the worked examples' calculations.

Run 1 is the ``hand`` example, run 2 ``random-1095`` (the newest, shown by
default).  Each is computed by ``calc.monthly`` and stored with
``calc.store.save_calculation``, as ``python -m calc load`` would.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from feedkit import EXAMPLES, set_cell

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
HAND_RUN, RANDOM_RUN = 1, 2
SESSION_KEY = "_principal"  # dashboard.auth.SESSION_KEY: where a sign-in puts the principal


# Users of the browser tests' store (tests/browser): name -> (role, assignee, password).
BROWSER_USERS = {
    "tester": ("admin", None, "tester's long password"),
    "fin1": ("assignee", "FINCO1", "fin1's long password"),
}


def add_users(url: str, users: dict[str, tuple[str, str | None, str]] = BROWSER_USERS) -> None:
    """Add ``users`` to the store at ``url`` (as the command line's admin would)."""
    from calc import users as accounts
    from calc.access import Principal
    from calc.store import get_engine

    engine = get_engine(url)
    for name, (role, assignee, password) in users.items():
        accounts.add_user(engine, Principal("setup", "admin"), name, role, password, assignee=assignee)
    engine.dispose()


def signed_in(at, principal=None):
    """``at`` (an AppTest before its first run) with the session state a sign-in sets:
    an admin by default (every page, loading feeds), or ``principal``."""
    from calc.access import Principal

    at.session_state[SESSION_KEY] = principal or Principal("tester", "admin")
    return at


@dataclass(frozen=True)
class DashboardStore:
    """The test store: its URL and the run ids of the examples in it."""

    url: str
    runs: dict[str, int]


def shown(at) -> bytes:
    """Everything an AppTest run sent to the browser: every element's message (tables, HTML and
    images included), main area and sidebar."""
    out: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return b"\n".join(out)


def build_store(path: Path, examples: tuple[str, ...] = ("hand", "random-1095")) -> DashboardStore:
    """Compute each example's feed and store it in a new SQLite file at ``path``."""
    from calc.feed import read_feed
    from calc.monthly import monthly_calculation
    from calc.store import get_engine, save_calculation, upgrade

    url = f"sqlite:///{path}"
    engine = get_engine(url)
    upgrade(engine)
    runs = {}
    for name in examples:
        feed = read_feed(EXAMPLES / name / "feed")
        runs[name] = save_calculation(engine, feed, monthly_calculation(feed))
    engine.dispose()
    return DashboardStore(url, runs)


IMAGE = "![x](http://127.0.0.1:1/x.png)"  # an image the reader's browser would fetch, were it drawn
NASTY = {  # the hand example's names -> names an attacker could put in a feed
    "P": "P<b>html</b>",
    "Portfolio P": f"{IMAGE} Portfolio",
    "OD1": "[link](http://evil)",
    "FIN": f"**bold** {IMAGE}",
    "OM": "[acct](http://evil) OM",
    "OR": "@OR <b>x</b>",
    "AIM FUNDS GROUP": "[fund](http://evil) www.evil.com a@evil.com",
}


def build_nasty_store(folder: Path) -> str:
    """A SQLite store in ``folder`` holding the hand example with every name replaced by one of
    :data:`NASTY` (run 1, and run 2 with another offset, so that Compare runs has differences)."""
    from calc.feed import read_feed
    from calc.monthly import monthly_calculation
    from calc.store import get_engine, save_calculation, upgrade

    feed_folder = folder / "feed"
    shutil.copytree(EXAMPLES / "hand" / "feed", feed_folder)
    for f in feed_folder.glob("*.csv"):
        with f.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        rows = [rows[0]] + [[NASTY.get(c, c) for c in r] for r in rows[1:]]
        with f.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    url = f"sqlite:///{folder / 'nasty.db'}"
    engine = get_engine(url)
    upgrade(engine)
    for amount in (None, "6000"):
        if amount:
            set_cell(feed_folder, "offsets", 2, "amount", amount)
        feed = read_feed(feed_folder)
        save_calculation(engine, feed, monthly_calculation(feed))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> DashboardStore:
    """The examples' store, built once per test session (per xdist worker)."""
    return build_store(tmp_path_factory.mktemp("dashboard") / "store.db")


def clear_streamlit_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def dashboard_db(dashboard_store: DashboardStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[DashboardStore]:
    """DATABASE_URL pointing at the examples' store, with Streamlit's caches emptied around the test."""
    monkeypatch.setenv("DATABASE_URL", dashboard_store.url)
    clear_streamlit_caches()
    yield dashboard_store
    clear_streamlit_caches()


@pytest.fixture
def own_store(dashboard_store: DashboardStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the examples' store (run 1 hand, run 2 random-1095) that a test may write to."""
    path = tmp_path / "own.db"
    shutil.copy(dashboard_store.url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    clear_streamlit_caches()
    yield url
    clear_streamlit_caches()


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL pointing at a database with nothing in it (not even the schema)."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    clear_streamlit_caches()
    yield url
    clear_streamlit_caches()
