"""The app's users (table ``app_user``): persistence only.

Hashing and checking passwords, the lock-out rule and the audit events of user changes
are :mod:`calc.users`; here rows are read and written as they are given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from calc.store.engine import write_transaction
from calc.store.models import USER_TABLE

# What ``list_users`` shows: never the password hash.
USER_COLUMNS = ["name", "role", "assignee", "failed_attempts", "locked_until", "created_at"]


class UserExists(ValueError):
    """A user of that name is already stored."""


class UserNotFound(LookupError):
    """No user of that name."""


@dataclass(frozen=True)
class UserRecord:
    """One ``app_user`` row."""

    name: str
    role: str
    assignee: str
    password_hash: str
    failed_attempts: int
    locked_until: dt.datetime | None
    created_at: dt.datetime


def _has_table(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(USER_TABLE.name)


def get_user(engine: sa.Engine, name: str) -> UserRecord | None:
    """The user ``name`` (None when there is none, or no user table yet)."""
    t = USER_TABLE
    with engine.connect() as conn:
        if not _has_table(conn):
            return None
        row = conn.execute(
            sa.select(
                t.c.name, t.c.role, t.c.assignee, t.c.password_hash,
                t.c.failed_attempts, t.c.locked_until, t.c.created_at,
            ).where(t.c.name == name)
        ).first()
    return None if row is None else UserRecord(*row)


def count_users(engine: sa.Engine) -> int:
    """How many users are stored (0 without a user table)."""
    with engine.connect() as conn:
        if not _has_table(conn):
            return 0
        return int(conn.scalar(sa.select(sa.func.count()).select_from(USER_TABLE)) or 0)


def list_users(engine: sa.Engine) -> pd.DataFrame:
    """Every user by name, without password hashes."""
    t = USER_TABLE
    with engine.connect() as conn:
        if not _has_table(conn):
            return pd.DataFrame(columns=USER_COLUMNS)
        rows = conn.execute(sa.select(*(t.c[c] for c in USER_COLUMNS)).order_by(t.c.name)).all()
    return pd.DataFrame(rows, columns=USER_COLUMNS)


def insert_user(
    conn: sa.Connection, name: str, role: str, assignee: str, password_hash: str, now: dt.datetime
) -> None:
    """Store a new user in the caller's transaction; ``UserExists`` when the name is taken."""
    t = USER_TABLE
    if conn.execute(sa.select(t.c.user_id).where(t.c.name == name)).first() is not None:
        raise UserExists(f"a user named {name!r} exists already")
    conn.execute(
        sa.insert(t).values(
            name=name, role=role, assignee=assignee, password_hash=password_hash,
            failed_attempts=0, locked_until=None, created_at=now,
        )
    )


def delete_user(conn: sa.Connection, name: str) -> None:
    """Remove the user ``name`` in the caller's transaction; ``UserNotFound`` when none."""
    deleted = conn.execute(sa.delete(USER_TABLE).where(USER_TABLE.c.name == name))
    if deleted.rowcount == 0:
        raise UserNotFound(f"no user named {name!r}")


def update_user(conn: sa.Connection, name: str, **values: object) -> None:
    """Set columns of the user ``name`` (``password_hash``, ``failed_attempts``,
    ``locked_until``) in the caller's transaction; ``UserNotFound`` when none."""
    allowed = {"password_hash", "failed_attempts", "locked_until"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"cannot set {', '.join(unknown)} of a user")
    updated = conn.execute(sa.update(USER_TABLE).where(USER_TABLE.c.name == name).values(**values))
    if updated.rowcount == 0:
        raise UserNotFound(f"no user named {name!r}")


def failed_attempt(conn: sa.Connection, name: str) -> int:
    """Count one more failed sign-in of ``name`` (an UPDATE adding one, so concurrent
    failures all count); the new count, 0 when there is no such user."""
    t = USER_TABLE
    conn.execute(
        sa.update(t).where(t.c.name == name).values(failed_attempts=t.c.failed_attempts + 1)
    )
    return int(conn.scalar(sa.select(t.c.failed_attempts).where(t.c.name == name)) or 0)


__all__ = [
    "USER_COLUMNS",
    "UserExists",
    "UserNotFound",
    "UserRecord",
    "count_users",
    "delete_user",
    "failed_attempt",
    "get_user",
    "insert_user",
    "list_users",
    "update_user",
    "write_transaction",
]
