"""Reading the store back: runs, whole calculations, the feed, single views, the
month-end state.

Every frame comes back as ``calc`` makes it: the column names of
``calc.report`` / ``calc.feed``, money as float dollars, dates as
``datetime64``, text as ``str``.  One query per table.

Every read takes the :class:`calc.access.Principal` asking, and what it may see is part
of the query's WHERE clause (never filtered afterwards).  Roles that see all read every
row; an ``assignee`` principal reads, per table, what :data:`ASSIGNEE_VISIBILITY` says
(its own assignments and payments, the portfolio-level rows of the portfolios its
assignments cover, its assignors' rows there, nothing account-level) and may not read
the whole-run objects (``read_calculation``, ``read_feed``, ``read_state``:
``AccessDenied``).  docs/access.md has the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from calc.access import AccessDenied, Principal
from calc.report import MonthlyCalculation
from calc.store.convert import DATE_DTYPE, FEED_DATE_DTYPE, from_columns, to_cents
from calc.store.models import (
    ASSIGNMENT_TABLE,
    FEED_TABLES,
    RESULT_TABLES,
    RUN_TABLE,
    STATE_FILE_TABLE,
    STATUS_COMPLETE,
    is_money,
    value_columns,
)
from calc.vocabulary import parse_cdsc_schedule

if TYPE_CHECKING:  # imported where used: the dashboard's reads need neither the feed reader nor the state
    from calc.engine.state import MonthEndState
    from calc.feed import Feed

RUN_COLUMNS = [c.name for c in RUN_TABLE.columns]
ROW_COUNT_COLUMNS = [c for c in RUN_COLUMNS if c.endswith("_rows")]
RUN_DATE_COLUMNS = ["first_month", "last_month", "state_month_end"]
TABLE_NAMES = tuple(RESULT_TABLES) + tuple(FEED_TABLES)
# Filter aliases: payments(assignee=X) is the assignee's own rows.
PAYMENT_ROLE_ASSIGNEE = "assignee"

# What an assignee principal reads of each table (docs/access.md):
VISIBLE_OWN = "own rows"  # assignments: assignee = it; payments: party = it in the role assignee
VISIBLE_PORTFOLIOS = "covered portfolios"  # portfolio-level rows of the portfolios its assignments cover
VISIBLE_ASSIGNORS = "assignors in covered portfolios"  # rows of a rights holder that assigned to it,
#                                                      in the portfolios of those assignments
VISIBLE_NONE = "nothing"  # account-level records and free text
ASSIGNEE_VISIBILITY: dict[str, str] = {
    "summary": VISIBLE_PORTFOLIOS,
    "allocation": VISIBLE_ASSIGNORS,
    "payments": VISIBLE_OWN,
    "omnibus": VISIBLE_ASSIGNORS,
    "cdsc": VISIBLE_ASSIGNORS,
    "exceptions": VISIBLE_NONE,
    "omnibus_accounts": VISIBLE_PORTFOLIOS,
    "lots": VISIBLE_ASSIGNORS,
    "portfolios": VISIBLE_PORTFOLIOS,
    "tenures": VISIBLE_PORTFOLIOS,
    "accounts": VISIBLE_NONE,
    "nav": VISIBLE_PORTFOLIOS,
    "transactions": VISIBLE_NONE,
    "assignments": VISIBLE_OWN,
    "offsets": VISIBLE_ASSIGNORS,
    "plan_events": VISIBLE_PORTFOLIOS,
}


class RunNotFound(LookupError):
    """No calculation run with that id."""


class StateNotStored(LookupError):
    """The calculation run has no month-end state stored."""


def _has_schema(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(RUN_TABLE.name)


def _run_columns(principal: Principal) -> list[sa.ColumnElement]:
    """The run table's columns; for an assignee the feed's ``source`` (a path or file name
    that may name anyone) reads as ``''``."""
    if principal.sees_all:
        return list(RUN_TABLE.columns)
    return [sa.literal("").label(c.name) if c.name == "source" else c for c in RUN_TABLE.columns]


def list_runs(engine: sa.Engine, principal: Principal) -> pd.DataFrame:
    """Every calculation run, newest first (empty when nothing was ever stored).  Run
    metadata names no party; an assignee reads no ``source``."""
    with engine.connect() as conn:
        if not _has_schema(conn):
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in RUN_COLUMNS})
        else:
            query = sa.select(*_run_columns(principal)).order_by(RUN_TABLE.c.run_id.desc())
            frame = pd.read_sql(query, conn)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    for name in RUN_DATE_COLUMNS:
        frame[name] = pd.to_datetime(frame[name]).astype(DATE_DTYPE)
    for name in ["run_id", "feed_id", "months", *ROW_COUNT_COLUMNS]:
        frame[name] = frame[name].astype("int64")
    for name in ["feed_checksum", "source", "code_version", "status"]:
        frame[name] = frame[name].astype(str)
    return frame[RUN_COLUMNS]


def latest_run_id(engine: sa.Engine, principal: Principal) -> int | None:
    """The newest complete run's id, or None (the same for every role)."""
    with engine.connect() as conn:
        if not _has_schema(conn):
            return None
        value = conn.scalar(
            sa.select(sa.func.max(RUN_TABLE.c.run_id)).where(RUN_TABLE.c.status == STATUS_COMPLETE)
        )
    return None if value is None else int(value)


def _run(conn: sa.Connection, run_id: int) -> sa.Row:
    row = conn.execute(sa.select(RUN_TABLE).where(RUN_TABLE.c.run_id == run_id)).first()
    if row is None:
        raise RunNotFound(f"no calculation run {run_id}")
    return row


def _read(
    conn: sa.Connection, table: sa.Table, owner: str, owner_id: int, where: Iterable = ()
) -> pd.DataFrame:
    columns = value_columns(table)
    query = (
        sa.select(*(table.c[c] for c in columns))
        .where(table.c[owner] == owner_id, *where)
        .order_by(table.c.row_no)
    )
    date_dtype = FEED_DATE_DTYPE if owner == "feed_id" else DATE_DTYPE
    # The driver's rows as they come (from_columns converts them): SQLAlchemy's row objects and
    # result processing (SQLite's dates parsed one by one) took as long again as the query.
    result = conn.execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)
    return from_columns(table, frame, columns, date_dtype)


def _feed_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name == "portfolios":
        frame["cdsc_schedule"] = [
            parse_cdsc_schedule(text)
            for text in frame["cdsc_schedule"]
        ]
    return frame


def _require_all(principal: Principal, what: str) -> None:
    if not principal.sees_all:
        raise AccessDenied(f"{what} is every party's: not for {principal.name} ({principal.role})")


def read_calculation(engine: sa.Engine, principal: Principal, run_id: int) -> MonthlyCalculation:
    """The Monthly Calculation of run ``run_id``, with its drill-down frames (roles that
    see all; ``AccessDenied`` for an assignee)."""
    _require_all(principal, "a whole Monthly Calculation")
    with engine.connect() as conn:
        _run(conn, run_id)
        frames = {
            name: _read(conn, table, "run_id", run_id) for name, table in RESULT_TABLES.items()
        }
    return MonthlyCalculation(**frames)


def read_feed(engine: sa.Engine, principal: Principal, run_id: int) -> Feed:
    """The normalised feed that run ``run_id`` computed (``calc.feed``'s frames; roles
    that see all, ``AccessDenied`` for an assignee)."""
    from calc.feed import Feed

    _require_all(principal, "a whole feed")
    with engine.connect() as conn:
        run = _run(conn, run_id)
        frames = {
            name: _feed_frame(name, _read(conn, table, "feed_id", run.feed_id))
            for name, table in FEED_TABLES.items()
        }
    return Feed(**frames, source=run.source, checksum=run.feed_checksum)


def read_state(engine: sa.Engine, principal: Principal, run_id: int) -> MonthEndState:
    """The month-end state of run ``run_id`` at its last month end, as computed (to the bit).

    ``RunNotFound`` for an unknown run; ``StateNotStored`` for a run stored without
    one (every run stored before migration 0002, or saved with ``state=None``);
    ``AccessDenied`` for an assignee (the state holds every party's lots).
    """
    from calc.engine.state import state_from_files

    _require_all(principal, "a month-end state")
    with engine.connect() as conn:
        run = _run(conn, run_id)
        files = dict(
            conn.execute(
                sa.select(STATE_FILE_TABLE.c.name, STATE_FILE_TABLE.c.content).where(
                    STATE_FILE_TABLE.c.run_id == run_id
                )
            ).all()
        )
    if run.state_month_end is None or not files:
        raise StateNotStored(
            f"calculation run {run_id} has no month-end state stored (a run loaded before "
            "the store kept states, or saved without one): load its feed again to store one"
        )
    return state_from_files({name: bytes(content) for name, content in files.items()})


def _condition(table: sa.Table, name: str, value: Any) -> sa.ColumnElement[bool]:
    column = table.c[name]

    def bind(v: Any) -> Any:
        if v is None:
            return None
        if is_money(column):
            return int(to_cents([v]).iloc[0])
        if isinstance(column.type, sa.Date):
            return pd.Timestamp(v).date()
        return v

    if isinstance(value, (list, tuple, set, frozenset, pd.Series, pd.Index)):
        return column.in_([bind(v) for v in value])
    if value is None:
        return column.is_(None)
    return column == bind(value)


def _assignor_pairs(conn: sa.Connection, feed_id: int, assignee: str) -> list[tuple[str, str]]:
    """The (rights holder, portfolio or ``''`` for all) pairs of ``assignee``'s assignments."""
    a = ASSIGNMENT_TABLE
    rows = conn.execute(
        sa.select(a.c.rights_holder, a.c.portfolio_id)
        .where(a.c.feed_id == feed_id, a.c.assignee == assignee)
        .distinct()
    ).all()
    return sorted((str(h), str(p)) for h, p in rows)


def _visible(
    table: sa.Table, name: str, principal: Principal, pairs: list[tuple[str, str]]
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of what ``principal`` may read of table ``name``."""
    if principal.sees_all:
        return []
    rule = ASSIGNEE_VISIBILITY[name]
    c = table.c
    if rule == VISIBLE_OWN:
        if name == "payments":
            return [c.party == principal.assignee, c.role == PAYMENT_ROLE_ASSIGNEE]
        return [c.assignee == principal.assignee]
    if not pairs or rule == VISIBLE_NONE:
        return [sa.false()]
    portfolios = sorted({p for _, p in pairs})
    if rule == VISIBLE_PORTFOLIOS:
        return [] if "" in portfolios else [c.portfolio_id.in_(portfolios)]
    # VISIBLE_ASSIGNORS: a rights holder's rows in the portfolios it assigned (all for '');
    # an offset without a portfolio is the rights holder's in every portfolio.
    either = []
    for holder, pid in pairs:
        if pid == "":
            either.append(c.rights_holder == holder)
        elif name == "offsets":
            either.append(sa.and_(c.rights_holder == holder, c.portfolio_id.in_([pid, ""])))
        else:
            either.append(sa.and_(c.rights_holder == holder, c.portfolio_id == pid))
    return [sa.or_(*either)]


def read_table(
    engine: sa.Engine, principal: Principal, name: str, run_id: int, **filters: Any
) -> pd.DataFrame:
    """One view of run ``run_id``: a result table (``summary`` ... ``lots``) or a feed table.

    ``filters`` are column = value conditions in the query's WHERE clause (a
    list means any of its values; money in dollars; dates as anything
    ``pd.Timestamp`` takes).  On ``payments``, ``assignee=X`` means the rows of
    party X in the role ``assignee``.  An unknown table or column raises
    ``ValueError``.  What ``principal`` may see is part of the same WHERE clause
    (:data:`ASSIGNEE_VISIBILITY`).
    """
    if name in RESULT_TABLES:
        table, owner = RESULT_TABLES[name], "run_id"
    elif name in FEED_TABLES:
        table, owner = FEED_TABLES[name], "feed_id"
    else:
        raise ValueError(f"unknown table {name!r}; one of {', '.join(TABLE_NAMES)}")
    filters = dict(filters)
    if name == "payments" and "assignee" in filters:
        filters["party"] = filters.pop("assignee")
        filters["role"] = PAYMENT_ROLE_ASSIGNEE
    unknown = sorted(set(filters) - set(value_columns(table)))
    if unknown:
        raise ValueError(f"{name} has no column {', '.join(unknown)}")
    where = [_condition(table, column, value) for column, value in filters.items()]
    with engine.connect() as conn:
        run = _run(conn, run_id)
        owner_id = run_id if owner == "run_id" else run.feed_id
        pairs = [] if principal.sees_all else _assignor_pairs(conn, run.feed_id, str(principal.assignee))
        where += _visible(table, name, principal, pairs)
        frame = _read(conn, table, owner, owner_id, where)
    return _feed_frame(name, frame) if name in FEED_TABLES else frame
