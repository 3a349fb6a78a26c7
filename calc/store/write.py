"""Storing a feed and its Monthly Calculation, in one transaction.

``save_calculation`` writes a computed (Feed, MonthlyCalculation) pair and,
when given, the month-end state of its last month (the state's files, in
``run_state_file``), after migrating the schema to head in the same
transaction when asked to: a save that fails midway is rolled back whole.
Reading, validating and computing a feed before it is stored is
``calc.load.load_feed``'s part.

Bulk paths only: PostgreSQL (psycopg 3) gets ``COPY ... FROM STDIN`` in CSV
through the transaction's own driver connection; other databases (SQLite)
get ``executemany`` of core inserts in large batches.  The state's dozen
files are plain inserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

import calc
from calc.access import Principal
from calc.engine.state import MonthEndState, state_files
from calc.feed import Feed
from calc.report import MonthlyCalculation
from calc.store.convert import to_columns
from calc.store.engine import advisory_lock, upgrade_connection, write_transaction
from calc.store.models import (
    FEED_TABLE,
    FEED_TABLES,
    RESULT_TABLES,
    RUN_TABLE,
    STATE_FILE_TABLE,
    STATUS_COMPLETE,
)
from calc.vocabulary import format_cdsc_schedule

Progress = Callable[..., None]

BATCH_ROWS = 50_000  # rows per executemany batch / per COPY data block
PSYCOPG = "psycopg"
STAGE_STORE = "storing feed and results"
DISTRIBUTION = "bshare-fees"


def _silent(*_args: object) -> None:
    return None


def code_version() -> str:
    """``calc.__version__`` (the distribution's version if calc came in as a namespace package)."""
    version = getattr(calc, "__version__", None)
    if version is None:  # a stale editable install maps calc as a namespace: no __init__ ran
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as distribution_version

        try:
            version = distribution_version(DISTRIBUTION)
        except PackageNotFoundError:
            version = ""
    return str(version)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def content_hash(frames: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of a feed's frames as stored (names, columns and every value)."""
    digest = hashlib.sha256()
    for name, frame in frames.items():
        digest.update(f"{name}:{','.join(frame.columns)}:{len(frame)}\n".encode())
        if len(frame):
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


FEED_LOCK_HEX_DIGITS = 7  # of the content hash: a positive int4, never MIGRATION_LOCK_KEY


def feed_lock_key(content: str) -> int:
    """The advisory lock key of a feed's content (1 .. 2**28)."""
    return int(content[:FEED_LOCK_HEX_DIGITS], 16) + 1


def _feed_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A feed frame as its table's columns (the CDSC schedule as text)."""
    if name == "portfolios" and "cdsc_schedule" in frame.columns:
        frame = frame.assign(
            cdsc_schedule=[
                format_cdsc_schedule(schedule)
                for schedule in frame["cdsc_schedule"]
            ]
        )
    return to_columns(FEED_TABLES[name], frame)


def _result_frames(calculation: MonthlyCalculation) -> dict[str, pd.DataFrame]:
    return {
        name: to_columns(table, getattr(calculation, name)) for name, table in RESULT_TABLES.items()
    }


# --- bulk insert -------------------------------------------------------------------


def _with_keys(frame: pd.DataFrame, owner: str, owner_id: int) -> pd.DataFrame:
    keyed = frame.copy()
    keyed.insert(0, "row_no", range(len(frame)))
    keyed.insert(0, owner, owner_id)
    return keyed


def _is_date(table: sa.Table, name: str) -> bool:
    return isinstance(table.c[name].type, sa.Date)


def _arrow(table: sa.Table, frame: pd.DataFrame) -> pa.Table:
    """The rows as an Arrow table: dates as ``date32``, missing values as nulls."""
    arrays = {}
    for name in frame.columns:
        values = frame[name]
        if _is_date(table, name):
            arrays[name] = pa.array(values.to_numpy().astype("datetime64[D]"))
        else:
            arrays[name] = pa.array(values, from_pandas=True)
    return pa.table(arrays)


def _copy_postgres(
    conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, tick: Callable[[int], None]
) -> None:
    """COPY the rows as CSV through the transaction's own psycopg connection.

    Arrow writes the CSV: text always quoted (so ``""`` is an empty string),
    nulls as empty unquoted fields (NULL), floats in their shortest exact form.
    """
    from psycopg import sql

    unknown = [c for c in frame.columns if c not in table.columns]
    if unknown:  # the columns are the model's own; never a name from elsewhere
        raise ValueError(f"{table.name} has no column {', '.join(map(str, unknown))}")
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)").format(
        table=sql.Identifier(table.name), columns=sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    rows = _arrow(table, frame)
    options = pa_csv.WriteOptions(include_header=False)
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, rows.num_rows, BATCH_ROWS):
                block = rows.slice(start, BATCH_ROWS)
                sink = io.BytesIO()
                pa_csv.write_csv(block, sink, options)
                copy.write(sink.getbuffer())
                tick(block.num_rows)
    except conn.dialect.loaded_dbapi.Error as err:  # as SQLAlchemy's own statements raise it
        raise sa.exc.DBAPIError.instance(
            statement.as_string(driver), None, err, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from err


def _python_column(table: sa.Table, frame: pd.DataFrame, name: str, iso_dates: bool) -> list:
    """One column as Python values for the DB-API driver (None where missing)."""
    values = frame[name]
    missing = values.isna().to_numpy()
    if _is_date(table, name):
        days = values.to_numpy().astype("datetime64[D]")
        out = np.datetime_as_string(days).tolist() if iso_dates else days.astype(object).tolist()
    else:
        out = values.to_numpy(dtype=object).tolist()
    if missing.any():
        for i in np.flatnonzero(missing):
            out[i] = None
    return out


def _executemany(
    conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, tick: Callable[[int], None]
) -> None:
    """The table's core INSERT, executemany'd ``BATCH_ROWS`` rows at a time.

    The rows go to the driver as Python values (SQLite: dates as ISO text, the
    form SQLAlchemy's SQLite ``Date`` stores), without per-row ORM or bind work.
    """
    names = list(frame.columns)
    compiled = sa.insert(table).compile(dialect=conn.dialect, column_keys=names)
    iso_dates = conn.dialect.name == "sqlite"
    columns = {name: _python_column(table, frame, name, iso_dates) for name in names}
    if compiled.positional:
        order = [compiled.binds[key].key for key in compiled.positiontup]
        rows: list = list(zip(*(columns[name] for name in order), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    for start in range(0, len(rows), BATCH_ROWS):
        block = rows[start : start + BATCH_ROWS]
        conn.exec_driver_sql(compiled.string, block)
        tick(len(block))


def _bulk_insert(
    conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, tick: Callable[[int], None]
) -> None:
    if frame.empty:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == PSYCOPG:
        _copy_postgres(conn, table, frame, tick)
    else:
        _executemany(conn, table, frame, tick)


def _in_database(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the nullable columns a database at an earlier revision lacks (those a
    later migration added, e.g. 0006's ``result_lot.anniversary_*``): NULL once it is migrated."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    absent = [c for c in frame.columns if c not in present and c in table.c and table.c[c].nullable]
    return frame.drop(columns=absent) if absent else frame


def _insert_state(
    conn: sa.Connection, run_id: int, files: dict[str, bytes], tick: Callable[[int], None]
) -> None:
    """The state's files as ``run_state_file`` rows (a dozen rows: plain inserts)."""
    if files:
        rows = [{"run_id": run_id, "name": name, "content": data} for name, data in files.items()]
        conn.execute(sa.insert(STATE_FILE_TABLE), rows)
        tick(len(rows))


# --- saving -------------------------------------------------------------------------


def save_on_connection(
    conn: sa.Connection,
    feed: Feed,
    calculation: MonthlyCalculation,
    progress: Progress | None = None,
    state: MonthEndState | None = None,
) -> int:
    """Store ``feed`` (unless the same content is stored already), ``calculation`` and
    ``state``, the month-end state of its last month (None: the run has none).

    Runs in the caller's transaction on ``conn``; returns the new run id.
    """
    progress = progress or _silent
    files = state_files(state) if state is not None else {}
    feed_frames = {name: _feed_frame(name, getattr(feed, name)) for name in FEED_TABLES}
    content = content_hash(feed_frames)
    checksum = feed.checksum or content
    results = _result_frames(calculation)
    months = feed.months()

    # Two loads of the same new feed at once: the second waits for the first to commit,
    # then finds the feed stored (content_hash is unique) instead of failing on it.
    advisory_lock(conn, feed_lock_key(content))
    feed_id = conn.scalar(
        sa.select(FEED_TABLE.c.feed_id).where(FEED_TABLE.c.content_hash == content)
    )
    if feed_id is not None:
        feed_frames = {}  # stored already
    total = (
        sum(len(f) for f in feed_frames.values())
        + sum(len(f) for f in results.values())
        + len(files)
    )
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done += rows
        progress(STAGE_STORE, done, total)

    if feed_id is None:
        feed_id = conn.execute(
            sa.insert(FEED_TABLE).values(
                content_hash=content, checksum=checksum, source=feed.source, loaded_at=_utcnow()
            )
        ).inserted_primary_key[0]
        for name, frame in feed_frames.items():
            _bulk_insert(conn, FEED_TABLES[name], _with_keys(frame, "feed_id", feed_id), tick)

    run_id = conn.execute(
        sa.insert(RUN_TABLE).values(
            feed_id=feed_id,
            feed_checksum=checksum,
            source=feed.source,
            code_version=code_version(),
            created_at=_utcnow(),
            status=STATUS_COMPLETE,
            months=len(months),
            first_month=months[0].date() if len(months) else None,
            last_month=months[-1].date() if len(months) else None,
            **{f"{name}_rows": len(frame) for name, frame in results.items()},
            state_month_end=state.month_end.date() if state is not None else None,
        )
    ).inserted_primary_key[0]
    _insert_state(conn, run_id, files, tick)
    for name, frame in results.items():
        table = RESULT_TABLES[name]
        _bulk_insert(conn, table, _in_database(conn, table, _with_keys(frame, "run_id", run_id)), tick)
    if total == 0:
        progress(STAGE_STORE)
    return int(run_id)


def save_calculation(
    engine: sa.Engine,
    feed: Feed,
    calculation: MonthlyCalculation,
    progress: Progress | None = None,
    *,
    migrate: bool = False,
    state: MonthEndState | None = None,
    principal: Principal | None = None,
) -> int:
    """Store ``feed``, its ``calculation`` and its month-end ``state`` (what
    ``calc.monthly.compute`` returns beside it; None: no state is stored) in one
    transaction; returns the run id.

    ``migrate``: first bring the schema to head, in the same transaction;
    otherwise it must be at head already (``calc.store.upgrade``).  Any
    failure rolls the whole transaction back: the database is left as it was.

    A run that changes a closed month is recorded as its restatement, in the same
    transaction (``calc.store.closes.record_restatements``): ``principal`` is who loads
    it, and a restatement needs an admin (``AccessDenied`` otherwise, nothing stored).
    """
    from calc.store.closes import record_restatements

    with write_transaction(engine) as conn:
        if migrate:
            upgrade_connection(conn)
        run_id = save_on_connection(conn, feed, calculation, progress, state)
        record_restatements(conn, run_id, principal)
        return run_id
