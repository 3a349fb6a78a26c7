"""How long the dashboard takes in a real browser: links opened cold, and each interaction of a session.

Usage::

    DATABASE_URL=sqlite:///data/bshare.db BENCH_PASSWORD=... .venv/bin/python bench/bench_browser.py
        [--repeat N] [--run RUN_ID] [--user NAME] [--screenshots DIR]
        [--only links interactions floor screenshots]

The dashboard needs a sign-in: the benchmark signs in as ``--user`` (default ``bench``) with the
password in ``BENCH_PASSWORD``; add that user once with
``python -m calc user add bench --role analyst --password-stdin``.

It serves ``dashboard/serve.py`` with ``streamlit run`` on a free port (reading
the store of ``DATABASE_URL``, by default the one ``make run`` fills with the
medium sample) and drives Debian's Chromium (``/usr/bin/chromium``, headless)
with Playwright.  A time runs from the navigation or the click until the page
has settled: the script has stopped running (``data-test-script-state`` of
``stApp`` is ``notRunning``), no element is left stale and none is still a
skeleton waiting for its code.

- **cold link**: a link opened first thing on a server just started (every
  cache empty), for each page;
- **link, new session**: the same link in a new browser context (caches warm);

  a new session first shows the sign-in form at the link's URL; each link is
  timed in two parts: the form (navigation until the form has settled) and the
  page (the click on "Sign in" until the linked page has settled: the password
  check, 0.45-0.96 s of argon2, and the page's whole first run and drawing);
- **signed in before** (issue 10): the link opened in a browser that signed in
  earlier and holds the session cookie (a context with that cookie: no form),
  the navigation until the linked page has settled; first on a server of its own
  just started (cold), then again in a new context (caches warm).  The cookie is
  made once, by a sign-in on a server of its own; the store keeps the session,
  so it works on every server reading that store.  (A server that does not set
  the cookie, ``streamlit run dashboard/app.py``, gets no column.)  Each of
  these times is split in three **phases**, seen from the browser through the
  app's one websocket: *boot*, the navigation until the browser sends its first
  websocket message (Streamlit's frontend loaded and started); *server*, from
  then until the last message received before the page settled (the script's
  runs); *drawing*, from then until the page settled (plotly's code fetched and
  evaluated, charts and tables drawn).  Each column is its own median, so the
  phases need not add up to the total;
- **the same browser, a new tab**: a browser that holds the cookie and has shown the
  dashboard once (one context: its HTTP cache and compiled code kept) opens each link in
  a new tab on a warm server, as a link clicked in an e-mail or a chat would;
- **Streamlit floor**: what Streamlit itself costs on this machine, timed and
  split the same way, beside the links: a bare page with one plotly bar chart
  (24 bars) and one 10-row ``st.dataframe``, and a bare page with neither,
  written to a temporary folder as a plain script (no ``st.App``) and served
  with ``streamlit run`` (the flags of ``serve()``, from the project root, so
  with its ``.streamlit/config.toml``);
  each on a server of its own just started, opened in a new context, then in
  another new context (warm server).  It needs neither the store nor a sign-in
  (``--only floor``);
- **interactions** within one session: the month, the party, the portfolio
  picked on Omnibus, the account, Omnibus's views and Collateral's sections (one
  drawn at a time), the assignee, the period, a page change through the navigation.

With ``--screenshots DIR`` it also writes full-page PNGs of every page in the
light and the dark theme at 1280 and 1440 px wide.  It prints the figures and
asserts nothing (the targets: under 1 s an interaction, under 3 s a cold link;
a page with charts cannot open faster than the floor's chart + table page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser"), str(ROOT / "tests")]

from conftest import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402  (tests/browser/conftest.py)

from calc.access import Principal  # noqa: E402
from calc.users import SIGN_IN_REFUSED  # noqa: E402

ANALYST = Principal("bench", "analyst")
ENV_PASSWORD = "BENCH_PASSWORD"
USER = {"name": "bench", "password": ""}  # set by main(): who the browser signs in as

SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Counts the script runs that end, whatever their length (a short one could be missed by looking).
COUNT_RUNS = """
window.__runsDone = 0;
new MutationObserver((changes) => {
  for (const c of changes) {
    if (c.target.getAttribute('data-test-script-state') === 'notRunning') window.__runsDone += 1;
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
# Settled: the run is over, nothing is stale, no element still waits for its code (a skeleton).
QUIET = """(n) => window.__runsDone > n
  && document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
  && !document.querySelector('[data-stale="true"]')
  && !document.querySelector('[data-testid="stSkeleton"]')"""


class Phases(NamedTuple):
    """A link's seconds from the navigation until the page settled, split by the app's websocket."""

    total: float
    boot: float  # until the browser sent its first websocket message (the frontend loaded and started)
    server: float  # from then until the last message received before the page settled (the script's runs)
    drawing: float  # from then until the page settled (charts and tables drawn)

    @classmethod
    def split(cls, total: float, frames: list[tuple[float, str]]) -> Phases:
        """``frames``: (seconds since the navigation, "sent" or "recv") of each websocket frame."""
        sent = [t for t, kind in frames if kind == "sent" and t <= total]
        received = [t for t, kind in frames if kind == "recv" and t <= total]
        if not sent or not received:
            return cls(total, float("nan"), float("nan"), float("nan"))
        return cls(total, sent[0], received[-1] - sent[0], total - received[-1])

    def cells(self) -> str:
        """The four figures as a table's cells (under :func:`_phase_header`)."""
        return f"{self.total:>12.2f} {self.boot:>6.2f} {self.server:>7.2f} {self.drawing:>8.2f}"

    @classmethod
    def median(cls, runs: list[Phases]) -> Phases:
        """Each column's own median (so the phases need not add up to the total)."""
        return cls(*(statistics.median(column) for column in zip(*runs, strict=True)))


def settle(page, started: float | None = None, before: int = 0) -> float:
    """Wait until a script run that ended after ``before`` runs left the page settled; seconds since ``started``."""
    page.wait_for_function(QUIET, arg=before, timeout=120_000, polling=20)
    return time.perf_counter() - started if started is not None else 0.0


def timed(page, action: Callable[[], None]) -> float:
    before = page.evaluate("() => window.__runsDone || 0")
    start = time.perf_counter()
    action()
    return settle(page, start, before)


def new_page(browser, url: str, **context):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=url, **context)
    ctx.add_init_script(COUNT_RUNS)
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    return ctx, page


def sign_in(page) -> float:
    """Fill in the sign-in form (not timed), click "Sign in" (timed) until the page it opens has settled."""
    page.get_by_label("User name", exact=True).fill(USER["name"])
    page.locator("input[type=password]").fill(USER["password"])
    start = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    signed = page.locator('[data-testid="stSidebar"] button:has-text("Sign out")')
    refused = page.get_by_text(SIGN_IN_REFUSED)
    signed.or_(refused).first.wait_for(timeout=120_000)
    if not signed.count() and refused.count():
        raise SystemExit(f"signing in as {USER['name']!r} was refused: {refused.first.inner_text()!r} (add the user "
                         f"with `python -m calc user add {USER['name']} --role analyst --password-stdin` and give its "
                         f"password in {ENV_PASSWORD})")
    signed.wait_for(timeout=120_000)
    page.wait_for_function(QUIET, arg=0, timeout=120_000, polling=20)
    return time.perf_counter() - start


def open_link(page, link: str) -> tuple[float, float]:
    """Open ``link`` in a new session: (seconds until the sign-in form settled, seconds from the click
    on "Sign in" until the linked page settled)."""
    start = time.perf_counter()
    page.goto(link)
    form = settle(page, start, 0)  # a new document: its count of script runs starts at 0
    if not page.get_by_role("button", name="Sign in").count():
        return form, 0.0  # no sign-in asked (cannot happen with today's app; kept for older stores)
    return form, sign_in(page)


def session_state(browser, url: str, link: str) -> dict | None:
    """The storage state (cookies) of a browser context signed in through the form at ``link``; None
    when the server sets no session cookie (``dashboard/serve.py`` does; ``dashboard/app.py`` alone not)."""
    from dashboard.session_routes import COOKIE_NAME

    ctx, page = new_page(browser, url)
    try:
        open_link(page, link)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(c["name"] == COOKIE_NAME for c in ctx.cookies()):
                return ctx.storage_state()
            time.sleep(0.2)
        return None
    finally:
        ctx.close()


def open_signed_in(browser, url: str, link: str, state: dict) -> Phases:
    """Open ``link`` in a new context holding the session cookie of ``state``: seconds from the
    navigation until the linked page has settled, in phases (a sign-in form instead is an error)."""
    ctx, page = new_page(browser, url, storage_state=state)
    try:
        phases = open_timed(page, link)
        if page.get_by_role("button", name="Sign in").count():
            raise SystemExit(f"{link}: the session cookie did not sign in (the sign-in form is shown)")
        return phases
    finally:
        ctx.close()


def open_in_new_tabs(browser, url: str, links: dict[str, str], state: dict) -> dict[str, Phases]:
    """A browser that signed in before and has the dashboard open (one context holding the cookie,
    its first page shown, so its cache and compiled code are kept) opens each link in a new tab:
    seconds from the navigation until the tab's page settled, in phases."""
    ctx, first = new_page(browser, url, storage_state=state)
    try:
        open_timed(first, next(iter(links.values())))
        out = {}
        for name, link in links.items():
            tab = ctx.new_page()
            tab.set_default_timeout(120_000)
            out[name] = open_timed(tab, link)
            tab.close()
        return out
    finally:
        ctx.close()


def open_cold_browser(browser, url: str, link: str) -> Phases:
    """Open ``link`` in a new context (nothing cached in the browser): seconds until it settled, in phases."""
    ctx, page = new_page(browser, url)
    try:
        return open_timed(page, link)
    finally:
        ctx.close()


def open_timed(page, link: str) -> Phases:
    """Open ``link`` (a new document): seconds from the navigation until the page settled, in phases."""
    frames: list[tuple[float, str]] = []

    def on_websocket(ws) -> None:
        ws.on("framesent", lambda _: frames.append((time.perf_counter() - start, "sent")))
        ws.on("framereceived", lambda _: frames.append((time.perf_counter() - start, "recv")))

    page.on("websocket", on_websocket)
    start = time.perf_counter()
    page.goto(link)
    total = settle(page, start, 0)  # a new document: its count of script runs starts at 0
    page.remove_listener("websocket", on_websocket)
    return Phases.split(total, list(frames))


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).first.click()


def _store_facts(run_id: int | None) -> tuple[int, str, str, str, str]:
    import pandas as pd

    from calc import store

    engine = store.get_engine()
    runs = store.list_runs(engine, ANALYST)
    if runs.empty:
        raise SystemExit("The store holds no calculation run: run `make run` (or `python -m calc load FEED`) first.")
    run_id = run_id or int(runs["run_id"].max())
    info = runs[runs["run_id"] == run_id].iloc[0]
    last = pd.Timestamp(info["last_month"])
    accounts = store.read_table(engine, ANALYST, "omnibus_accounts", run_id, month_end=last)
    counts = accounts.groupby("portfolio_id")["account_id"].nunique().sort_values(ascending=False)
    portfolio = str(counts.index[0])
    assignments = store.read_table(engine, ANALYST, "assignments", run_id)
    assignee = sorted(set(assignments["assignee"]))[-1]
    month = f"{last - pd.DateOffset(months=6):%Y-%m}"
    print(f"store {store.resolve_url()} · run {run_id} · {info['source']} · {info['months']} months · "
          f"{info['payments_rows']:,} payment rows · {info['omnibus_rows']:,} omnibus rows")
    return run_id, portfolio, assignee, month, str(info["source"])


FLOOR_APP = """\
import streamlit as st

st.title("Streamlit floor")
if st.query_params.get("page") != "bare":
    import pandas as pd
    import plotly.graph_objects as go

    months = pd.date_range("2025-01-31", periods=24, freq="ME")
    st.plotly_chart(go.Figure(go.Bar(x=months, y=list(range(24)))))
    st.dataframe(pd.DataFrame({"month": months[:10], "value": range(10)}))
"""
FLOOR = {"Streamlit floor: chart + table": "/", "Streamlit floor: bare page": "/?page=bare"}
PHASES_NOTE = ("boot: the navigation until the browser sent its first websocket message; server: until the last "
               "message received; drawing: until the page settled; each column is its own median")


def floor(browser, folder: Path, repeat: int) -> dict[str, list[tuple[Phases, Phases]]]:
    """Streamlit's own floor: each page of ``FLOOR`` on a server of its own just started (the cold
    server), then in another new context on that server (the warm server); ``repeat`` times."""
    folder.mkdir(exist_ok=True)
    script = folder / "floor.py"
    script.write_text(FLOOR_APP)
    runs: dict[str, list[tuple[Phases, Phases]]] = {name: [] for name in FLOOR}
    for _ in range(repeat):
        for name, link in FLOOR.items():
            with serve("sqlite://", folder, script) as url:  # the floor's page reads no store
                runs[name].append((open_cold_browser(browser, url, link), open_cold_browser(browser, url, link)))
    return runs


def _phase_header(first: str, *totals: str) -> str:
    """A header over :meth:`Phases.cells`: one group of columns per name in ``totals``."""
    return f"{first:<30} " + " ".join(f"{total:>12} {'boot':>6} {'server':>7} {'drawing':>8}" for total in totals)


def _phase_row(name: str, runs: list[tuple[Phases, Phases]]) -> str:
    cells = " ".join(Phases.median(list(column)).cells() for column in zip(*runs, strict=True))
    return f"{name:<30} {cells}"


def bench(repeat: int, run_id: int | None, screenshots: Path | None, only: tuple[str, ...]) -> None:
    from playwright.sync_api import sync_playwright

    from calc.store import resolve_url

    app = bool(set(only) - {"floor"}) or screenshots is not None  # only the floor needs no store
    run_id, portfolio, assignee, month, _ = _store_facts(run_id) if app else (0, "", "", "", "")
    links = {
        "Revenue": f"/?run={run_id}",
        "Shares over time": f"/shares?run={run_id}",
        "Collateral": f"/collateral?run={run_id}&assignee={assignee.replace(' ', '+')}",
        "Omnibus (a portfolio)": f"/omnibus?run={run_id}&portfolio={portfolio}",
        "Monthly Calculation": f"/statement?run={run_id}",
        "Compare runs": f"/compare?run={run_id}",
        "Data": f"/data?run={run_id}",
    }
    cold: dict[str, list[tuple[float, float]]] = {k: [] for k in links}
    warm: dict[str, list[tuple[float, float]]] = {k: [] for k in links}
    before: dict[str, list[tuple[Phases, Phases]]] = {k: [] for k in links}  # signed in before: cold, warm
    tabs: dict[str, list[Phases]] = {}  # the same browser, a new tab
    steps: dict[str, list[float]] = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        floors = floor(browser, Path(tmp) / "floor", repeat) if "floor" in only else {}
        state = None
        if "links" in only:
            with serve(resolve_url(), Path(tmp)) as url:  # the sign-in that makes the cookie
                state = session_state(browser, url, f"/data?run={run_id}")
        for _ in range(repeat):
            for name, link in (links.items() if "links" in only else ()):
                with serve(resolve_url(), Path(tmp)) as url:  # a server of its own: every cache cold
                    ctx, page = new_page(browser, url)
                    cold[name].append(open_link(page, link))
                    ctx.close()
                    ctx, page = new_page(browser, url)
                    warm[name].append(open_link(page, link))
                    ctx.close()
                if state is not None:
                    with serve(resolve_url(), Path(tmp)) as url:  # again cold, for the signed-in browser
                        before[name].append((open_signed_in(browser, url, link, state),
                                             open_signed_in(browser, url, link, state)))
            if state is not None and "links" in only:
                with serve(resolve_url(), Path(tmp)) as url:
                    for name, seconds in open_in_new_tabs(browser, url, links, state).items():
                        tabs.setdefault(name, []).append(seconds)
            if "interactions" not in only and screenshots is None:
                continue
            with serve(resolve_url(), Path(tmp)) as url:
                ctx, page = new_page(browser, url)
                # warm the caches the way a user's first minute would, then time each step
                for link in links.values() if "interactions" in only else ():
                    open_link(page, link)  # every goto is a new session: signed in again
                open_link(page, f"/?run={run_id}")
                if "interactions" in only:
                    for label, seconds in _interactions(page, run_id, month, portfolio):
                        steps.setdefault(label, []).append(seconds)
                ctx.close()
                if screenshots is not None:
                    _screenshots(browser, url, links, screenshots, month, run_id, portfolio)
        browser.close()
    if "links" in only:
        print(f"\n(seconds, median of {repeat}; form: the link until the sign-in form settled; page: the click on "
              f"Sign in until the linked page settled)")
        print(f"{'link':<26} {'cold: form':>11} {'cold: page':>11} {'new session: form':>18} {'new session: page':>18}")
    for name in (links if "links" in only else ()):
        c = [statistics.median(x) for x in zip(*cold[name], strict=True)]
        w = [statistics.median(x) for x in zip(*warm[name], strict=True)]
        print(f"{name:<26} {c[0]:>11.2f} {c[1]:>11.2f} {w[0]:>18.2f} {w[1]:>18.2f}")
    if state is not None and "links" in only:
        print(f"\n(signed in before: a browser holding the session cookie opens the link; seconds from the navigation "
              f"until the linked page settled, median of {repeat}; {PHASES_NOTE}; form + page is the same link "
              f"opened cold without the cookie, from the table above; the Streamlit floor: bare Streamlit pages "
              f"opened the same way, no sign-in)")
        print(f"{_phase_header('link', 'cold server', 'warm server')} {'cold: form + page':>18}")
        for name in links:
            c = [statistics.median(x) for x in zip(*cold[name], strict=True)]
            print(f"{_phase_row(name, before[name])} {c[0] + c[1]:>18.2f}")
    elif "links" in only:
        print("\n(no session cookie was set: the server serves no /bshare/session; no signed-in-before column)")
    if floors and (state is None or "links" not in only):
        print(f"\n(the Streamlit floor: bare Streamlit pages, each opened in a new context; seconds from the navigation "
              f"until the page settled, median of {repeat}; {PHASES_NOTE})")
        print(_phase_header("page", "cold server", "warm server"))
    for name, runs in floors.items():
        print(_phase_row(name, runs))
    if tabs:
        print(f"\n(the same browser, a new tab: a browser that holds the cookie and has shown the dashboard "
              f"(its cache and compiled code kept) opens each link in a new tab, as a link clicked in an e-mail "
              f"would; warm server; seconds, median of {repeat}; {PHASES_NOTE})")
        print(_phase_header("link", "total"))
        for name, runs in tabs.items():
            print(f"{name:<30} {Phases.median(runs).cells()}")
    if "interactions" in only:
        print(f"\n{'interaction':<40} {'seconds':>8}")
    for label, values in steps.items():
        print(f"{label:<40} {statistics.median(values):>8.2f}")


def _interactions(page, run_id: int, month: str, portfolio: str) -> list[tuple[str, float]]:
    """Each step of a session, timed; a step the store cannot offer (one assignee, ...) is skipped."""
    import pandas as pd

    from dashboard.theme import fmt_month

    first = pd.Timestamp(f"{month}-01")

    def nav(name: str) -> Callable[[], None]:
        return lambda: page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name).click()

    def slider() -> None:
        page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
        page.keyboard.press("ArrowRight")

    def pick(label: str, option: Callable[[], str]) -> tuple[Callable[[], None], Callable[[], None]]:
        """Open the selectbox (not timed), then click the option (timed: what the user waits for)."""
        chosen: list = []

        def prepare() -> None:
            text = option()
            page.get_by_role("combobox", name=label, exact=True).click()
            chosen[:] = [page.get_by_role("option", name=text, exact=True).first]
            chosen[0].wait_for()

        return prepare, lambda: chosen[0].click()

    def nothing() -> None:
        return None

    def section(name: str) -> Callable[[], None]:
        """A click on one of Collateral's sections or Omnibus's views (a segmented control's button)."""
        return lambda: page.locator('[data-testid="stMain"]').get_by_text(name, exact=True).click()

    steps = (
        ("Revenue: another month", *pick("Month", lambda: fmt_month(first))),
        ("Revenue: a party", *pick("Party", lambda: "ADI")),
        ("Revenue: every party again", *pick("Party", lambda: "All parties")),
        ("Revenue: the period (slider key)", nothing, slider),
        ("to Omnibus (navigation)", nothing, nav("Omnibus accounts")),
        ("Omnibus: pick a portfolio", *pick("Portfolio with omnibus accounts", lambda: _portfolio_label(page, portfolio))),
        ("Omnibus: another account", *pick("Account", lambda: _other_option(page, "Account"))),
        ("Omnibus: another month", *pick("Month", lambda: fmt_month(first - pd.DateOffset(months=1)))),
        ("Omnibus: view Month by month", nothing, section("Month by month")),
        ("Omnibus: view Portfolio's accounts", nothing, section("Portfolio's accounts")),
        ("Omnibus: view Month's formulas", nothing, section("Month's formulas")),
        ("to Collateral (navigation)", nothing, nav("Collateral")),
        ("Collateral: another assignee", *pick("Assignee", lambda: _other_option(page, "Assignee"))),
        ("Collateral: section Payments", nothing, section("Payments and statement")),
        ("Collateral: section CDSC carried", nothing, section("CDSC carried")),
        ("Collateral: section Portions", nothing, section("Portions and payback")),
        ("to Monthly Calculation (navigation)", nothing, nav("Monthly Calculation")),
        ("Monthly Calculation: a party", *pick("Party", lambda: "LFD")),
        ("to Revenue (navigation)", nothing, nav("Revenue")),
    )
    out = []
    for label, prepare, action in steps:
        try:
            prepare()
            out.append((label, timed(page, action)))
        except Exception as err:
            print(f"  ({label}: skipped, {type(err).__name__}: {str(err).splitlines()[0][:80]})")
            page.keyboard.press("Escape")
            open_link(page, f"/?run={run_id}&portfolio=all")
    return out


def _portfolio_label(page, portfolio: str) -> str:
    page.get_by_role("combobox", name="Portfolio with omnibus accounts", exact=True).click()
    option = page.get_by_role("option").filter(has_text=portfolio).first
    text = option.inner_text()
    page.keyboard.press("Escape")
    return text


def _other_option(page, label: str) -> str:
    """The text of an option of the selectbox ``label`` other than the one chosen."""
    box = page.get_by_role("combobox", name=label, exact=True)
    current = box.input_value()
    box.click()
    texts = [t for t in page.get_by_role("option").all_inner_texts() if t and t != current]
    page.keyboard.press("Escape")
    return texts[0]


def _screenshots(browser, url: str, links: dict[str, str], out: Path, month: str, run_id: int, portfolio: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shots = dict(links)
    shots["Revenue ADI"] = f"/?run={run_id}&party=ADI&month={month}"
    shots["Omnibus account"] = f"/omnibus?run={run_id}&portfolio={portfolio}&month={month}"
    shots["Monthly Calculation printable"] = f"/statement?run={run_id}&month={month}"
    for scheme in ("light", "dark"):
        for width in (1280, 1440):
            # Streamlit scrolls its main area, not the document: a tall window shows the whole page.
            ctx = browser.new_context(viewport={"width": width, "height": 3600}, base_url=url, color_scheme=scheme)
            ctx.add_init_script(COUNT_RUNS)
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            for name, link in shots.items():
                open_link(page, link)
                if name.endswith("printable"):
                    timed(page, lambda page=page: page.get_by_text("Printable page").click())
                time.sleep(1.0)  # charts draw after the script
                slug = name.lower().replace(" ", "-").replace("(", "").replace(")", "")
                page.screenshot(path=str(out / f"{slug}-{scheme}-{width}.png"), full_page=True)
            ctx.close()
    print(f"screenshots in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="measure N times (median)")
    parser.add_argument("--run", type=int, default=None, help="calculation run (default: the newest)")
    parser.add_argument("--user", default="bench", help=f"sign in as this user (its password in {ENV_PASSWORD})")
    parser.add_argument("--screenshots", type=Path, default=None, help="write full-page PNGs into this folder")
    parser.add_argument("--only", nargs="+", choices=["links", "interactions", "screenshots", "floor"],
                        default=["links", "interactions", "floor"],
                        help="measure only these")
    args = parser.parse_args()
    USER.update(name=args.user, password=os.environ.get(ENV_PASSWORD, ""))
    if not USER["password"] and (set(args.only) - {"floor"} or args.screenshots is not None):
        parser.error(f"give the password of {args.user!r} in {ENV_PASSWORD} (add the user with "
                     f"`python -m calc user add {args.user} --role analyst --password-stdin`)")
    bench(args.repeat, args.run, args.screenshots, tuple(args.only))


if __name__ == "__main__":
    main()
