"""Loads at the same time (issue 11): a busy SQLite store ends in a plain message; on
PostgreSQL, first loads into an empty database and loads of the same new feed wait for
each other instead of failing (the ``database_url`` fixture: SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from feedkit import example_feed

from calc.cli import EXIT_STORE_BUSY, main
from calc.feed import read_feed
from calc.monthly import compute
from calc.store import StoreBusy, get_engine, upgrade
from calc.store import engine as store_engine
from calc.store.engine import upgrade_connection, write_transaction
from calc.store.write import save_calculation, save_on_connection

HOLD_S = 1.0  # how long the first writer keeps its transaction open (ordering, not asserted)


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(sa.table(table))))


def test_a_busy_sqlite_store_ends_in_a_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = get_engine(url)
    upgrade(engine)
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write lock
    try:
        assert main(["load", str(example_feed("hand")), "--database-url", url, "-q"]) == EXIT_STORE_BUSY
        err = capsys.readouterr().err
        assert "the store is busy" in err and "nothing was stored" in err and "Traceback" not in err
        with pytest.raises(StoreBusy):
            with write_transaction(get_engine(url)):
                pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _count(engine, "calculation_run") == 0
    engine.dispose()


def _hold_then_commit(engine: sa.Engine, work, started: threading.Event) -> None:
    with write_transaction(engine) as conn:
        work(conn)
        started.set()
        time.sleep(HOLD_S)  # the other load reaches its lock meanwhile


def test_first_loads_into_an_empty_database_wait_for_each_other(database_url: str) -> None:
    feed = read_feed(example_feed("hand"))
    calculation, state = compute(feed)
    first, second = get_engine(database_url), get_engine(database_url)
    started = threading.Event()

    def migrate_and_store(conn: sa.Connection) -> None:
        upgrade_connection(conn)
        save_on_connection(conn, feed, calculation, state=state)

    holder = threading.Thread(target=_hold_then_commit, args=(first, migrate_and_store, started))
    holder.start()
    started.wait()
    try:
        run_id = save_calculation(second, feed, calculation, migrate=True, state=state)
    finally:
        holder.join()
    assert run_id == 2
    assert _count(second, "feed") == 1 and _count(second, "calculation_run") == 2
    first.dispose()
    second.dispose()


def test_two_loads_of_the_same_new_feed_store_it_once(database_url: str) -> None:
    feed = read_feed(example_feed("hand"))
    calculation, state = compute(feed)
    first, second = get_engine(database_url), get_engine(database_url)
    upgrade(first)
    started = threading.Event()
    holder = threading.Thread(target=_hold_then_commit, args=(
        first, lambda conn: save_on_connection(conn, feed, calculation, state=state), started))
    holder.start()
    started.wait()
    try:
        save_calculation(second, feed, calculation, state=state)
    finally:
        holder.join()
    assert _count(second, "feed") == 1 and _count(second, "calculation_run") == 2
    first.dispose()
    second.dispose()
