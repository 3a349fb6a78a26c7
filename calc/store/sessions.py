"""The dashboard's persistent sign-ins (table ``app_session``): persistence only.

Rows are written and read as they are given, by hash: the tokens and codes themselves,
their lifetimes and the audit of a resumed session are :mod:`calc.sessions`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from calc.store.models import SESSION_TABLE, USER_TABLE


@dataclass(frozen=True)
class SessionRecord:
    """One live ``app_session`` row joined to its user."""

    session_id: int
    user_name: str
    role: str
    assignee: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def has_table(conn: sa.Connection) -> bool:
    """True when the database is at migration 0007 or later (the table exists)."""
    return sa.inspect(conn).has_table(SESSION_TABLE.name)


def insert_handover(
    conn: sa.Connection, user_name: str, code_hash: str, code_expires_at: dt.datetime, now: dt.datetime,
) -> int | None:
    """A new row for ``user_name`` holding the hash of a one-time code, in the caller's
    transaction; its id (None when there is no such user)."""
    s, u = SESSION_TABLE, USER_TABLE
    user_id = conn.scalar(sa.select(u.c.user_id).where(u.c.name == user_name))
    if user_id is None:
        return None
    inserted = conn.execute(sa.insert(s).values(
        user_id=user_id, token_hash=None, code_hash=code_hash, code_expires_at=code_expires_at,
        created_at=now, last_seen_at=now, expires_at=code_expires_at,
    ))
    return int(inserted.inserted_primary_key[0])


def redeem_code(
    conn: sa.Connection, code_hash: str, token_hash: str, now: dt.datetime, idle: dt.timedelta, lifetime: dt.timedelta,
) -> int | None:
    """Swap a live code for a token (hashes), in the caller's transaction: the code is cleared,
    so it works once.  The session's id, or None when no live code has that hash."""
    s = SESSION_TABLE
    row = conn.execute(
        sa.select(s.c.session_id, s.c.created_at)
        .where(s.c.code_hash == code_hash, s.c.code_expires_at > now)
    ).first()
    if row is None:
        return None
    expires = min(now + idle, row.created_at + lifetime)
    updated = conn.execute(
        sa.update(s).where(s.c.session_id == row.session_id, s.c.code_hash == code_hash).values(
            token_hash=token_hash, code_hash=None, code_expires_at=None, last_seen_at=now, expires_at=expires,
        )
    )
    return int(row.session_id) if updated.rowcount == 1 else None


def touch(
    conn: sa.Connection, token_hash: str, now: dt.datetime, idle: dt.timedelta, lifetime: dt.timedelta,
) -> SessionRecord | None:
    """The live session of ``token_hash`` (not expired, its user still stored), its expiry moved
    to ``now + idle`` (at most ``lifetime`` after its creation), in the caller's transaction;
    None when there is none."""
    s, u = SESSION_TABLE, USER_TABLE
    row = conn.execute(
        sa.select(s.c.session_id, u.c.name, u.c.role, u.c.assignee, s.c.created_at)
        .join(u, u.c.user_id == s.c.user_id)
        .where(s.c.token_hash == token_hash, s.c.expires_at > now)
    ).first()
    if row is None:
        return None
    expires = min(now + idle, row.created_at + lifetime)
    conn.execute(sa.update(s).where(s.c.session_id == row.session_id).values(last_seen_at=now, expires_at=expires))
    return SessionRecord(int(row.session_id), row.name, row.role, row.assignee, row.created_at, now, expires)


def delete_session(conn: sa.Connection, *, session_id: int | None = None, token_hash: str | None = None) -> int:
    """Delete the session of ``session_id`` or ``token_hash`` in the caller's transaction; how many rows went."""
    s = SESSION_TABLE
    if session_id is not None:
        where = s.c.session_id == int(session_id)
    elif token_hash is not None:
        where = s.c.token_hash == token_hash
    else:
        return 0
    return conn.execute(sa.delete(s).where(where)).rowcount


def delete_user_sessions(conn: sa.Connection, user_name: str) -> int:
    """Delete every session of ``user_name`` in the caller's transaction; how many rows went."""
    s, u = SESSION_TABLE, USER_TABLE
    if not has_table(conn):
        return 0
    user_ids = sa.select(u.c.user_id).where(u.c.name == user_name).scalar_subquery()
    return conn.execute(sa.delete(s).where(s.c.user_id == user_ids)).rowcount


def delete_expired(conn: sa.Connection, now: dt.datetime) -> int:
    """Delete every session expired at ``now`` (housekeeping) in the caller's transaction."""
    return conn.execute(sa.delete(SESSION_TABLE).where(SESSION_TABLE.c.expires_at <= now)).rowcount


__all__ = [
    "SessionRecord",
    "delete_expired",
    "delete_session",
    "delete_user_sessions",
    "has_table",
    "insert_handover",
    "redeem_code",
    "touch",
]
