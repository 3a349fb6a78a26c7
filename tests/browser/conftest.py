"""Browser fixtures: the dashboard served by ``streamlit run dashboard/serve.py`` (the app and the
routes of its persistent sign-in) on a free port, and headless Chromium.

The server reads a temporary SQLite store of the worked examples (run 1
``hand``, run 2 ``random-1095``).  Chromium is Debian's (``/usr/bin/chromium``,
installed by scripts/ensure-services.sh); Playwright drives it through its
Python package and never downloads a browser of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard_fixtures import APP, BROWSER_USERS, add_users, build_nasty_store, build_store

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = APP.parents[1]
SERVER = APP.with_name("serve.py")  # st.App: dashboard/app.py plus the session cookie's routes
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must provide it: scripts/ensure-services.sh)")
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so that fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is not None and report.failed


def _tell_failure(request, pg, folder: Path | None = None) -> None:
    """On a failed test: what the page showed (URL, script state, text, a screenshot), and the server log's end.

    Printed at teardown, so pytest shows it under the failure ("Captured stdout teardown")."""
    if not _failed(request):
        return
    try:
        state = pg.locator('[data-testid="stApp"]').first.get_attribute("data-test-script-state", timeout=5_000)
        print(f"page URL: {pg.url}\nscript state: {state}")
        print("page text:\n" + pg.locator("body").inner_text(timeout=5_000)[:4000])
        if folder is not None:
            shot = folder / "failure.png"
            pg.screenshot(path=str(shot), full_page=True, timeout=10_000)
            print(f"screenshot: {shot}")
    except Exception as err:  # the page may be gone: say so and go on
        print(f"the page could not be read: {err!r}")


def _tell_log(request, folder: Path) -> None:
    if not _failed(request):
        return
    for log_path in sorted(folder.glob("streamlit-*.log")):
        print(f"--- {log_path.name} (last 4000 characters)\n{log_path.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def app_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a SQLite store of the worked examples and the users of BROWSER_USERS,
    built once per session (per xdist worker)."""
    url = build_store(tmp_path_factory.mktemp("browser") / "store.db").url
    add_users(url)
    return url


def sign_in(page, name: str = "tester") -> None:
    """Fill in and send the sign-in form that a page opened in a new session shows first; return once
    the rerun it starts has drawn the sidebar's sign-out and finished (on a loaded machine that rerun
    may begin after a plain wait for an idle script has already returned)."""
    page.get_by_label("User name", exact=True).fill(name)
    page.locator("input[type=password]").fill(BROWSER_USERS[name][2])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('[data-testid="stSidebar"] button:has-text("Sign out")', timeout=90_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=90_000)


@pytest.fixture
def signer():
    """:func:`sign_in`, for a page a test opens itself (``browser.new_context().new_page()``)."""
    return sign_in


def _signing_in(pg, name: str = "tester"):
    """``pg.goto`` that signs in as ``name`` when the new session shows the sign-in form (every
    ``goto`` opens a new Streamlit session); the page asked for opens after it, link and all."""
    plain_goto = pg.goto

    def goto(url: str, **kwargs):
        response = plain_goto(url, **kwargs)
        pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=90_000)
        if pg.get_by_role("button", name="Sign in").count():
            sign_in(pg, name)
        return response

    pg.goto = goto
    return pg


@contextmanager
def serve(store_url: str, folder: Path, script: Path = SERVER) -> Iterator[str]:
    """``streamlit run dashboard/serve.py`` (or ``script``) on a free port of 127.0.0.1 reading ``store_url``;
    killed on exit."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": store_url, "PYTHONUNBUFFERED": "1"}
    log_path = folder / f"streamlit-{port}.log"
    log = open(log_path, "w")  # closed after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {START_TIMEOUT_S}s")
            time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def app_url(app_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served for the whole session (every test's browser page talks to it)."""
    with serve(app_store, tmp_path_factory.mktemp("server")) as url:
        yield url


@pytest.fixture
def fresh_app_url(app_store: str, tmp_path: Path, request) -> Iterator[str]:
    """A server of its own that no session has visited yet (for links opened first on a page URL)."""
    with serve(app_store, tmp_path) as url:
        yield url
    _tell_log(request, tmp_path)


@pytest.fixture
def own_store_url(app_store: str, tmp_path: Path) -> str:
    """A copy of the examples' store that a test may load feeds into."""
    path = tmp_path / "own.db"
    shutil.copy(app_store.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def own_app_url(own_store_url: str, tmp_path: Path, request) -> Iterator[str]:
    """A server of its own on a store of its own (a test may load another run into it)."""
    with serve(own_store_url, tmp_path) as url:
        yield url
    _tell_log(request, tmp_path)


@pytest.fixture(scope="session")
def nasty_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a store whose names hold Markdown and HTML (``dashboard_fixtures.NASTY``)."""
    folder = tmp_path_factory.mktemp("nasty-browser")
    store_url = build_nasty_store(folder)
    add_users(store_url)
    with serve(store_url, folder) as url:
        yield url


@pytest.fixture
def nasty_page(browser, nasty_app_url: str, request, tmp_path: Path) -> Iterator[object]:
    """A browser page on the server of :func:`nasty_app_url`."""
    with _open_page(browser, nasty_app_url, request, tmp_path) as pg:
        yield pg


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (sync API)."""
    _need(Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None, f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def _open_page(browser, base_url: str, request=None, folder: Path | None = None) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, base_url=base_url)
    pg = _signing_in(context.new_page())
    pg.set_default_timeout(60_000)
    try:
        yield pg
        if request is not None:
            _tell_failure(request, pg, folder)
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url: str, request, tmp_path: Path) -> Iterator[object]:
    """A fresh browser page (its own Streamlit session), with downloads allowed."""
    with _open_page(browser, app_url, request, tmp_path) as pg:
        yield pg


@pytest.fixture
def own_page(browser, own_app_url: str, request, tmp_path: Path) -> Iterator[object]:
    """A browser page on a server with a store of its own."""
    with _open_page(browser, own_app_url, request, tmp_path) as pg:
        yield pg


@pytest.fixture
def fresh_page(browser, fresh_app_url: str, request, tmp_path: Path) -> Iterator[object]:
    """A browser page on a server that has served no one yet."""
    with _open_page(browser, fresh_app_url, request, tmp_path) as pg:
        yield pg
