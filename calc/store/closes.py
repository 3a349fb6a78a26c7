"""Closed months and restatements: freezing a month's Monthly Calculation, reading it back.

Persistence only.  ``close_month`` stores one month of a run as its six CSV files, byte for
byte as ``calc.report.csv_text`` writes that month's rows, with the SHA-256 of each file,
of the six together (``tables_checksum``) and of the inputs they came from (the run's feed
checksum; the reference tables as of the month end, ``reference_checksum``; those with the
NAVs and transactions dated up to the month end, ``inputs_checksum``).  A close is
recorded in the audit trail in the same transaction.

``record_restatements`` runs inside a load's transaction: for each closed month the new
run covers, the run's six files of that month are compared with the closed ones; where
they differ, the run is recorded as a restatement (a new version of the month; the closed
rows stay) and in the audit trail.  The database refuses any change to closed rows
(migration 0005's triggers and foreign keys).

Reads (``list_closes``, ``list_restatements``, ``closed_files``, ``month_files``,
``restated_payments``) are for principals who see every party: a closed month holds every
party's figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pandas as pd
import sqlalchemy as sa

from calc.access import AccessDenied, Principal
from calc.engine.state import reference_checksum
from calc.feed import Feed
from calc.report import COLUMNS, DATE_COLUMNS, TABLE_NAMES, csv_text
from calc.store.audit import ACTION_CLOSE, ACTION_RESTATEMENT, record_event
from calc.store.convert import DATE_DTYPE, FEED_DATE_DTYPE, from_columns
from calc.store.engine import upgrade_connection, write_transaction
from calc.store.models import (
    CLOSED_FILE_TABLE,
    CLOSED_MONTH_TABLE,
    FEED_TABLES,
    RESTATEMENT_TABLE,
    RESULT_TABLES,
    RUN_TABLE,
    value_columns,
)
from calc.store.write import content_hash
from calc.vocabulary import parse_cdsc_schedule

CLOSE_COLUMNS = [
    "close_id", "month_end", "run_id", "closed_at", "closed_by", "feed_checksum",
    "reference_checksum", "inputs_checksum", "tables_checksum",
]
RESTATEMENT_COLUMNS = [
    "restatement_id", "close_id", "month_end", "version", "run_id", "restated_at", "restated_by",
    "inputs_checksum", "tables_checksum",
]
FILE_SUFFIX = ".csv"


class CloseError(ValueError):
    """A close or an export that cannot be done (the message says why, in plain words)."""


class MonthNotInRun(CloseError):
    """The month is not one of the run's months."""


class MonthAlreadyClosed(CloseError):
    """The month has been closed before (one close a month)."""


class ClosedFilesCorrupt(RuntimeError):
    """A closed file no longer has the checksum it was closed with."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def month_end_of(month: str | pd.Timestamp | dt.date) -> pd.Timestamp:
    """The calendar month end of ``month`` (``"YYYY-MM"``, or any day of the month)."""
    if isinstance(month, str):
        try:
            stamp = pd.Timestamp(dt.datetime.strptime(month, "%Y-%m"))
        except ValueError as err:
            raise CloseError(f"not a month: {month!r} (write it YYYY-MM)") from err
    else:
        stamp = pd.Timestamp(month)
    return (stamp + pd.offsets.MonthEnd(0)).normalize()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tables_checksum(files: dict[str, bytes]) -> str:
    """SHA-256 over the six files' names and SHA-256s, in the tables' order."""
    digest = hashlib.sha256()
    for name in TABLE_NAMES:
        digest.update(f"{name}{FILE_SUFFIX}:{sha256(files[name + FILE_SUFFIX])}\n".encode())
    return digest.hexdigest()


def _require_all(principal: Principal, what: str) -> None:
    if not principal.sees_all:
        raise AccessDenied(f"{what} shows every party's figures; {principal.name} is {principal.role}")


# --- a run's month from the store ----------------------------------------------------------


def _run_row(conn: sa.Connection, run_id: int) -> sa.Row:
    from calc.store.read import RunNotFound

    row = conn.execute(sa.select(RUN_TABLE).where(RUN_TABLE.c.run_id == int(run_id))).first()
    if row is None:
        raise RunNotFound(f"no calculation run {run_id}")
    return row


def _month_where(name: str, table: sa.Table, month_end: pd.Timestamp) -> sa.ColumnElement[bool]:
    """The rows of ``month_end``'s month: by ``month_end``, CDSCs by the redemption's date."""
    if "month_end" in table.c:
        return table.c.month_end == month_end.date()
    first = month_end.replace(day=1).date()
    return table.c.date.between(first, month_end.date())


def run_month_tables(conn: sa.Connection, run_id: int, month_end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The six tables' rows of one month of run ``run_id``, in the order they were written."""
    frames = {}
    for name in TABLE_NAMES:
        table = RESULT_TABLES[name]
        columns = value_columns(table)
        query = (
            sa.select(*(table.c[c] for c in columns))
            .where(table.c.run_id == int(run_id), _month_where(name, table, month_end))
            .order_by(table.c.row_no)
        )
        frames[name] = from_columns(table, pd.read_sql(query, conn), columns, DATE_DTYPE)
    return frames


def month_csv(frames: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """The six CSV files (``summary.csv`` ...) of a month's tables, as ``monthly`` writes them."""
    return {name + FILE_SUFFIX: csv_text(name, frames[name]) for name in TABLE_NAMES}


def _run_months(run: sa.Row) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if run.first_month is None or run.last_month is None:
        return None
    return month_end_of(pd.Timestamp(run.first_month)), month_end_of(pd.Timestamp(run.last_month))


def _feed_until(conn: sa.Connection, feed_id: int, month_end: pd.Timestamp) -> Feed:
    """The stored feed, its NAVs and transactions only up to ``month_end`` (what a month
    depends on), as ``calc.feed`` frames."""
    frames = {}
    for name, table in FEED_TABLES.items():
        columns = value_columns(table)
        where = [table.c.feed_id == int(feed_id)]
        if name in ("nav", "transactions"):
            where.append(table.c.date <= month_end.date())
        query = sa.select(*(table.c[c] for c in columns)).where(*where).order_by(table.c.row_no)
        frame = from_columns(table, pd.read_sql(query, conn), columns, FEED_DATE_DTYPE)
        if name == "portfolios":
            frame["cdsc_schedule"] = [parse_cdsc_schedule(text) for text in frame["cdsc_schedule"]]
        frames[name] = frame
    return Feed(**frames)


def checksums_of(feed: Feed, month_end: pd.Timestamp) -> tuple[str, str]:
    """(reference checksum, inputs checksum) of a feed read by ``_feed_until`` as of
    ``month_end``: the reference tables as they stood then, and with them every NAV and
    transaction dated up to it."""
    reference = reference_checksum(feed, month_end)
    flows = {
        name: frame[frame["date"] <= month_end].reset_index(drop=True)
        for name, frame in (("nav", feed.nav), ("transactions", feed.transactions))
    }
    return reference, sha256(f"reference:{reference}\nflows:{content_hash(flows)}\n".encode())


def input_checksums(conn: sa.Connection, feed_id: int, month_end: pd.Timestamp) -> tuple[str, str]:
    """(reference checksum, inputs checksum) of a stored feed as of ``month_end``."""
    return checksums_of(_feed_until(conn, feed_id, month_end), month_end)


# --- closing ------------------------------------------------------------------------------


def close_on_connection(
    conn: sa.Connection, run_id: int, month: str | pd.Timestamp, principal: Principal
) -> int:
    """Close ``month`` of run ``run_id`` in the caller's transaction; the close id."""
    principal.require_admin("closing a month")
    month_end = month_end_of(month)
    run = _run_row(conn, run_id)
    span = _run_months(run)
    if span is None or not span[0] <= month_end <= span[1]:
        months = "no month" if span is None else f"{span[0]:%Y-%m} to {span[1]:%Y-%m}"
        raise MonthNotInRun(f"{month_end:%Y-%m} is not a month of run {run_id} ({months})")
    if conn.dialect.name == "postgresql":  # a load deciding on restatements waits for this close
        conn.execute(sa.text("LOCK TABLE closed_month IN SHARE ROW EXCLUSIVE MODE"))
    closed = conn.execute(
        sa.select(CLOSED_MONTH_TABLE.c.close_id, CLOSED_MONTH_TABLE.c.run_id).where(
            CLOSED_MONTH_TABLE.c.month_end == month_end.date()
        )
    ).first()
    if closed is not None:
        raise MonthAlreadyClosed(
            f"{month_end:%Y-%m} is closed already (close {closed.close_id}, run {closed.run_id})"
        )
    files = month_csv(run_month_tables(conn, run_id, month_end))
    reference, inputs = input_checksums(conn, run.feed_id, month_end)
    checksum = tables_checksum(files)
    close_id = conn.execute(
        sa.insert(CLOSED_MONTH_TABLE).values(
            run_id=int(run_id),
            month_end=month_end.date(),
            closed_at=_utcnow(),
            closed_by=principal.name,
            feed_checksum=run.feed_checksum,
            reference_checksum=reference,
            inputs_checksum=inputs,
            tables_checksum=checksum,
        )
    ).inserted_primary_key[0]
    conn.execute(
        sa.insert(CLOSED_FILE_TABLE),
        [
            {"close_id": close_id, "name": name, "content": data, "sha256": sha256(data),
             "rows": data.count(b"\n") - 1}
            for name, data in files.items()
        ],
    )
    record_event(
        conn, principal.name, ACTION_CLOSE, run_id=int(run_id),
        detail=f"closed {month_end:%Y-%m} of run {run_id} as close {close_id}; "
        f"tables sha256 {checksum}; inputs sha256 {inputs}; feed checksum {run.feed_checksum}",
    )
    return int(close_id)


def close_month(
    engine: sa.Engine,
    run_id: int,
    month: str | pd.Timestamp,
    principal: Principal,
    *,
    migrate: bool = False,
) -> int:
    """Freeze ``month`` (``"YYYY-MM"``) of run ``run_id``: its six files and checksums are
    stored and the close is audited, in one transaction; the close id.

    ``AccessDenied`` unless ``principal`` is an admin; ``RunNotFound``; ``MonthNotInRun``;
    ``MonthAlreadyClosed`` (one close a month); ``CloseError`` for a month not ``YYYY-MM``.
    ``migrate``: first bring the schema to head in the same transaction.
    """
    principal.require_admin("closing a month")
    month_end = month_end_of(month)
    with write_transaction(engine) as conn:
        if migrate:
            upgrade_connection(conn)
        return close_on_connection(conn, run_id, month_end, principal)


# --- restatements (inside a load's transaction) -------------------------------------------


def record_restatements(conn: sa.Connection, run_id: int, principal: Principal | None) -> list[int]:
    """Record run ``run_id`` (just stored, same transaction) as a restatement of every closed
    month it covers whose six files it changes; the restatement ids (none: nothing changed).

    A restatement needs an admin ``principal`` (its actor in the audit trail):
    ``AccessDenied`` otherwise, and the caller's transaction (the load) rolls back.
    """
    if not sa.inspect(conn).has_table(CLOSED_MONTH_TABLE.name):
        return []
    if conn.dialect.name == "postgresql":  # no close commits between this check and the load's commit
        conn.execute(sa.text("LOCK TABLE closed_month IN SHARE MODE"))
    run = _run_row(conn, run_id)
    span = _run_months(run)
    if span is None:
        return []
    c = CLOSED_MONTH_TABLE
    closes = conn.execute(
        sa.select(c.c.close_id, c.c.month_end, c.c.tables_checksum, c.c.run_id)
        .where(c.c.month_end.between(span[0].date(), span[1].date()))
        .order_by(c.c.month_end)
    ).all()
    ids = []
    feed = None  # read once, up to the last closed month, when a month is restated
    for close in closes:
        month_end = pd.Timestamp(close.month_end)
        checksum = tables_checksum(month_csv(run_month_tables(conn, run_id, month_end)))
        if checksum == close.tables_checksum:
            continue
        if principal is None or not principal.is_admin:
            who = "no signed-in user" if principal is None else f"{principal.name} ({principal.role})"
            raise AccessDenied(
                f"this feed restates the closed month {month_end:%Y-%m}: a restatement is for an "
                f"admin, and the load was made by {who}; nothing was stored"
            )
        if feed is None:
            feed = _feed_until(conn, run.feed_id, pd.Timestamp(closes[-1].month_end))
        _, inputs = checksums_of(feed, month_end)
        r = RESTATEMENT_TABLE
        version = 1 + (
            conn.scalar(sa.select(sa.func.coalesce(sa.func.max(r.c.version), 1)).where(
                r.c.close_id == close.close_id))
        )
        restatement_id = conn.execute(
            sa.insert(r).values(
                close_id=close.close_id, run_id=int(run_id), month_end=month_end.date(),
                version=int(version), restated_at=_utcnow(), restated_by=principal.name,
                inputs_checksum=inputs, tables_checksum=checksum,
            )
        ).inserted_primary_key[0]
        record_event(
            conn, principal.name, ACTION_RESTATEMENT, run_id=int(run_id),
            detail=f"run {run_id} restates {month_end:%Y-%m} (close {close.close_id} of run "
            f"{close.run_id}) as version {version}; tables sha256 {checksum}, closed "
            f"{close.tables_checksum}; inputs sha256 {inputs}",
        )
        ids.append(int(restatement_id))
    return ids


# --- reading ------------------------------------------------------------------------------


def _frame(conn: sa.Connection, query: sa.Select, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=columns)
    return frame


def list_closes(engine: sa.Engine, principal: Principal) -> pd.DataFrame:
    """Every closed month, newest month first, with its restatements counted."""
    _require_all(principal, "the closed months")
    c, r = CLOSED_MONTH_TABLE, RESTATEMENT_TABLE
    count = (
        sa.select(sa.func.count()).where(r.c.close_id == c.c.close_id).scalar_subquery()
    )
    query = sa.select(*(c.c[n] for n in CLOSE_COLUMNS), count.label("restatements")).order_by(
        c.c.month_end.desc()
    )
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(c.name):
            return pd.DataFrame(columns=[*CLOSE_COLUMNS, "restatements"])
        frame = _frame(conn, query, [*CLOSE_COLUMNS, "restatements"])
    frame["month_end"] = pd.to_datetime(frame["month_end"]).astype(DATE_DTYPE)
    return frame


def list_restatements(engine: sa.Engine, principal: Principal) -> pd.DataFrame:
    """Every restatement: the closed month, its version, the restating run, who and when."""
    _require_all(principal, "the restatements")
    r = RESTATEMENT_TABLE
    query = sa.select(*(r.c[n] for n in RESTATEMENT_COLUMNS)).order_by(r.c.restatement_id.desc())
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(r.name):
            return pd.DataFrame(columns=RESTATEMENT_COLUMNS)
        frame = _frame(conn, query, RESTATEMENT_COLUMNS)
    frame["month_end"] = pd.to_datetime(frame["month_end"]).astype(DATE_DTYPE)
    return frame


def _closed_files(conn: sa.Connection, close_id: int) -> dict[str, bytes]:
    f, c = CLOSED_FILE_TABLE, CLOSED_MONTH_TABLE
    rows = conn.execute(
        sa.select(f.c.name, f.c.content, f.c.sha256).where(f.c.close_id == int(close_id))
    ).all()
    expected = conn.scalar(sa.select(c.c.tables_checksum).where(c.c.close_id == int(close_id)))
    files = {row.name: bytes(row.content) for row in rows}
    bad = sorted(row.name for row in rows if sha256(bytes(row.content)) != row.sha256)
    wanted = {name + FILE_SUFFIX for name in TABLE_NAMES}
    if bad or set(files) != wanted or tables_checksum(files) != expected:
        raise ClosedFilesCorrupt(
            f"the files of close {close_id} do not match their checksums ({', '.join(bad) or 'the set'})"
        )
    return files


def closed_files(engine: sa.Engine, close_id: int, principal: Principal) -> dict[str, bytes]:
    """The six files of close ``close_id`` as closed, each checked against its SHA-256."""
    _require_all(principal, "a closed month")
    with engine.connect() as conn:
        return _closed_files(conn, close_id)


def close_of(engine: sa.Engine, run_id: int, month: str | pd.Timestamp) -> int | None:
    """The close of ``month`` made from run ``run_id``, or None."""
    c = CLOSED_MONTH_TABLE
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(c.name):
            return None
        value = conn.scalar(
            sa.select(c.c.close_id).where(
                c.c.run_id == int(run_id), c.c.month_end == month_end_of(month).date()
            )
        )
    return None if value is None else int(value)


def month_files(
    engine: sa.Engine, run_id: int, month: str | pd.Timestamp, principal: Principal
) -> tuple[dict[str, bytes], int | None]:
    """The six files of ``month`` of run ``run_id`` and the close they come from: a month
    closed from this run exactly as closed (checked), any other month from the run's rows."""
    _require_all(principal, "a month's six files")
    month_end = month_end_of(month)
    with engine.connect() as conn:
        run = _run_row(conn, run_id)
        span = _run_months(run)
        if span is None or not span[0] <= month_end <= span[1]:
            months = "no month" if span is None else f"{span[0]:%Y-%m} to {span[1]:%Y-%m}"
            raise MonthNotInRun(f"{month_end:%Y-%m} is not a month of run {run_id} ({months})")
        close_id = None
        if sa.inspect(conn).has_table(CLOSED_MONTH_TABLE.name):
            c = CLOSED_MONTH_TABLE
            close_id = conn.scalar(
                sa.select(c.c.close_id).where(c.c.run_id == int(run_id), c.c.month_end == month_end.date())
            )
        if close_id is not None:
            return _closed_files(conn, close_id), int(close_id)
        return month_csv(run_month_tables(conn, run_id, month_end)), None


def parse_payments(data: bytes) -> pd.DataFrame:
    """A ``payments.csv`` file's rows as a frame (dates parsed, money as floats)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    frame = frame[COLUMNS["payments"]]
    for col in DATE_COLUMNS["payments"]:
        frame[col] = pd.to_datetime(frame[col].replace("", None)).astype(DATE_DTYPE)
    for col in ("distribution_fee", "cdsc", "service_fee", "offset", "payable"):
        frame[col] = pd.to_numeric(frame[col].replace("", None)).astype("float64")
    return frame


def restated_payments(
    engine: sa.Engine, run_id: int, principal: Principal
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(closed, restated): the payments rows of every closed month run ``run_id`` restates,
    as closed and as the run has them (both empty when it restates none)."""
    _require_all(principal, "a restatement")
    r = RESTATEMENT_TABLE
    closed, restated = [], []
    with engine.connect() as conn:
        _run_row(conn, run_id)
        if sa.inspect(conn).has_table(r.name):
            rows = conn.execute(
                sa.select(r.c.close_id, r.c.month_end).where(r.c.run_id == int(run_id)).order_by(r.c.month_end)
            ).all()
        else:
            rows = []
        for row in rows:
            files = _closed_files(conn, row.close_id)
            closed.append(parse_payments(files["payments" + FILE_SUFFIX]))
            month = run_month_tables(conn, run_id, pd.Timestamp(row.month_end))
            restated.append(month["payments"][COLUMNS["payments"]])
    empty = parse_payments(csv_text("payments", pd.DataFrame(columns=COLUMNS["payments"])))
    return (
        pd.concat(closed, ignore_index=True) if closed else empty,
        pd.concat(restated, ignore_index=True) if restated else empty.copy(),
    )


__all__ = [
    "ClosedFilesCorrupt",
    "CloseError",
    "MonthAlreadyClosed",
    "MonthNotInRun",
    "close_month",
    "close_of",
    "closed_files",
    "list_closes",
    "list_restatements",
    "month_end_of",
    "month_files",
    "record_restatements",
    "restated_payments",
]
