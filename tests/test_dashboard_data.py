"""The dashboard's data access (``dashboard/data.py``): whose key a cached read is kept under,
and the server's warm-up of the newest run.

Every executive, analyst and admin reads the same rows, so their reads share one cache key
(``EVERY_PARTY``); an assignee's are kept under its own principal.  The warm-up fills the
shared key for the newest run before anyone asks; it never hands an assignee more than its own.
"""

from __future__ import annotations

import logging

import pytest
from dashboard_fixtures import APP, RANDOM_RUN, shown, signed_in
from streamlit.testing.v1 import AppTest

from calc import store
from calc.access import AccessDenied, Principal
from dashboard import data

pytest_plugins = ["dashboard_fixtures"]
TIMEOUT = 120
EVERY_ROLE_SEEING_ALL = [Principal("eve", "executive"), Principal("ann", "analyst"), Principal("ada", "admin")]
FIN1 = Principal("fin1", "assignee", "FINCO1")


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every ``read_table`` the store is asked for: (principal's name, table)."""
    calls: list[tuple[str, str]] = []
    original = store.read_table

    def counted(engine, principal, name, *args, **kwargs):
        calls.append((principal.name, name))
        return original(engine, principal, name, *args, **kwargs)

    monkeypatch.setattr(store, "read_table", counted)
    return calls


def _page(page: str, principal: Principal, **params: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT), principal)
    at.query_params.update({"run": str(RANDOM_RUN), **params})
    if page != "revenue":
        at.switch_page(f"screens/{page}.py")
    return at.run()


@pytest.mark.parametrize("who", EVERY_ROLE_SEEING_ALL, ids=lambda p: p.role)
def test_every_principal_seeing_all_reads_under_one_key(monkeypatch, who):
    monkeypatch.setattr(data, "principal", lambda: who)
    assert data.reader() == data.EVERY_PARTY


def test_an_assignee_reads_under_its_own_key(monkeypatch):
    monkeypatch.setattr(data, "principal", lambda: FIN1)
    assert data.reader() == FIN1


def test_no_one_signed_in_reads_nothing(dashboard_db):
    with pytest.raises(AccessDenied):
        data.reader()


def test_a_page_one_executive_opened_is_drawn_from_the_cache_for_an_analyst(dashboard_db, store_reads):
    first = _page("revenue", Principal("eve", "executive"))
    assert not first.exception and store_reads
    store_reads.clear()
    second = _page("revenue", Principal("ann", "analyst"))
    assert not second.exception
    assert store_reads == []  # every figure of the page came from the cache the executive filled
    assert [m.value for m in second.metric] == [m.value for m in first.metric]


def test_the_warm_up_reads_the_newest_runs_first_views(dashboard_db, store_reads):
    assert data.warm_newest_run() == RANDOM_RUN  # the newest of the store's two runs
    read = {name for _, name in store_reads}
    assert {"summary", "payments", "allocation", "omnibus_accounts", "portfolios"} <= read
    assert {who for who, _ in store_reads} == {data.EVERY_PARTY.name}
    store_reads.clear()
    at = _page("revenue", Principal("ann", "analyst"))
    assert not at.exception
    assert store_reads == []  # Revenue's first view: all of it read by the warm-up


def test_the_warm_up_of_an_empty_store_reads_nothing(empty_db):
    assert data.warm_newest_run() is None


def test_after_a_warm_up_an_assignee_still_sees_only_its_own(dashboard_db, store_reads):
    data.warm_newest_run()
    store_reads.clear()
    at = _page("collateral", FIN1, assignee="FINCO2")
    assert not at.exception
    everything = shown(at)
    assert b"FINCO1" in everything
    assert b"FINCO2" not in everything and b"FINCO3" not in everything
    assert store_reads and {who for who, _ in store_reads} == {"fin1"}  # its own reads, none of the warm-up's


def test_a_failed_warm_up_is_logged_and_the_server_goes_on(dashboard_db, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(data, "_runs", unreachable)
    with caplog.at_level(logging.WARNING, logger="dashboard.data"):
        data.warm_in_background().join(timeout=60)
    assert any("warm-up failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("raw", "seconds"), [("", 15.0), ("2.5", 2.5), ("0", 0.0), ("soon", 15.0), ("-3", 15.0),
                                              ("nan", 15.0), ("inf", 15.0)])
def test_the_servers_wait_for_its_warm_up(monkeypatch, raw, seconds):
    from dashboard import serve

    monkeypatch.setenv(serve.ENV_WARM_UP_WAIT, raw)
    assert serve.warm_up_wait() == seconds
