"""The two HTTP routes of the dashboard's persistent sign-in (issue 10), served beside Streamlit.

A Streamlit script talks to the browser over a websocket and cannot set an HttpOnly cookie:
that needs an HTTP response.  Streamlit's ASGI mode (``st.App``, started by
``streamlit run dashboard/serve.py``) serves these routes in the same server:

- ``GET /bshare/session?code=CODE``: the one-time code that the sign-in has just handed to
  the page (``dashboard.auth``, an invisible ``<img>``) is exchanged for a session token
  (:func:`calc.sessions.redeem`), which goes into the cookie :data:`COOKIE_NAME`: HttpOnly,
  SameSite=Lax, Path=/, Secure when the request came over https, Max-Age the sessions' upper
  bound.  204, or 403 when the code is unknown, used, expired or the request not same-origin.
- ``GET /bshare/sign-out``: the cookie is cleared (204).  The session itself is revoked by
  the app's "Sign out" in the store, by its id; this route revokes nothing, so that a stale
  clearing request can never end a session the browser has just been given.

Both answer only requests from the dashboard's own pages (``Sec-Fetch-Site: same-origin``;
a browser that sends no Fetch Metadata, over plain http to another host than localhost, is
checked by its ``Referer`` instead): another site cannot plant its own session in a user's
browser (login CSRF) nor sign the user out.  Responses are ``no-store``.  Nothing here imports
streamlit; the routes are plain Starlette.
"""

from __future__ import annotations

import logging
from functools import cache
from urllib.parse import urlsplit

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calc import sessions

log = logging.getLogger("dashboard")

COOKIE_NAME = "bshare_session"
SESSION_PATH = "/bshare/session"
SIGN_OUT_PATH = "/bshare/sign-out"
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@cache
def _engine() -> sa.Engine:
    from calc.store import get_engine

    return get_engine()


def same_origin(request: Request) -> bool:
    """True when the browser says the request comes from a page of this server (Fetch Metadata,
    else the Referer's host against the request's); a request that says neither is refused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    referer = request.headers.get("referer")
    if not referer:
        return False
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")} - {None}
    return urlsplit(referer).netloc in hosts


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def exchange(request: Request) -> Response:
    """``GET /bshare/session?code=...``: a live one-time code for the session cookie."""
    if not same_origin(request):
        return Response(status_code=403, headers=_NO_STORE)
    try:
        token = sessions.redeem(_engine(), request.query_params.get("code", ""))
    except Exception:
        log.exception("a session code could not be redeemed")
        return Response(status_code=503, headers=_NO_STORE)
    if token is None:
        return Response(status_code=403, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(sessions.max_lifetime().total_seconds()), path="/",
        secure=_secure(request), httponly=True, samesite="lax",
    )
    return response


def sign_out(request: Request) -> Response:
    """``GET /bshare/sign-out``: clear the session cookie (its session is revoked by the app)."""
    if not same_origin(request):
        return Response(status_code=403, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.delete_cookie(COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite="lax")
    return response


def routes() -> list[Route]:
    """The routes to serve beside Streamlit (``st.App(..., routes=routes())``)."""
    return [Route(SESSION_PATH, exchange, methods=["GET"]), Route(SIGN_OUT_PATH, sign_out, methods=["GET"])]


__all__ = ["COOKIE_NAME", "SESSION_PATH", "SIGN_OUT_PATH", "exchange", "routes", "same_origin", "sign_out"]
