"""Feed names holding Markdown and HTML, as Chromium draws them: no image fetched, no link, no markup.

The store holds the hand example with names such as ``![x](http://127.0.0.1:1/x.png)``,
``[link](http://evil)``, ``**bold**`` and ``<b>html</b>`` (``dashboard_fixtures.NASTY``).  Every page
is opened with those names in its filters; the browser must request nothing from the image's host,
draw no link to it or to ``evil``, no bold or HTML element from a name, and show the names as
written.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from dashboard_fixtures import IMAGE, NASTY

pytestmark = pytest.mark.browser

LINKS = {  # each page with the names in its link
    "": {"party": NASTY["OD1"], "portfolio": NASTY["P"]},
    "shares": {"party": NASTY["FIN"], "portfolio": NASTY["P"]},
    "collateral": {"party": NASTY["FIN"]},
    "omnibus": {"party": NASTY["OD1"], "portfolio": NASTY["P"], "account": NASTY["OM"]},
    "statement": {"party": NASTY["FIN"], "portfolio": NASTY["P"], "month": "2020-06"},
    "compare": {"party": NASTY["OD1"]},
    "data": {},
}
# What a drawn name would leave in the page: a link or image to the attacker's hosts, an element from its markup.
# (A heading's own anchor, ``#fee-revenue-link-http-evil``, stays on the page: it is Streamlit's, not the name's.)
ACTIVE = ", ".join([*(f"a[href*='{h}']:not([href^='#'])" for h in ("evil", "127.0.0.1:1")), "a[href^='mailto:']",
                    "img[src*='127.0.0.1:1']"])


def _settle(page) -> None:
    page.wait_for_selector("h1")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(500)


# Collateral draws one section at a time, Omnibus one view: each is a link of its own (the first is the default).
CASES = [(slug, link) for slug, link in LINKS.items()] + [
    ("collateral", {**LINKS["collateral"], "section": s}) for s in ("payments", "portfolios", "runoff", "cdsc")] + [
    ("omnibus", {**LINKS["omnibus"], "omnibus_view": v}) for v in ("history", "accounts")]


@pytest.mark.parametrize(("slug", "link"), CASES, ids=[f"{s}-{c.get('section', c.get('omnibus_view', ''))}".strip("-") for s, c in CASES])
def test_names_from_a_feed_are_drawn_as_plain_text(nasty_page, slug, link):
    page = nasty_page
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {"run": "2", **link}.items())
    page.goto(f"/{slug}?{query}")
    _settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(ACTIVE).count() == 0, page.locator(ACTIVE).first.evaluate("e => e.outerHTML")
    # no <b>, <strong>, <em> or <i> made of a name's markup ("html", "x", "bold" are the names' own words)
    made = page.evaluate("""() => [...document.querySelectorAll('b, strong, em, i')]
        .map(e => e.textContent.trim()).filter(t => ['html', 'x', 'bold'].includes(t))""")
    assert made == []
    hosts = {urlsplit(u).netloc for u in fetched}
    assert not [h for h in hosts if h == "127.0.0.1:1" or "evil" in h], hosts  # nothing asked of the names' hosts
    if slug != "data":  # the names are shown, as they are written
        text = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
        assert any(name in text for name in (NASTY["OD1"], NASTY["FIN"], IMAGE, NASTY["P"])), text[:400]
