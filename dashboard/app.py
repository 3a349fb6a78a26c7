"""Class B share 12b-1 fee accounting: the dashboard's entry script.

Run with ``streamlit run dashboard/serve.py`` (this script, plus the routes that set
the persistent sign-in's cookie); ``streamlit run dashboard/app.py`` serves it without
them.  It sets up the pages (the scripts in ``dashboard/screens/``, each at its own
URL), draws the global filters in the sidebar (bound to the URL) and runs the page the
user chose.

The page scripts are deliberately not in a folder named ``pages/``: beside the
entry script that name switches on Streamlit's older pages-folder mode, which
runs a page script without this entry script when a page URL is opened first.
``st.navigation`` is the only router here.

URLs: Revenue, the default page, is served at the root ``/`` (``/revenue``
redirects there); the others at ``/shares``, ``/collateral``, ``/omnibus``,
``/statement``, ``/compare`` and ``/data``.  Every page's ``url_path`` is its file's name,
so ``AppTest.switch_page("screens/<name>.py")`` finds it before a first run.

Sign-in comes first (``dashboard/auth.py``): a session without a principal (none signed
in in this tab, and no live session cookie of an earlier sign-in) gets the sign-in form at
every URL, and the pages are set up per role: an assignee gets its
Collateral page (at the root and at ``/collateral``) and a plain "not available" at every
other page's URL; the other roles get every page.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, filters, ui  # noqa: E402

SCREENS = Path(__file__).resolve().parent / "screens"
# Every page's URL (Revenue's own, /revenue, is an alias of the root).
URL_PATHS = ("revenue", "shares", "collateral", "scenarios", "omnibus", "statement", "compare", "data")

st.set_page_config(page_title="Class B fee accounting", page_icon=":material/account_balance:", layout="wide")
filters.keep_page_choices()  # first: a run that ends early (the /revenue redirect) must not drop them

# Sign-in before any page: a session without a principal sees the sign-in form at every
# URL (the same url_paths, so that a link opened before signing in opens after it).
principal = auth.current() or auth.resume()  # a browser signed in before: its session cookie
if principal is None:
    st.navigation(
        [st.Page(auth.sign_in_page, title="Sign in", url_path="", default=True)]
        + [st.Page(auth.sign_in_page, title="Sign in", url_path=path, visibility="hidden") for path in URL_PATHS],
        position="hidden",
    ).run()
    st.stop()


def _not_for_you() -> None:
    st.info("This page is not available to you. Use the pages in the sidebar.", icon=":material/lock:")


PAGES = {  # url_path -> (section, title, icon); Revenue is the default, at the root
    "shares": ("Revenue", "Shares over time", ":material/stacked_line_chart:"),
    "collateral": ("Investors", "Collateral", ":material/account_balance_wallet:"),
    "scenarios": ("Investors", "Scenarios", ":material/query_stats:"),
    "omnibus": ("Operations", "Omnibus accounts", ":material/account_tree:"),
    "statement": ("Operations", "Monthly Calculation", ":material/receipt_long:"),
    "compare": ("Operations", "Compare runs", ":material/compare_arrows:"),
    "data": ("Operations", "Data", ":material/database:"),
}

if principal.sees_all:
    # Revenue, the default page, is served at the root; /revenue, its own name, leads there too
    # (a hidden alias that redirects, keeping the link's filters) instead of to "Page not found".
    revenue = st.Page(SCREENS / "revenue.py", title="Revenue", icon=":material/payments:", url_path="", default=True)
    revenue_alias = st.Page(SCREENS / "revenue.py", title="Revenue", url_path="revenue", visibility="hidden")
    sections: dict[str, list] = {"Revenue": [revenue, revenue_alias]}
    for path, (section, title, icon) in PAGES.items():
        sections.setdefault(section, []).append(st.Page(SCREENS / f"{path}.py", title=title, icon=icon, url_path=path))
else:
    # An assignee: its collateral and statement only, at the root and at /collateral; every other
    # page's URL says plainly that it is not available (no page of another party is ever run).
    revenue = revenue_alias = None
    home = st.Page(SCREENS / "collateral.py", title="Collateral", icon=":material/account_balance_wallet:",
                   url_path="", default=True)
    sections = {"Investor": [home, st.Page(SCREENS / "collateral.py", title="Collateral", url_path="collateral",
                                           visibility="hidden")]}
    sections["Investor"] += [st.Page(_not_for_you, title="Not available", url_path=path, visibility="hidden")
                             for path in URL_PATHS if path != "collateral"]
nav = st.navigation(sections)
if revenue_alias is not None and nav is revenue_alias:
    st.switch_page(revenue, query_params=st.query_params.to_dict())

filters.show_link_problems(nav.url_path, st.container())
ui.style()
st.session_state["_filters"] = ui.sidebar_filters()  # inside a handler: no traceback from a link's values
auth.sidebar(principal)
st.sidebar.caption("Master Distribution Agreement (Class B Shares), AIM and INVESCO funds. "
                   "Filters live in the address bar: copy the link to share this view (it names the run).")
with ui.shielded("page"):
    nav.run()
