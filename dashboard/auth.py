"""Signing in to the dashboard: who the session is, before any page is drawn.

Two ways, chosen by the installation:

- **OIDC** (Streamlit's ``st.login`` / ``st.user``) when ``.streamlit/secrets.toml`` has an
  ``[auth]`` section.  The provider's user is mapped to a user of the app (``app_user``)
  by its e-mail, then its name; an OIDC user who is no user of the app gets no access.
- Otherwise a **local user name and password** (``st.form``), checked by
  :func:`calc.users.sign_in` (argon2 hashes, lock-out after repeated failures).

A successful sign-in puts the :class:`calc.access.Principal` in the session under
:data:`SESSION_KEY`; ``dashboard/data.py`` passes it to every store read.  Nothing else
grants access: without a principal in the session no page and no data is reachable.

**Staying signed in** (issue 10).  A Streamlit session lives as long as its browser tab's
websocket: a reload, a new tab or a copied link is a new session.  So a successful sign-in
also starts a persistent session (:mod:`calc.sessions`) and hands its one-time code to the
page: an invisible ``<img>`` of ``/bshare/session?code=...``, a route of the same server
(``dashboard/session_routes.py``, served by ``streamlit run dashboard/serve.py``), which
redeems the code and answers with the HttpOnly session cookie.  A new session presenting
that cookie (``st.context.cookies``, sent with the websocket's handshake) is signed in by
:func:`resume` before any page is drawn: no form, the link's page and query string at once.
"Sign out" revokes the session in the store and clears the cookie (``/bshare/sign-out``).
The password never leaves the form; the code is single use and lives two minutes; the
cookie's token is stored only as a hash and dies with a sign-out, its user's removal or a
new password, after 12 h unused or 7 days at most.
"""

from __future__ import annotations

import html
import logging
import time

import streamlit as st

from calc.access import Principal
from dashboard.session_routes import COOKIE_NAME, SESSION_PATH, SIGN_OUT_PATH

log = logging.getLogger("dashboard")

SESSION_KEY = "_principal"
_OIDC_CHECKED = "_oidc_checked"  # the OIDC user was looked up once (and was no user of the app)
_SESSION_ID = "_session_id"  # the app_session row of this sign-in, revoked at the sign-out
_HANDOVER = "_session_handover"  # (code, monotonic deadline): the code the page has to redeem
_TRIED = "_session_tried"  # the digest of the cookie tried already (one store read a session)
_CLEAR_COOKIE = "_session_clear"  # the browser's cookie is to be cleared (signed out, or dead)
NO_USERS = ("No user can sign in yet. An admin adds one on the server: `python -m calc user add NAME --role ROLE "
            "--password-stdin` (`make run` adds the admin `admin` to a store without users and prints its password).")


def current() -> Principal | None:
    """The signed-in principal of this session, or None."""
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, Principal) else None


def _cookie() -> str | None:
    """The session cookie the browser sent when this Streamlit session began (None without one)."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser behind this session (a test)
        return None
    return value if isinstance(value, str) and value else None


def resume() -> Principal | None:
    """Sign this new Streamlit session in from the browser's session cookie, when it names a live
    session (recorded in the audit trail); None otherwise: then the sign-in form is shown, and the
    dead cookie is cleared.  Tried once per cookie and Streamlit session."""
    from calc.sessions import digest
    from calc.sessions import resume as resume_session

    token = _cookie()
    if token is None or st.session_state.get(_TRIED) == digest(token):
        return None
    st.session_state[_TRIED] = digest(token)
    try:
        resumed = resume_session(_engine(), token)
    except Exception:
        log.exception("the session cookie could not be checked")
        return None
    if resumed is None:
        st.session_state[_CLEAR_COOKIE] = True
        return None
    st.session_state[SESSION_KEY] = resumed.principal
    st.session_state[_SESSION_ID] = resumed.session_id
    return resumed.principal


def _signed_in(principal: Principal) -> None:
    """Put ``principal`` in the session and start its persistent session (its code for the page)."""
    from calc.sessions import CODE_LIFETIME, start

    st.session_state[SESSION_KEY] = principal
    st.session_state.pop(_CLEAR_COOKIE, None)
    try:
        handover = start(_engine(), principal.name)
    except Exception:  # the sign-in stands; only the next tab will ask again
        log.exception("a persistent session could not be started")
        handover = None
    if handover is not None:
        st.session_state[_SESSION_ID] = handover.session_id
        st.session_state[_HANDOVER] = (handover.code, time.monotonic() + CODE_LIFETIME.total_seconds())


def _beacon(path: str) -> None:
    """An invisible image of ``path`` on this server: the browser requests it with its cookies and
    takes the cookie its answer sets or clears (a Streamlit script cannot answer HTTP itself)."""
    st.html(f'<img src="{html.escape(path)}" alt="" width="1" height="1" style="display:none">')


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` configures Streamlit's OIDC sign-in (``[auth]``)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _engine():
    from dashboard import data

    return data.engine()


def _sign_in_form() -> None:
    """The local user name and password form; a success stores the principal and reruns."""
    from calc.store.users import count_users
    from calc.users import SignInRefused, sign_in

    try:
        anyone = count_users(_engine()) > 0
    except Exception:
        log.exception("the user table could not be read")
        st.error("The calculation store could not be reached. The details are in the server log.")
        return
    if not anyone:
        st.info(NO_USERS)
        return
    with st.form("sign_in"):
        name = st.text_input("User name", key="_sign_in_name")
        password = st.text_input("Password", type="password", key="_sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        principal = sign_in(_engine(), name or "", password or "")
    except SignInRefused as err:
        st.error(str(err), icon=":material/lock:")
        return
    except Exception:
        log.exception("sign-in failed")
        st.error("Signing in is not possible at the moment. The details are in the server log.")
        return
    st.session_state.pop("_sign_in_password", None)
    _signed_in(principal)
    st.rerun()


def _oidc() -> None:
    """Streamlit's OIDC sign-in: the provider's button, then the provider's user mapped to an app user."""
    from calc.users import sign_in_oidc

    if not st.user.is_logged_in:
        st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
        return
    if st.session_state.get(_OIDC_CHECKED):
        principal = None
    else:
        identities = [str(st.user.get("email") or ""), str(st.user.get("name") or "")]
        try:
            principal = sign_in_oidc(_engine(), identities)
        except Exception:
            log.exception("OIDC sign-in failed")
            st.error("Signing in is not possible at the moment. The details are in the server log.")
            return
    if principal is None:
        st.session_state[_OIDC_CHECKED] = True
        st.error("You are signed in with your provider, but you are no user of this app: ask an admin to add you.")
        st.button("Sign out", on_click=st.logout)
        return
    _signed_in(principal)
    st.rerun()


def sign_in_page() -> None:
    """What every URL shows to a session that has not signed in."""
    st.title("Sign in")
    st.caption("Class B share fee accounting. Sign in to see the Monthly Calculation.")
    if st.session_state.get(_CLEAR_COOKIE):
        _beacon(SIGN_OUT_PATH)
    if oidc_configured():
        _oidc()
    else:
        _sign_in_form()


def sign_out() -> None:
    """End the session's sign-in (recorded in the audit trail) and its persistent session (revoked
    in the store; the page then clears the cookie); OIDC signs out of the provider too."""
    from calc.sessions import revoke
    from calc.store.audit import ACTION_SIGN_OUT, record_event

    principal = current()
    session_id = st.session_state.get(_SESSION_ID)
    if session_id is not None:
        try:
            revoke(_engine(), session_id=int(session_id))
        except Exception:
            log.exception("the session could not be revoked")
    if principal is not None:
        try:
            record_event(_engine(), principal.name, ACTION_SIGN_OUT)
        except Exception:
            log.exception("the sign-out could not be recorded")
    tried = st.session_state.get(_TRIED)
    for key in list(st.session_state):
        del st.session_state[key]
    st.session_state[_CLEAR_COOKIE] = True
    if tried is not None:  # the cookie of this session's start is revoked: not tried again
        st.session_state[_TRIED] = tried
    if oidc_configured():
        st.logout()


def sidebar(principal: Principal) -> None:
    """Who is signed in, the sign-out button, and the hand-over of a sign-in just made (its code)."""
    bound = f" · {principal.assignee}" if principal.assignee else ""
    st.sidebar.caption(f"Signed in as **{principal.name}** ({principal.role}{bound})")
    st.sidebar.button("Sign out", on_click=sign_out, icon=":material/logout:", key="_sign_out")
    handover = st.session_state.get(_HANDOVER)
    if handover is not None:
        code, deadline = handover
        if time.monotonic() < deadline:  # drawn on every run until then: the request is not cut short
            with st.sidebar:
                _beacon(f"{SESSION_PATH}?code={code}")
        else:
            del st.session_state[_HANDOVER]
