"""The audit trail: who did what, when (table ``audit_event``).

Persistence only.  ``record_event`` appends one event, in the caller's transaction when
given a connection (so a load and its event are stored together or not at all);
``read_audit`` lists them, newest first, for an admin.  Events are never updated or
deleted.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from calc.access import AccessDenied, Principal
from calc.store.engine import write_transaction
from calc.store.models import AUDIT_TABLE

# What an event records (column ``action``).
ACTION_SIGN_IN = "sign-in"
ACTION_SIGN_IN_FAILED = "sign-in failed"
ACTION_SIGN_OUT = "sign-out"
ACTION_SESSION_RESUME = "session resume"  # a browser came back with its session cookie (calc.sessions)
ACTION_LOAD = "load"
ACTION_CLOSE = "close"
ACTION_RESTATEMENT = "restatement"
ACTION_USER_ADD = "user add"
ACTION_USER_REMOVE = "user remove"
ACTION_USER_CHANGE = "user change"

AUDIT_COLUMNS = ["event_id", "at", "actor", "action", "run_id", "detail"]
MAX_DETAIL_LENGTH = 4000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_event(
    target: sa.Engine | sa.Connection,
    actor: str,
    action: str,
    *,
    run_id: int | None = None,
    detail: str = "",
) -> int:
    """Append one event; its id.  ``target``: a connection inside the caller's transaction
    (the event commits or rolls back with the work it records), or an engine (the event is
    written in a transaction of its own)."""
    values = {
        "at": _utcnow(),
        "actor": str(actor),
        "action": str(action),
        "run_id": None if run_id is None else int(run_id),
        "detail": str(detail)[:MAX_DETAIL_LENGTH],
    }
    if isinstance(target, sa.Engine):
        with write_transaction(target) as conn:
            return _insert(conn, values)
    return _insert(target, values)


def _insert(conn: sa.Connection, values: dict) -> int:
    inserted = conn.execute(sa.insert(AUDIT_TABLE).values(**values))
    return int(inserted.inserted_primary_key[0])


def read_audit(
    engine: sa.Engine,
    principal: Principal,
    *,
    action: str | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The newest ``limit`` events (optionally of one ``action``), newest first; for an
    admin only (AccessDenied otherwise).  A database without the table reads none."""
    principal.require_admin("reading the audit trail")
    t = AUDIT_TABLE
    query = sa.select(*(t.c[c] for c in AUDIT_COLUMNS)).order_by(t.c.event_id.desc()).limit(int(limit))
    if action is not None:
        query = query.where(t.c.action == action)
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(t.name):
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    frame["run_id"] = frame["run_id"].astype("Int64")
    return frame


__all__ = [
    "ACTION_CLOSE",
    "ACTION_LOAD",
    "ACTION_RESTATEMENT",
    "ACTION_SESSION_RESUME",
    "ACTION_SIGN_IN",
    "ACTION_SIGN_IN_FAILED",
    "ACTION_SIGN_OUT",
    "ACTION_USER_ADD",
    "ACTION_USER_CHANGE",
    "ACTION_USER_REMOVE",
    "AUDIT_COLUMNS",
    "AccessDenied",
    "read_audit",
    "record_event",
]
