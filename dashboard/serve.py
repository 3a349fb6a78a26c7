"""The dashboard's server: ``streamlit run dashboard/serve.py`` (``make run``).

Streamlit finds ``app`` below, an ``st.App`` (its ASGI mode), and serves the app script
``dashboard/app.py`` as ``streamlit run dashboard/app.py`` would, plus the two routes of the
persistent sign-in (``dashboard/session_routes.py``), which set and clear its HttpOnly cookie.
``streamlit run dashboard/app.py`` still serves the app, without those routes: every new
browser session then asks for the password, as before issue 10.

At its start the server reads the newest run's first views into its caches, in a thread of
its own (``dashboard.data.warm_in_background``): the first link opened on a new server is
drawn as quickly as every later one.  ``BSHARE_WARM_UP=0`` switches that off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.session_routes import routes  # noqa: E402

ENV_WARM_UP = "BSHARE_WARM_UP"


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Start the warm-up once Streamlit's runtime runs (its caches exist), then serve."""
    if os.environ.get(ENV_WARM_UP, "1") != "0":
        from dashboard import data

        data.warm_in_background()
    yield


app = st.App(Path(__file__).resolve().with_name("app.py"), routes=routes(), lifespan=lifespan)
