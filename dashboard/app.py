"""Class B share 12b-1 fee accounting: the dashboard's entry script.

Run with ``streamlit run dashboard/app.py``.  It sets up the pages (the
scripts in ``dashboard/screens/``, each at its own URL), draws the global
filters in the sidebar (bound to the URL) and runs the page the user chose.

The page scripts are deliberately not in a folder named ``pages/``: beside the
entry script that name switches on Streamlit's older pages-folder mode, which
runs a page script without this entry script when a page URL is opened first.
``st.navigation`` is the only router here.

URLs: Revenue, the default page, is served at the root ``/`` (``/revenue``
redirects there); the others at ``/shares``, ``/collateral``, ``/omnibus``,
``/statement``, ``/compare`` and ``/data``.  Every page's ``url_path`` is its file's name,
so ``AppTest.switch_page("screens/<name>.py")`` finds it before a first run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import filters, ui  # noqa: E402

SCREENS = Path(__file__).resolve().parent / "screens"

st.set_page_config(page_title="Class B fee accounting", page_icon=":material/account_balance:", layout="wide")
filters.keep_page_choices()  # first: a run that ends early (the /revenue redirect) must not drop them

# Revenue, the default page, is served at the root; /revenue, its own name, leads there too
# (a hidden alias that redirects, keeping the link's filters) instead of to "Page not found".
revenue = st.Page(SCREENS / "revenue.py", title="Revenue", icon=":material/payments:", url_path="", default=True)
revenue_alias = st.Page(SCREENS / "revenue.py", title="Revenue", url_path="revenue", visibility="hidden")

nav = st.navigation(
    {
        "Revenue": [
            revenue,
            revenue_alias,
            st.Page(SCREENS / "shares.py", title="Shares over time", icon=":material/stacked_line_chart:", url_path="shares"),
        ],
        "Investors": [
            st.Page(SCREENS / "collateral.py", title="Collateral", icon=":material/account_balance_wallet:", url_path="collateral"),
            st.Page(SCREENS / "scenarios.py", title="Scenarios", icon=":material/query_stats:", url_path="scenarios"),
        ],
        "Operations": [
            st.Page(SCREENS / "omnibus.py", title="Omnibus accounts", icon=":material/account_tree:", url_path="omnibus"),
            st.Page(SCREENS / "statement.py", title="Monthly Calculation", icon=":material/receipt_long:", url_path="statement"),
            st.Page(SCREENS / "compare.py", title="Compare runs", icon=":material/compare_arrows:", url_path="compare"),
            st.Page(SCREENS / "data.py", title="Data", icon=":material/database:", url_path="data"),
        ],
    }
)
if nav is revenue_alias:
    st.switch_page(revenue, query_params=st.query_params.to_dict())

filters.show_link_problems(nav.url_path, st.container())
ui.style()
st.session_state["_filters"] = ui.sidebar_filters()  # inside a handler: no traceback from a link's values
st.sidebar.caption("Master Distribution Agreement (Class B Shares), AIM and INVESCO funds. "
                   "Filters live in the address bar: copy the link to share this view (it names the run).")
with ui.shielded("page"):
    nav.run()
