"""The dashboard's server: ``streamlit run dashboard/serve.py`` (``make run``).

Streamlit finds ``app`` below, an ``st.App`` (its ASGI mode), and serves the app script
``dashboard/app.py`` as ``streamlit run dashboard/app.py`` would, plus the two routes of the
persistent sign-in (``dashboard/session_routes.py``), which set and clear its HttpOnly cookie.
``streamlit run dashboard/app.py`` still serves the app, without those routes: every new
browser session then asks for the password, as before issue 10.

At its start the server reads the newest run's first views into its caches, in a thread of
its own (``dashboard.data.warm_in_background``), and says it is ready (``/_stcore/health``
answers) once that is done, or after ``BSHARE_WARM_UP_WAIT`` seconds (15 by default) while
the reading goes on: the first link opened on a new server is drawn as quickly as every
later one.  ``BSHARE_WARM_UP=0`` switches the warm-up off.
"""

from __future__ import annotations

import asyncio
import logging
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
ENV_WARM_UP_WAIT = "BSHARE_WARM_UP_WAIT"
WARM_UP_WAIT_S = 15.0  # a large store goes on warming after this, the server answering meanwhile


def warm_up_wait() -> float:
    """Seconds the server waits for its warm-up before answering (``BSHARE_WARM_UP_WAIT``; a value
    that is no number of seconds is reported and the default used: a typo never stops the server)."""
    raw = os.environ.get(ENV_WARM_UP_WAIT, "")
    try:
        seconds = float(raw) if raw.strip() else WARM_UP_WAIT_S
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        logging.getLogger(__name__).warning("%s=%r is no number of seconds; waiting %s s", ENV_WARM_UP_WAIT, raw,
                                            WARM_UP_WAIT_S)
        return WARM_UP_WAIT_S
    return seconds


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Start the warm-up once Streamlit's runtime runs (its caches exist), wait for it (a while at
    most), then serve."""
    if os.environ.get(ENV_WARM_UP, "1") != "0":
        from dashboard import data

        warming = data.warm_in_background()
        await asyncio.to_thread(warming.join, warm_up_wait())
    yield


app = st.App(Path(__file__).resolve().with_name("app.py"), routes=routes(), lifespan=lifespan)
