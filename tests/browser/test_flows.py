"""End-to-end flows in headless Chromium against ``streamlit run dashboard/app.py``.

Open every page (by its URL, also first thing on a new server, and through the
navigation), change a filter, drill to one omnibus account, download the
statement, run and save a scenario; no page may show an exception (``data-testid="stException"``) or
Streamlit's "Page not found".
"""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
from feedkit import EXAMPLES

pytestmark = pytest.mark.browser

HAND, RANDOM = 1, 2
PAGES = {  # the url_path of each st.Page in dashboard/app.py; the default page, Revenue, lives at the root
    "": "Fee revenue",
    "shares": "Shares of the Distribution Fee",
    "collateral": "Collateral",
    "scenarios": "Scenarios",
    "omnibus": "Omnibus accounts",
    "statement": "Monthly Calculation",
    "compare": "Compare runs",
    "data": "Data",
}


def settle(page, rounds: int = 2) -> None:
    """Wait until the script has finished running (twice, a moment apart: reruns follow runs)."""
    for _ in range(rounds):
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=90_000)
        time.sleep(0.5)


def no_exception(page) -> None:
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator('[data-testid="stException"]').first.inner_text()


def choose(page, label: str, option: str, attempts: int = 3) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (a combobox with its list of options).

    A rerun that redraws the sidebar while its list is open (on a loaded machine, the rerun
    that follows the sign-in may start late) can swallow the click on the option and leave the
    list open: then the list is closed and the choice made again.  (Some boxes go away once
    chosen, the omnibus page's portfolio box among them, so the list is what is checked.)"""
    for _ in range(attempts):
        page.get_by_role("combobox", name=label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()
        settle(page)
        still_open = page.get_by_role("option", name=option, exact=True)
        if still_open.count() == 0 or not still_open.first.is_visible():
            return
        page.keyboard.press("Escape")
        settle(page)
    raise AssertionError(f"choosing {option!r} in {label!r}: the list stayed open after {attempts} clicks")


def nav_link(page, name: str):
    return page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name)


def test_every_page_opens(page):
    page.goto("/")
    settle(page)
    no_exception(page)
    for slug, title in PAGES.items():
        page.goto(f"/{slug}?run={RANDOM}")
        settle(page)
        no_exception(page)
        assert page.locator("h1").first.inner_text().startswith(title)
        assert urlparse(page.url).path == f"/{slug}"
    # through the navigation too
    nav_link(page, "Collateral").click()
    settle(page)
    no_exception(page)
    assert page.locator("h1").first.inner_text() == "Collateral"


def test_a_new_server_opens_a_page_link_first(fresh_page):
    """The first request a server gets is a page's link: that page runs, with the navigation and the filters."""
    fresh_page.goto(f"/omnibus?run={HAND}&portfolio=P&month=2020-04&account=OM")
    settle(fresh_page)
    no_exception(fresh_page)
    assert fresh_page.locator("h1").first.inner_text() == "Omnibus accounts"
    assert nav_link(fresh_page, "Revenue").count() == 1  # the navigation of app.py is drawn
    assert fresh_page.get_by_role("combobox", name="Portfolio", exact=True).count() == 1  # and its filters
    assert fresh_page.get_by_text("OM in P, April 2020").count() == 1


def test_revenue_by_name_leads_to_the_root(page):
    """/revenue (the default page's own name) shows Revenue at / and keeps the link's filters."""
    page.goto(f"/revenue?run={RANDOM}&month=2016-06")
    settle(page)
    no_exception(page)
    assert urlparse(page.url).path == "/" and "month=2016-06" in page.url
    assert page.locator("h1").first.inner_text() == "Fee revenue"
    assert " in June 2016, " in page.locator("h3").first.inner_text()  # "The complex earned $… in June 2016, …"


def test_change_a_filter_follows_the_user(page):
    page.goto(f"/?run={RANDOM}&month=2016-06")
    settle(page)
    before = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    choose(page, "Portfolio", "P1 · Portfolio P1")
    no_exception(page)
    assert "portfolio=P1" in page.url and "month=2016-06" in page.url
    after = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert after != before and after.startswith("$")
    nav_link(page, "Monthly Calculation").click()
    settle(page)
    no_exception(page)
    assert "portfolio=P1" in page.url  # the filter came along
    assert page.locator("h1").first.inner_text() == "Monthly Calculation: June 2016"
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == after


def test_drill_to_one_omnibus_account(page):
    page.goto(f"/omnibus?run={RANDOM}&portfolio=P1&month=2016-08")
    settle(page)
    no_exception(page)
    choose(page, "Account", "AC012")
    no_exception(page)
    assert "account=AC012" in page.url
    assert page.get_by_text("AC012 in P1, August 2016").count() == 1
    code = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "net exchange to" in code and "F(m-1) = 0" in code
    # The hand example's April line, every number written out.
    page.goto(f"/omnibus?run={HAND}&portfolio=P&month=2020-04&account=OM")
    settle(page)
    no_exception(page)
    code = " ".join(page.locator('[data-testid="stCode"]').all_inner_texts())
    assert "60 × (1000+144.473684)/(1500+144.473684) = 41.757081" in re.sub(r"\s+", " ", code)


def test_download_the_statement(page, tmp_path: Path):
    page.goto(f"/statement?run={HAND}&month=2020-06")
    settle(page)
    no_exception(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    csv = tmp_path / dl.value.suggested_filename
    dl.value.save_as(csv)
    assert csv.name == "monthly-calculation-2020-06-run1.csv"
    text = csv.read_text()
    assert "Total" in text and "6750.84" in text
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download Excel").click()
    xlsx = tmp_path / dl.value.suggested_filename
    dl.value.save_as(xlsx)
    assert xlsx.read_bytes()[:2] == b"PK"
    page.get_by_text("Printable page").click()
    settle(page)
    no_exception(page)
    assert page.get_by_text("$6,750.84").count() >= 1


def test_run_and_save_a_scenario(page):
    """Scenarios: a short deterministic run on the hand example, saved, then in the saved list."""
    page.goto(f"/scenarios?run={HAND}")
    settle(page)
    no_exception(page)
    horizon = page.get_by_label("Horizon (months)", exact=True)
    horizon.fill("6")
    horizon.press("Enter")
    settle(page)
    page.get_by_role("button", name="Run scenario").click()
    settle(page, 3)
    no_exception(page)
    assert page.get_by_role("heading", name="Results: Scenario").count() == 1
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
    name = f"Browser scenario {int(time.time())}"
    box = page.get_by_label("Save as", exact=True)
    box.fill(name)
    box.press("Enter")
    settle(page)
    page.get_by_role("button", name="Save scenario").click()
    settle(page)
    no_exception(page)
    assert page.get_by_text(f"Saved as “{name}”").count() == 1
    page.get_by_role("tab", name="Saved scenarios").click()
    settle(page)
    no_exception(page)
    page.get_by_role("combobox", name="Saved scenario", exact=True).click()
    assert page.get_by_role("option", name=name, exact=True).count() == 1

def params(page) -> dict[str, str]:
    return dict(parse_qsl(urlparse(page.url).query))


def test_navigation_round_trips_keep_every_choice(page):
    """Assignee, period, portfolio and account come back after a visit to other pages, in the link too."""
    page.goto(f"/collateral?run={RANDOM}")
    settle(page)
    choose(page, "Assignee", "FINCO3")
    assert params(page)["assignee"] == "FINCO3"
    page.locator('[data-testid="stMain"]').get_by_text("CDSC carried", exact=True).click()  # Collateral's section
    settle(page)
    assert params(page)["section"] == "cdsc"
    assert page.get_by_text("The CDSC the shares behind the stream carry").count() == 1
    nav_link(page, "Revenue").click()
    settle(page)
    nav_link(page, "Collateral").click()
    settle(page)
    no_exception(page)
    assert page.get_by_role("combobox", name="Assignee", exact=True).input_value() == "FINCO3"
    assert params(page)["assignee"] == "FINCO3"
    assert params(page)["section"] == "cdsc"
    assert page.get_by_text("The CDSC the shares behind the stream carry").count() == 1
    assert page.get_by_text("Payments and due dates", exact=True).count() == 0  # one section at a time

    page.goto(f"/?run={RANDOM}&period=2015-06..2016-06")
    settle(page)
    nav_link(page, "Shares over time").click()
    settle(page)
    nav_link(page, "Revenue").click()
    settle(page)
    no_exception(page)
    assert params(page)["period"] == "2015-06..2016-06"
    assert page.get_by_role("heading", name="Gross and retained, June 2015 to June 2016").count() == 1

    page.goto(f"/omnibus?run={RANDOM}&month=2016-08")
    settle(page)
    choose(page, "Portfolio with omnibus accounts", "P1 · Portfolio P1")
    choose(page, "Account", "AC012")
    nav_link(page, "Monthly Calculation").click()
    settle(page)
    nav_link(page, "Omnibus accounts").click()
    settle(page)
    no_exception(page)
    assert page.get_by_text("AC012 in P1, August 2016").count() == 1
    assert params(page)["portfolio"] == "P1" and params(page)["account"] == "AC012"


def test_a_copied_link_opened_after_another_load(browser, own_page, own_app_url, tmp_path: Path, signer):
    """The link names its run: after a feed is loaded (and shown at once), it still opens the same view."""
    own_page.goto("/")
    settle(own_page)
    choose(own_page, "Month", "June 2016")
    choose(own_page, "Party", "ADI")
    link = own_page.url
    assert params(own_page)["run"] == str(RANDOM)
    own_page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length >= 12")
    cards = own_page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    heading = own_page.locator("h3").first.inner_text()

    # Another load, on the Data page: the hand feed again (the page asks first: it is run 1's feed).
    nav_link(own_page, "Data").click()
    settle(own_page)
    feed = tmp_path / "hand-again.zip"
    with zipfile.ZipFile(feed, "w") as zf:
        for f in sorted((EXAMPLES / "hand" / "feed").iterdir()):
            zf.write(f, f.name)
    own_page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(feed))
    settle(own_page)
    own_page.get_by_role("button", name="Validate and load").click()
    settle(own_page)
    assert own_page.get_by_text("is identical to the feed of run 1").count() == 1
    own_page.get_by_role("button", name="Store it again").click()
    settle(own_page, rounds=3)
    no_exception(own_page)
    assert own_page.get_by_text("Loaded hand-again.zip as calculation run 3").count() == 1
    assert own_page.get_by_role("combobox", name="Calculation run", exact=True).input_value() == "Run 3 · hand-again.zip"

    with browser.new_context(viewport={"width": 1400, "height": 1000}) as ctx:
        other = ctx.new_page()
        other.set_default_timeout(60_000)
        other.goto(link)
        settle(other)
        signer(other)  # a new session: the sign-in first, then the link's view
        settle(other)
        no_exception(other)
        assert other.get_by_role("combobox", name="Calculation run", exact=True).input_value().startswith(f"Run {RANDOM}")
        assert other.get_by_role("combobox", name="Month", exact=True).input_value() == "June 2016"
        assert other.locator("h3").first.inner_text() == heading
        # the cards are drawn once their code has loaded: wait for all of them
        other.wait_for_function("n => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length >= n",
                                arg=len(cards))
        assert other.locator('[data-testid="stMetricValue"]').all_inner_texts() == cards
        assert other.locator('[data-testid="stAlert"]').filter(has_text="The link's").count() == 0


def test_a_bad_link_says_so(page):
    page.goto("/?run=99&month=1999-01")
    settle(page)
    no_exception(page)
    text = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any("calculation run “99” is not in the store" in t for t in text), text
    assert params(page)["run"] == str(RANDOM)


def test_the_table_downloads_have_readable_headers_and_names(page, tmp_path: Path):
    page.goto(f"/collateral?run={RANDOM}&assignee=FINCO1&month=2016-05&section=payments")
    settle(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Statement CSV").click()
    assert dl.value.suggested_filename == "statement-finco1-run2-2016-05.csv"
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    head = path.read_text().splitlines()[0]
    assert head == "Month,Portfolio,Name,12b-1 Portion,CDSC Portion,Offsets,Payable,Due date"
    with page.expect_download() as dl:
        page.get_by_role("button", name="Table as CSV").first.click()
    assert dl.value.suggested_filename == "payments-finco1-run2-2016-05.csv"


def test_the_omnibus_table_opens_on_the_chosen_month(page):
    """An early month is far down the month-by-month table (latest first): it is scrolled to and highlighted."""
    page.goto(f"/omnibus?run={RANDOM}&portfolio=P1&account=AC011&month=2015-03&omnibus_view=history")
    settle(page)
    no_exception(page)
    assert page.get_by_text("March 2015, the chosen month, is highlighted").count() == 1
    scroller = page.locator(".st-key-omnibus_history_box .dvn-scroller")
    page.wait_for_function(
        "() => { const s = document.querySelector('.st-key-omnibus_history_box .dvn-scroller'); return s && s.scrollTop > 0; }",
        timeout=20_000)
    assert scroller.evaluate("s => s.scrollTop") > 0
    page.locator('[data-testid="stMain"]').get_by_text("Month's formulas", exact=True).click()  # the month's lines
    settle(page)
    no_exception(page)
    assert "omnibus_view" not in params(page)  # the default view is left out of the link
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the formula lines (CSV)").click()
    assert dl.value.suggested_filename == "omnibus-p1-ac011-2015-03-formulas-run2.csv"


def test_an_assignee_signs_in_and_a_link_naming_another_assignee_shows_none_of_it(browser, app_url, signer):
    """fin1 (bound to FINCO1) opens links naming FINCO2 and FINCO3: a plain message, its own collateral,
    and neither name nor figure of the others anywhere in the page."""
    with browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=app_url) as ctx:
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(f"/collateral?run={RANDOM}&assignee=FINCO2&party=FINCO3")
        settle(pg)
        assert pg.locator("h1").first.inner_text() == "Sign in"
        assert "FINCO" not in pg.content()
        signer(pg, "fin1")
        settle(pg, rounds=3)
        no_exception(pg)
        assert pg.locator("h1").first.inner_text() == "Collateral"
        html = pg.content()
        assert "FINCO1" in html and "FINCO2" not in html and "FINCO3" not in html
        assert pg.get_by_text("The link's assignee is not available to you").count() == 1
        nav = pg.locator('[data-testid="stSidebarNav"]')
        assert nav.count() == 0 or nav.get_by_role("link").count() <= 1  # no page of another party to go to
        pg.goto(f"/omnibus?run={RANDOM}&party=FINCO2")  # a new session, signed in by fin1's session cookie
        settle(pg, rounds=3)
        assert pg.get_by_role("button", name="Sign in").count() == 0
        no_exception(pg)
        assert pg.get_by_text("This page is not available to you").count() == 1
        assert "FINCO2" not in pg.content() and "FINCO3" not in pg.content()
