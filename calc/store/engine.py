"""Which database, and its schema: ``get_engine`` and the alembic ``upgrade``.

``DATABASE_URL`` names the database; without it the store is the SQLite file
``data/bshare.db`` (WAL journal, foreign keys enforced).  ``postgresql://``
URLs use the psycopg 3 driver.  The schema is made by the alembic migrations
(``upgrade``), never by ``metadata.create_all``.  The migrations are package
data, ``calc/store/migrations`` beside this module, and alembic is configured
here in code: an installed package (not only a source checkout with its
``alembic.ini``) can create and migrate a database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:  # alembic is imported where it runs: reading the store (the dashboard) needs none of it
    from alembic.config import Config

ENV_DATABASE_URL = "DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "bshare.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a writer waits for another's write lock before giving up with StoreBusy
# (SQLite's busy timeout): a load of the large sample holds it for about a minute.
SQLITE_BUSY_TIMEOUT_S = 300.0
SQLITE_LOCKED = "database is locked"
# PostgreSQL advisory locks (two int4 keys, held to the end of the transaction): the first
# key is the project's, the second what is locked: the migrations, or one feed's content.
ADVISORY_LOCK_SPACE = 0x62_73_68_66  # "bshf"
MIGRATION_LOCK_KEY = 0
PSYCOPG_DRIVER = "postgresql+psycopg"
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def resolve_url(url: str | None = None) -> str:
    """The database URL: ``url``, else ``$DATABASE_URL``, else the default SQLite file.

    ``postgresql://`` and ``postgres://`` are mapped to the psycopg 3 driver.
    """
    url = url or os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return PSYCOPG_DRIVER + "://" + url[len(prefix) :]
    return url


WRITE_OPTION = "bshare_write"  # execution option: this transaction will write


class StoreBusy(Exception):
    """Another writer held the store's write lock for longer than the busy timeout."""


def _is_locked(err: sa.exc.OperationalError) -> bool:
    return SQLITE_LOCKED in str(err.orig if err.orig is not None else err)


def _busy(err: sa.exc.OperationalError) -> StoreBusy:
    return StoreBusy(
        f"the store is busy: another process has held its write lock for more than "
        f"{SQLITE_BUSY_TIMEOUT_S:g} s; nothing was stored, try again when it has finished"
    )


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (_sqlite_on_begin): DDL and reads are then
    # transactional too, so a failed load, migrations included, rolls back whole.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # A writer takes the write lock up front: no deadlock upgrading a read lock.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def get_engine(database_url: str | None = None) -> sa.Engine:
    """An engine for ``database_url`` (see :func:`resolve_url`); changes no schema."""
    url = sa.make_url(resolve_url(database_url))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """The alembic configuration of the package's migrations, built in code (no ``alembic.ini``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that will write (SQLite: BEGIN IMMEDIATE, waiting up to
    SQLITE_BUSY_TIMEOUT_S for another writer; StoreBusy when it is still held then)."""
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection
    except sa.exc.OperationalError as err:
        if _is_locked(err):
            raise _busy(err) from err
        raise


def advisory_lock(connection: sa.Connection, key: int) -> None:
    """PostgreSQL: wait for, then hold to the end of the transaction, the project's lock
    ``key``; other databases serialise writers already (SQLite: BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_SPACE, key)))


def upgrade_connection(connection: sa.Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` inside the caller's transaction.

    On PostgreSQL, two first loads into an empty database would both create the
    tables: a database not yet at ``revision`` is migrated under an advisory lock,
    so the second waits for the first to commit and then finds nothing to do."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config()
    target = ScriptDirectory.from_config(config).get_revision(revision)
    heads = {target.revision} if target is not None else set()
    if set(MigrationContext.configure(connection).get_current_heads()) != heads:
        advisory_lock(connection, MIGRATION_LOCK_KEY)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Run the migrations on ``engine``'s database up to ``revision`` (default: head)."""
    with write_transaction(engine) as connection:
        upgrade_connection(connection, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Undo migrations on ``engine``'s database down to ``revision`` (``base``: empty)."""
    from alembic import command

    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The alembic revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
