"""Database fixtures: a store test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL: the server of ``TEST_DATABASE_URL``, else
postgresql://postgres@127.0.0.1:5432/test.  Each test session creates its own
database there (uniquely named) and drops it at the end (a user without the
right to create databases works in the given database instead); each test
gets a fresh schema in it, dropped after the test.  When the server does not answer,
the PostgreSQL variants skip with the reason -- or fail when ``CI`` is set,
because CI guarantees a server.  PostgreSQL variants carry the ``postgres``
mark (``-m "not postgres"`` leaves them out).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ENV_TEST_DATABASE_URL = "TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 3
SESSION_DATABASE_PREFIX = "bshare_test_"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin_engine(url: sa.URL) -> sa.Engine:
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[sa.URL]:
    """A database of this test session on the PostgreSQL server (dropped afterwards)."""
    from calc.store import resolve_url

    server = sa.make_url(resolve_url(os.environ.get(ENV_TEST_DATABASE_URL) or DEFAULT_POSTGRES_URL))
    shown = server.render_as_string(hide_password=True)
    admin = _admin_engine(server)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        admin.dispose()
        reason = f"PostgreSQL at {shown} does not answer ({str(err).strip().splitlines()[0]})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide a server (scripts/ensure-services.sh)")
        pytest.skip(
            f"{reason}; set {ENV_TEST_DATABASE_URL} or start the server (scripts/ensure-services.sh)"
        )
    name = f"{SESSION_DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:10]}"
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    except sa.exc.DBAPIError:  # no right to create databases: each test's own schema in this one
        admin.dispose()
        yield server
        return
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema in the session's PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    database: sa.URL = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(database)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the empty database of ``database_url`` (no schema yet)."""
    from calc.store import get_engine

    eng = get_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def store_engine(engine: sa.Engine) -> sa.Engine:
    """An engine on a database migrated to head."""
    from calc.store import upgrade

    upgrade(engine)
    return engine
