"""Persistent sign-ins of the dashboard (issue 10): one-time codes, session tokens, lifetimes.

A browser that has signed in (password or OIDC) keeps its sign-in in a cookie holding an
opaque random token; the store keeps only the token's SHA-256 (:mod:`calc.store.sessions`),
so a copy of the database signs no one in.  The steps:

1. :func:`start` (the sign-in has just succeeded, in the Streamlit script): a new session
   row for the user with the hash of a one-time **code** valid for :data:`CODE_LIFETIME`;
   the code goes to the browser, never the token.
2. :func:`redeem` (the browser's request to the dashboard's route, which can set an
   HttpOnly cookie): the code, once, for a new **token**; the route puts the token in the
   cookie.
3. :func:`resume` (a new browser session, a reload or a new tab, presenting the cookie): the
   principal of a live session, recorded in the audit trail; its expiry moves on.
4. :func:`revoke` (Sign out): the row is deleted, the token is worthless from then on.

A session expires after :func:`idle_timeout` without use (default 12 h, environment
``BSHARE_SESSION_IDLE_HOURS``) and at the latest :func:`max_lifetime` after the sign-in
(default 7 days, ``BSHARE_SESSION_MAX_DAYS``).  Removing a user deletes its sessions (and a
session whose user is gone resumes nothing); a new password ends them too.  A user locked
out by failed sign-ins keeps its sessions: a stranger typing wrong passwords must not be
able to sign a user out.

Tokens and codes are 256-bit ``secrets.token_urlsafe`` values; SHA-256 suffices (no
password hash) because they are random, not chosen by people.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from calc.access import Principal
from calc.store import sessions as rows
from calc.store.audit import ACTION_SESSION_RESUME, record_event
from calc.store.engine import write_transaction

CODE_LIFETIME = dt.timedelta(seconds=120)
DEFAULT_IDLE = dt.timedelta(hours=12)
DEFAULT_LIFETIME = dt.timedelta(days=7)
ENV_IDLE_HOURS = "BSHARE_SESSION_IDLE_HOURS"
ENV_MAX_DAYS = "BSHARE_SESSION_MAX_DAYS"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200  # anything longer is no token of ours: not even hashed


@dataclass(frozen=True)
class Handover:
    """A session just started: its id (to revoke it) and the one-time code for the browser."""

    session_id: int
    code: str


@dataclass(frozen=True)
class Resumed:
    """A session resumed from its token: its id and the principal it signs in."""

    session_id: int
    principal: Principal


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def idle_timeout() -> dt.timedelta:
    """How long a session lives unused ($BSHARE_SESSION_IDLE_HOURS, default 12 h)."""
    return dt.timedelta(hours=_env_number(ENV_IDLE_HOURS, DEFAULT_IDLE.total_seconds() / 3600))


def max_lifetime() -> dt.timedelta:
    """How long a session lives at most after its sign-in ($BSHARE_SESSION_MAX_DAYS, default 7 days)."""
    return dt.timedelta(days=_env_number(ENV_MAX_DAYS, DEFAULT_LIFETIME.days))


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token or a code is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _plausible(secret: str | None) -> bool:
    return bool(secret) and len(secret) <= MAX_TOKEN_LENGTH


def start(engine: sa.Engine, user_name: str, now: dt.datetime | None = None) -> Handover | None:
    """A new session of ``user_name`` (who has just signed in) and its one-time code; None when
    the user is not stored or the database predates migration 0007.  Expired sessions are
    deleted on the way (housekeeping)."""
    now = now or _utcnow()
    code = secrets.token_urlsafe(TOKEN_BYTES)
    with write_transaction(engine) as conn:
        if not rows.has_table(conn):
            return None
        rows.delete_expired(conn, now)
        session_id = rows.insert_handover(conn, user_name, digest(code), now + CODE_LIFETIME, now)
    return None if session_id is None else Handover(session_id, code)


def redeem(engine: sa.Engine, code: str, now: dt.datetime | None = None) -> str | None:
    """The session token for a live one-time ``code`` (which then stops working); None when the
    code is unknown, used already or expired."""
    if not _plausible(code):
        return None
    now = now or _utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with write_transaction(engine) as conn:
        if not rows.has_table(conn):
            return None
        session_id = rows.redeem_code(conn, digest(code), digest(token), now, idle_timeout(), max_lifetime())
    return None if session_id is None else token


def resume(engine: sa.Engine, token: str | None, now: dt.datetime | None = None) -> Resumed | None:
    """The principal of the live session of ``token`` (a cookie's value), recorded in the audit
    trail as a resumed session, its expiry moved on; None when the token is unknown, revoked,
    expired or its user removed."""
    if not _plausible(token):
        return None
    now = now or _utcnow()
    with write_transaction(engine) as conn:
        if not rows.has_table(conn):
            return None
        found = rows.touch(conn, digest(str(token)), now, idle_timeout(), max_lifetime())
        if found is None:
            return None
        record_event(conn, found.user_name, ACTION_SESSION_RESUME, detail=f"session {found.session_id}")
    return Resumed(found.session_id, Principal(found.user_name, found.role, found.assignee or None))


def revoke(engine: sa.Engine, *, session_id: int | None = None, token: str | None = None) -> bool:
    """End a session (by its id, or by its token): its row is deleted.  True when there was one."""
    if session_id is None and not _plausible(token):
        return False
    with write_transaction(engine) as conn:
        if not rows.has_table(conn):
            return False
        token_hash = None if token is None else digest(token)
        return rows.delete_session(conn, session_id=session_id, token_hash=token_hash) > 0


def end_user_sessions(conn: sa.Connection, user_name: str) -> int:
    """End every session of ``user_name`` in the caller's transaction (a removal, a new password)."""
    return rows.delete_user_sessions(conn, user_name)


__all__ = [
    "CODE_LIFETIME",
    "DEFAULT_IDLE",
    "DEFAULT_LIFETIME",
    "ENV_IDLE_HOURS",
    "ENV_MAX_DAYS",
    "Handover",
    "Resumed",
    "digest",
    "end_user_sessions",
    "idle_timeout",
    "max_lifetime",
    "redeem",
    "resume",
    "revoke",
    "start",
]
