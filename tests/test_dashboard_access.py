"""Sign-in and what a signed-in assignee can see, under streamlit.testing (AppTest).

The store is a copy of the dashboard tests' store (``hand`` run 1, ``random-1095`` run 2,
whose assignees are FINCO1, FINCO2 and FINCO3) with three users: the admin ``ada``, the
analyst ``ann`` and ``fin1``, bound to FINCO1.  A session that has not signed in sees the
sign-in form at every URL; ``fin1`` sees its own collateral and never the name or a figure
of FINCO2 or FINCO3: not on any page, in no table, no download, whatever the link says.
"""

from __future__ import annotations

import pytest
from dashboard_fixtures import (
    APP,
    RANDOM_RUN,
    SESSION_KEY,
    shown,
    signed_in,
)
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from calc import users
from calc.access import Principal
from calc.store import get_engine, read_audit
from calc.store.audit import ACTION_SIGN_IN, ACTION_SIGN_IN_FAILED

pytest_plugins = ["dashboard_fixtures"]
TIMEOUT = 120
ADMIN = Principal("ada", "admin")
FIN1 = Principal("fin1", "assignee", "FINCO1")
PASSWORDS = {"ada": "ada's long password", "ann": "ann's long password", "fin1": "fin1's long password"}
OTHERS = ("FINCO2", "FINCO3")  # the other assignees of run 2
COLLATERAL_SECTIONS = ["portions", "payments", "portfolios", "runoff", "cdsc"]  # its segmented control's options
SCREENS = ("revenue", "shares", "collateral", "scenarios", "omnibus", "statement", "compare", "data")


@pytest.fixture
def user_store(own_store: str) -> str:
    """A copy of the examples' store with the users ada (admin), ann (analyst), fin1 (FINCO1)."""
    engine = get_engine(own_store)
    users.add_user(engine, ADMIN, "ada", "admin", PASSWORDS["ada"])
    users.add_user(engine, ADMIN, "ann", "analyst", PASSWORDS["ann"])
    users.add_user(engine, ADMIN, "fin1", "assignee", PASSWORDS["fin1"], assignee="FINCO1")
    engine.dispose()
    return own_store


def app(page: str | None = None, principal: Principal | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if principal is not None:
        signed_in(at, principal)
    at.query_params.update(params)
    if page is not None:
        at.switch_page(f"screens/{page}.py")
    return at.run()


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="_sign_in_name").input(name)
    at.text_input(key="_sign_in_password").input(password)
    [b for b in at.button if b.label == "Sign in"][0].click()
    return at.run()


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


# --- signing in ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [None, "collateral", "data"])
def test_every_url_asks_for_a_sign_in_first(user_store, page):
    at = app(page, run=str(RANDOM_RUN), assignee="FINCO2")
    assert not at.exception
    assert titles(at) == ["Sign in"]
    assert not at.dataframe and not at.metric
    assert b"FINCO" not in shown(at)


def test_a_wrong_password_is_refused(user_store):
    at = sign_in(app(), "ada", "not the password")
    assert titles(at) == ["Sign in"]
    assert [e.value for e in at.error] == [users.SIGN_IN_REFUSED]
    assert SESSION_KEY not in at.session_state
    at = sign_in(app(), "nobody", "not the password")  # an unknown name reads the same
    assert [e.value for e in at.error] == [users.SIGN_IN_REFUSED]


def test_lock_out_refuses_even_the_right_password(user_store):
    at = app()
    for _ in range(users.MAX_FAILED_SIGN_INS):
        at = sign_in(at, "ann", "wrong password")
    at = sign_in(at, "ann", PASSWORDS["ann"])
    assert titles(at) == ["Sign in"] and [e.value for e in at.error] == [users.SIGN_IN_REFUSED]
    events = read_audit(get_engine(user_store), ADMIN)
    assert (events["action"] == ACTION_SIGN_IN_FAILED).sum() == users.MAX_FAILED_SIGN_INS + 1
    assert "locked" in events["detail"].iloc[0]


def test_a_sign_in_opens_the_app_and_a_sign_out_closes_it(user_store):
    at = sign_in(app(), "ann", PASSWORDS["ann"])
    assert not at.exception and not at.error
    assert at.session_state[SESSION_KEY] == Principal("ann", "analyst")
    assert titles(at) == ["Fee revenue"]
    assert read_audit(get_engine(user_store), ADMIN)["action"].iloc[0] == ACTION_SIGN_IN
    [b for b in at.sidebar.button if b.label == "Sign out"][0].click()
    at.run()
    assert titles(at) == ["Sign in"]
    assert SESSION_KEY not in at.session_state


def test_loading_and_the_audit_trail_are_for_an_admin(user_store):
    at = app("data", Principal("ann", "analyst"))
    assert titles(at) == ["Data"] and not at.get("file_uploader")
    assert any("for an admin" in i.value for i in at.info)
    at = app("data", ADMIN)
    assert at.get("file_uploader")
    assert "Audit trail" in [s.value for s in at.subheader]


# --- an assignee ------------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch) -> list[bytes]:
    """The bytes of every download button drawn (deferred ones produced at once)."""
    got: list[bytes] = []
    original = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):
        value = data() if callable(data) else data
        got.append(value.encode() if isinstance(value, str) else bytes(value))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    import streamlit

    monkeypatch.setattr(streamlit, "download_button", lambda *a, **k: record(streamlit._main, *a, **k))
    return got


def test_an_assignee_signs_in_onto_its_own_collateral(user_store):
    at = sign_in(app(), "fin1", PASSWORDS["fin1"])
    assert not at.exception and not at.error
    assert titles(at) == ["Collateral"]
    assert at.selectbox(key="assignee").options == ["FINCO1"] and at.selectbox(key="assignee").disabled
    assert at.selectbox(key="party").options == ["FINCO1"]


LINKS = [
    {"assignee": "FINCO2"},
    {"party": "FINCO3"},
    {"assignee": "FINCO3", "party": "FINCO2", "month": "1999-01"},
    {"run": "99", "assignee": "FINCO2"},
    {"portfolio": "P9", "assignee": "FINCO2"},
]


@pytest.mark.parametrize("page", SCREENS)
@pytest.mark.parametrize("link", LINKS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_an_assignee_never_sees_another_assignee(user_store, downloads, page, link):
    at = app(page, FIN1, **({"run": str(RANDOM_RUN)} | link))
    assert not at.exception, [e.value for e in at.exception]
    everything = shown(at)
    if page == "collateral":  # one section at a time: every section is drawn and checked
        for section in COLLATERAL_SECTIONS[1:]:
            at.segmented_control(key="section").set_value(section).run()
            assert not at.exception, [e.value for e in at.exception]
            everything += shown(at)
        assert len(at.segmented_control(key="section").options) == len(COLLATERAL_SECTIONS)  # none left out
    everything += b"\n".join(downloads)
    for other in OTHERS:
        assert other.encode() not in everything, (page, link, other)
    if page == "collateral":
        assert titles(at) == ["Collateral"] and b"FINCO1" in everything
        assert downloads, "the statement and tables are offered for download"
        notes = " ".join(w.value for w in at.warning)
        assert "not available to you" in notes
    elif page != "revenue":  # the root is the assignee's Collateral; every other page is not its own
        assert any("not available to you" in i.value for i in at.info)
        assert not at.dataframe


def test_the_check_sees_names_where_they_are_shown(user_store, downloads):
    """The same page and link for an analyst shows the other assignees: the check above can see them."""
    at = app("collateral", Principal("ann", "analyst"), run=str(RANDOM_RUN), assignee="FINCO2")
    everything = shown(at)
    for section in COLLATERAL_SECTIONS[1:]:  # as the check above: every section
        everything += shown(at.segmented_control(key="section").set_value(section).run())
    everything += b"\n".join(downloads)
    assert all(other.encode() in everything for other in OTHERS)
    assert any(b"FINCO2" in d for d in downloads)


def test_an_assignee_link_names_only_its_own_run_and_month(user_store):
    at = app("collateral", FIN1, run=str(RANDOM_RUN), month="2016-06")
    assert not at.warning
    assert at.query_params["month"] == "2016-06" and at.query_params["run"] == str(RANDOM_RUN)
    assert titles(at) == ["Collateral"]
