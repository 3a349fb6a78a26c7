"""Class B share 12b-1 fee accounting: the dashboard's entry script.

Run with ``streamlit run dashboard/app.py``.  It sets up the pages
(``dashboard/pages/``), draws the global filters in the sidebar (bound to the
URL) and runs the page the user chose.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import filters  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Class B fee accounting", page_icon=":material/account_balance:", layout="wide")

nav = st.navigation(
    {
        "Revenue": [
            st.Page(PAGES / "revenue.py", title="Revenue", icon=":material/payments:", default=True),
            st.Page(PAGES / "shares.py", title="Shares over time", icon=":material/stacked_line_chart:"),
        ],
        "Investors": [
            st.Page(PAGES / "collateral.py", title="Collateral", icon=":material/account_balance_wallet:"),
        ],
        "Operations": [
            st.Page(PAGES / "omnibus.py", title="Omnibus accounts", icon=":material/account_tree:"),
            st.Page(PAGES / "statement.py", title="Monthly Calculation", icon=":material/receipt_long:"),
            st.Page(PAGES / "data.py", title="Data", icon=":material/database:"),
        ],
    }
)

st.session_state["_filters"] = filters.render_sidebar()
st.sidebar.caption("Master Distribution Agreement (Class B Shares), AIM and INVESCO funds. "
                   "Filters live in the address bar: copy the link to share this view.")
nav.run()
