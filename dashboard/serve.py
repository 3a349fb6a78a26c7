"""The dashboard's server: ``streamlit run dashboard/serve.py`` (``make run``).

Streamlit finds ``app`` below, an ``st.App`` (its ASGI mode), and serves the app script
``dashboard/app.py`` as ``streamlit run dashboard/app.py`` would, plus the two routes of the
persistent sign-in (``dashboard/session_routes.py``), which set and clear its HttpOnly cookie.
``streamlit run dashboard/app.py`` still serves the app, without those routes: every new
browser session then asks for the password, as before issue 10.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.session_routes import routes  # noqa: E402

app = st.App(Path(__file__).resolve().with_name("app.py"), routes=routes())
