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
"""

from __future__ import annotations

import logging

import streamlit as st

from calc.access import Principal

log = logging.getLogger("dashboard")

SESSION_KEY = "_principal"
_OIDC_CHECKED = "_oidc_checked"  # the OIDC user was looked up once (and was no user of the app)
NO_USERS = ("No user can sign in yet. An admin adds one on the server: `python -m calc user add NAME --role ROLE "
            "--password-stdin` (`make run` adds the admin `admin` to a store without users and prints its password).")


def current() -> Principal | None:
    """The signed-in principal of this session, or None."""
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, Principal) else None


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
    st.session_state[SESSION_KEY] = principal
    st.session_state.pop("_sign_in_password", None)
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
    st.session_state[SESSION_KEY] = principal
    st.rerun()


def sign_in_page() -> None:
    """What every URL shows to a session that has not signed in."""
    st.title("Sign in")
    st.caption("Class B share fee accounting. Sign in to see the Monthly Calculation.")
    if oidc_configured():
        _oidc()
    else:
        _sign_in_form()


def sign_out() -> None:
    """End the session's sign-in (recorded in the audit trail); OIDC signs out of the provider too."""
    from calc.store.audit import ACTION_SIGN_OUT, record_event

    principal = current()
    if principal is not None:
        try:
            record_event(_engine(), principal.name, ACTION_SIGN_OUT)
        except Exception:
            log.exception("the sign-out could not be recorded")
    for key in list(st.session_state):
        del st.session_state[key]
    if oidc_configured():
        st.logout()


def sidebar(principal: Principal) -> None:
    """Who is signed in, and the sign-out button."""
    bound = f" · {principal.assignee}" if principal.assignee else ""
    st.sidebar.caption(f"Signed in as **{principal.name}** ({principal.role}{bound})")
    st.sidebar.button("Sign out", on_click=sign_out, icon=":material/logout:", key="_sign_out")
