"""How long the dashboard takes in a real browser: links opened cold, and each interaction of a session.

Usage::

    DATABASE_URL=sqlite:///data/bshare.db .venv/bin/python bench/bench_browser.py [--repeat N] [--run RUN_ID]
        [--screenshots DIR]

It serves ``dashboard/app.py`` with ``streamlit run`` on a free port (reading
the store of ``DATABASE_URL``, by default the one ``make run`` fills with the
medium sample) and drives Debian's Chromium (``/usr/bin/chromium``, headless)
with Playwright.  A time runs from the navigation or the click until the page
has settled: the script has stopped running (``data-test-script-state`` of
``stApp`` is ``notRunning``), no element is left stale and none is still a
skeleton waiting for its code.

- **cold link**: a link opened first thing on a server just started (every
  cache empty), for each page;
- **link, new session**: the same link in a new browser context (caches warm);
- **interactions** within one session: the month, the party, the portfolio
  picked on Omnibus, the account, the assignee, the period, a page change
  through the navigation.

With ``--screenshots DIR`` it also writes full-page PNGs of every page in the
light and the dark theme at 1280 and 1440 px wide.  It prints the figures and
asserts nothing (the targets: under 1 s an interaction, under 3 s a cold link).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser"), str(ROOT / "tests")]

from conftest import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402  (tests/browser/conftest.py)

from calc.access import Principal  # noqa: E402

ANALYST = Principal("bench", "analyst")

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


def bench(repeat: int, run_id: int | None, screenshots: Path | None, only: tuple[str, ...]) -> None:
    from playwright.sync_api import sync_playwright

    from calc.store import resolve_url

    run_id, portfolio, assignee, month, _ = _store_facts(run_id)
    links = {
        "Revenue": f"/?run={run_id}",
        "Shares over time": f"/shares?run={run_id}",
        "Collateral": f"/collateral?run={run_id}&assignee={assignee.replace(' ', '+')}",
        "Omnibus (a portfolio)": f"/omnibus?run={run_id}&portfolio={portfolio}",
        "Monthly Calculation": f"/statement?run={run_id}",
        "Compare runs": f"/compare?run={run_id}",
        "Data": f"/data?run={run_id}",
    }
    cold: dict[str, list[float]] = {k: [] for k in links}
    warm: dict[str, list[float]] = {k: [] for k in links}
    steps: dict[str, list[float]] = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            for name, link in (links.items() if "links" in only else ()):
                with serve(resolve_url(), Path(tmp)) as url:  # a server of its own: every cache cold
                    ctx, page = new_page(browser, url)
                    cold[name].append(timed(page, lambda link=link, page=page: page.goto(link)))
                    ctx.close()
                    ctx, page = new_page(browser, url)
                    warm[name].append(timed(page, lambda link=link, page=page: page.goto(link)))
                    ctx.close()
            if "interactions" not in only and screenshots is None:
                continue
            with serve(resolve_url(), Path(tmp)) as url:
                ctx, page = new_page(browser, url)
                # warm the caches the way a user's first minute would, then time each step
                for link in links.values() if "interactions" in only else ():
                    page.goto(link)
                    settle(page)
                page.goto(f"/?run={run_id}")
                settle(page)
                if "interactions" in only:
                    for label, seconds in _interactions(page, run_id, month, portfolio):
                        steps.setdefault(label, []).append(seconds)
                ctx.close()
                if screenshots is not None:
                    _screenshots(browser, url, links, screenshots, month, run_id, portfolio)
        browser.close()
    print(f"\n{'link':<26} {'cold server':>12} {'new session':>12}  (seconds, median of {repeat})")
    for name in (links if "links" in only else ()):
        print(f"{name:<26} {statistics.median(cold[name]):>12.2f} {statistics.median(warm[name]):>12.2f}")
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

    steps = (
        ("Revenue: another month", *pick("Month", lambda: fmt_month(first))),
        ("Revenue: a party", *pick("Party", lambda: "ADI")),
        ("Revenue: every party again", *pick("Party", lambda: "All parties")),
        ("Revenue: the period (slider key)", nothing, slider),
        ("to Omnibus (navigation)", nothing, nav("Omnibus accounts")),
        ("Omnibus: pick a portfolio", *pick("Portfolio with omnibus accounts", lambda: _portfolio_label(page, portfolio))),
        ("Omnibus: another account", *pick("Account", lambda: _other_option(page, "Account"))),
        ("Omnibus: another month", *pick("Month", lambda: fmt_month(first - pd.DateOffset(months=1)))),
        ("to Collateral (navigation)", nothing, nav("Collateral")),
        ("Collateral: another assignee", *pick("Assignee", lambda: _other_option(page, "Assignee"))),
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
            page.goto(f"/?run={run_id}&portfolio=all")
            settle(page)
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
                page.goto(link)
                settle(page)
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
    parser.add_argument("--screenshots", type=Path, default=None, help="write full-page PNGs into this folder")
    parser.add_argument("--only", nargs="+", choices=["links", "interactions", "screenshots"], default=["links", "interactions"],
                        help="measure only these")
    args = parser.parse_args()
    bench(args.repeat, args.run, args.screenshots, tuple(args.only))


if __name__ == "__main__":
    main()
