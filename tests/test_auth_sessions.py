"""Staying signed in (issue 10): the session cookie's routes (dashboard/session_routes.py) and the
app's use of the cookie under streamlit.testing (AppTest).

AppTest has no browser: ``st.context.cookies`` is empty there and cannot be seeded, so the tests
put the cookie's value where the app reads it (``dashboard.auth._cookie``) and check everything
after it: a live token signs in without the form at the link's page, a dead one shows the form and
clears the cookie.  The routes are called with Starlette requests built by hand (the same objects
the server passes them).
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from dashboard_fixtures import APP, RANDOM_RUN, SESSION_KEY, shown
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from calc import sessions, users
from calc.access import Principal
from calc.store import get_engine, read_audit
from calc.store.audit import ACTION_SESSION_RESUME
from dashboard import auth, session_routes

pytest_plugins = ["dashboard_fixtures"]
TIMEOUT = 120
ADMIN = Principal("ada", "admin")
PASSWORD = "ann's long password"
HANDOVER = re.compile(rb"/bshare/session\?code=([A-Za-z0-9_-]+)")


@pytest.fixture
def store_url(own_store: str) -> str:
    """A copy of the examples' store with the admin ada and the analyst ann, as DATABASE_URL."""
    engine = get_engine(own_store)
    users.add_user(engine, ADMIN, "ada", "admin", "ada's long password")
    users.add_user(engine, ADMIN, "ann", "analyst", PASSWORD)
    engine.dispose()
    return own_store


def live_token(url: str, name: str = "ann") -> str:
    engine = get_engine(url)
    handover = sessions.start(engine, name)
    assert handover is not None
    token = sessions.redeem(engine, handover.code)
    assert token is not None
    return token


def statement_link(**params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update({"run": str(RANDOM_RUN), "month": "2016-06", **params})
    at.switch_page("screens/statement.py")
    return at.run()


# --- the app and the cookie (AppTest) --------------------------------------------------------


def test_a_live_session_cookie_opens_the_linked_page_without_the_form(store_url, monkeypatch):
    token = live_token(store_url)
    monkeypatch.setattr(auth, "_cookie", lambda: token)
    at = statement_link()
    assert not at.exception
    assert "Sign in" not in [t.value for t in at.title]
    assert at.title and at.title[0].value.startswith("Monthly Calculation")
    assert at.session_state[SESSION_KEY] == Principal("ann", "analyst")
    assert at.query_params["month"] == "2016-06"
    events = read_audit(get_engine(store_url), ADMIN, action=ACTION_SESSION_RESUME)
    assert events["actor"].tolist() == ["ann"]
    at.run()  # a rerun of the same session reads no cookie again
    assert len(read_audit(get_engine(store_url), ADMIN, action=ACTION_SESSION_RESUME)) == 1


@pytest.mark.parametrize("value", ["not a token", "revoked"])
def test_a_dead_cookie_shows_the_form_and_clears_the_cookie(store_url, monkeypatch, value):
    if value == "revoked":
        value = live_token(store_url)
        assert sessions.revoke(get_engine(store_url), token=value)
    monkeypatch.setattr(auth, "_cookie", lambda: value)
    at = statement_link()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert SESSION_KEY not in at.session_state
    assert b"/bshare/sign-out" in shown(at)


def test_a_sign_in_hands_over_a_one_time_code_and_the_sign_out_revokes_its_session(store_url):
    at = statement_link()
    assert [t.value for t in at.title] == ["Sign in"]
    assert b"/bshare/" not in shown(at)  # no cookie to clear, none to set yet
    at.text_input(key="_sign_in_name").input("ann")
    at.text_input(key="_sign_in_password").input(PASSWORD)
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert at.title[0].value.startswith("Monthly Calculation")
    [code] = HANDOVER.findall(shown(at))
    assert PASSWORD.encode() not in shown(at)
    engine = get_engine(store_url)
    token = sessions.redeem(engine, code.decode())
    assert token is not None and sessions.resume(engine, token) is not None

    [b for b in at.button if b.label == "Sign out"][0].click()
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert sessions.resume(engine, token) is None  # revoked in the store
    assert b"/bshare/sign-out" in shown(at) and not HANDOVER.search(shown(at))


# --- the routes --------------------------------------------------------------------------------


def request(path: str, query: str = "", headers: dict[str, str] | None = None, scheme: str = "http") -> Request:
    headers = {"host": "127.0.0.1:8621", **(headers or {})}
    return Request({
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "scheme": scheme, "server": ("127.0.0.1", 8621),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    })


SAME = {"sec-fetch-site": "same-origin"}


def cookie_of(response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"sec-fetch-site": "same-origin"}, True),
    ({"sec-fetch-site": "same-site"}, False),
    ({"sec-fetch-site": "cross-site"}, False),
    ({"sec-fetch-site": "none"}, False),  # typed into the address bar, or a bookmark
    ({"sec-fetch-site": "cross-site", "referer": "http://127.0.0.1:8621/"}, False),
    ({"referer": "http://127.0.0.1:8621/statement?run=2"}, True),  # no Fetch Metadata (plain http)
    ({"referer": "http://evil.example/127.0.0.1:8621"}, False),
    ({}, False),
])
def test_only_the_dashboards_own_pages_may_call_the_routes(headers, allowed):
    assert session_routes.same_origin(request("/bshare/session", headers=headers)) is allowed


def test_the_route_sets_the_httponly_cookie_once_per_code(store_url, monkeypatch):
    engine = get_engine(store_url)
    monkeypatch.setattr(session_routes, "_engine", lambda: engine)
    handover = sessions.start(engine, "ann")
    # another site's request carrying the code is refused, and the code stays unused
    refused = session_routes.exchange(request("/bshare/session", f"code={handover.code}", {"sec-fetch-site": "cross-site"}))
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    response = session_routes.exchange(request("/bshare/session", f"code={handover.code}", SAME))
    assert response.status_code == 204 and response.headers["cache-control"] == "no-store"
    morsel = cookie_of(response)[session_routes.COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"].lower() == "lax" and morsel["path"] == "/"
    assert not morsel["secure"]  # plain http
    assert int(morsel["max-age"]) == int(sessions.max_lifetime().total_seconds())
    resumed = sessions.resume(engine, morsel.value)
    assert resumed is not None and resumed.principal == Principal("ann", "analyst")
    again = session_routes.exchange(request("/bshare/session", f"code={handover.code}", SAME))
    assert again.status_code == 403 and "set-cookie" not in again.headers
    assert session_routes.exchange(request("/bshare/session", "", SAME)).status_code == 403


def test_over_https_the_cookie_is_secure(store_url, monkeypatch):
    engine = get_engine(store_url)
    monkeypatch.setattr(session_routes, "_engine", lambda: engine)
    for scheme, headers in (("https", SAME), ("http", {**SAME, "x-forwarded-proto": "https"})):
        handover = sessions.start(engine, "ann")
        response = session_routes.exchange(request("/bshare/session", f"code={handover.code}", headers, scheme))
        assert cookie_of(response)[session_routes.COOKIE_NAME]["secure"]


def test_the_sign_out_route_clears_the_cookie_and_leaves_the_store_to_the_app(store_url, monkeypatch):
    """The route only clears the cookie: the app's Sign out revokes the session by its id (tested
    above); a stale clearing request must not end a session the browser was given since."""
    engine = get_engine(store_url)
    monkeypatch.setattr(session_routes, "_engine", lambda: engine)
    token = live_token(store_url)
    cookie = {"cookie": f"{session_routes.COOKIE_NAME}={token}"}
    refused = session_routes.sign_out(request("/bshare/sign-out", headers={"sec-fetch-site": "cross-site", **cookie}))
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    response = session_routes.sign_out(request("/bshare/sign-out", headers={**SAME, **cookie}))
    assert response.status_code == 204
    morsel = cookie_of(response)[session_routes.COOKIE_NAME]
    assert morsel.value in ("", '""') and int(morsel["max-age"]) == 0
    assert morsel["httponly"] and morsel["path"] == "/"
    assert sessions.resume(engine, token) is not None


def test_the_server_serves_the_app_and_the_routes():
    """``streamlit run dashboard/serve.py`` finds an st.App there (not imported here: an st.App pins
    process-wide settings), and the routes it is given are the two of the cookie."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(APP.with_name("serve.py"))
    assert found.is_asgi_app and found.import_string == "serve:app"
    assert {r.path for r in session_routes.routes()} == {session_routes.SESSION_PATH, session_routes.SIGN_OUT_PATH}
