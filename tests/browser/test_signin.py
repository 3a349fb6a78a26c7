"""Staying signed in (issue 10), in headless Chromium against ``streamlit run dashboard/serve.py``.

A sign-in at a link's URL opens that page; the browser then holds the HttpOnly session cookie,
so a reload stays signed in at the same URL and a copied link opens in a new page of the same
browser without the form; after "Sign out" the cookie is gone, and a reload (or the other page's
reload, whose token was revoked) shows the form again.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlparse

import pytest
from test_flows import RANDOM, no_exception, settle

from dashboard.session_routes import COOKIE_NAME

pytestmark = pytest.mark.browser

STATEMENT = f"/statement?run={RANDOM}&month=2016-06&party=ADI"
OMNIBUS = f"/omnibus?run={RANDOM}&portfolio=P1&month=2016-08&account=AC012"


def session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == COOKIE_NAME]


def wait_for_cookie(context, present: bool, timeout_s: float = 60.0) -> list[dict]:
    """The session cookies once there are some (``present``) or none; the page sets or clears them
    through a request of its own, a moment after the run that asked for it."""
    deadline = time.monotonic() + timeout_s
    while (bool(session_cookies(context)) != present) and time.monotonic() < deadline:
        time.sleep(0.2)
    cookies = session_cookies(context)
    assert bool(cookies) == present, cookies
    return cookies


def shows_the_form(page) -> bool:
    return page.get_by_role("button", name="Sign in").count() == 1 and page.get_by_label("User name").count() == 1


def signed_in_at(page, path: str, query: dict[str, str], title: str) -> None:
    """The page ``path`` with ``query`` in the address bar, signed in, and no form."""
    assert not shows_the_form(page)
    assert page.locator('[data-testid="stSidebar"] button:has-text("Sign out")').count() == 1
    url = urlparse(page.url)
    assert url.path == path
    assert query.items() <= dict(parse_qsl(url.query)).items(), page.url
    assert page.locator("h1").first.inner_text().startswith(title)
    no_exception(page)


def test_a_sign_in_survives_a_reload_and_a_new_tab_until_the_sign_out(browser, app_url, signer):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=app_url)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(STATEMENT)
        settle(page)
        assert shows_the_form(page) and not session_cookies(context)
        signer(page)
        statement = {"run": str(RANDOM), "month": "2016-06", "party": "ADI"}
        signed_in_at(page, "/statement", statement, "Monthly Calculation")

        [cookie] = wait_for_cookie(context, present=True)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
        assert COOKIE_NAME not in page.evaluate("document.cookie")  # no script of the page reads it

        page.reload()
        settle(page)
        signed_in_at(page, "/statement", statement, "Monthly Calculation")

        other = context.new_page()  # a copied link, opened in another tab of the same browser
        other.set_default_timeout(60_000)
        other.goto(OMNIBUS)
        settle(other)
        signed_in_at(other, "/omnibus", {"portfolio": "P1", "month": "2016-08", "account": "AC012"}, "Omnibus")
        assert other.get_by_text("AC012 in P1, August 2016").count() == 1

        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign in").wait_for()
        wait_for_cookie(context, present=False)
        page.reload()
        settle(page)
        assert shows_the_form(page)
        other.reload()  # its session was the same one: revoked, whatever a cookie still says
        settle(other)
        assert shows_the_form(other)
    finally:
        context.close()


def test_a_stolen_cookie_of_a_signed_out_session_signs_in_nothing(browser, app_url, signer):
    """The token is revoked in the store at the sign-out: a copy of the cookie made before is dead."""
    context = browser.new_context(base_url=app_url)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto("/data")
        settle(page)
        signer(page)
        [cookie] = wait_for_cookie(context, present=True)
        page.get_by_role("button", name="Sign out").click()
        wait_for_cookie(context, present=False)
    finally:
        context.close()
    thief = browser.new_context(base_url=app_url)
    try:
        thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
        page = thief.new_page()
        page.set_default_timeout(60_000)
        page.goto("/data")
        settle(page)
        assert shows_the_form(page)
    finally:
        thief.close()
