"""Alembic environment for the store (calc/store/models.py).

Two ways in:
- ``calc.store.upgrade(engine)`` passes its open connection in
  ``config.attributes["connection"]``: the migration runs on it and logging is
  left alone;
- the ``alembic`` command: the database is ``-x url=...``, else the one
  ``calc.store.get_engine`` picks ($DATABASE_URL, else data/bshare.db), with
  the top-level ``alembic.ini`` of a source checkout.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from calc.store.engine import get_engine, resolve_url
from calc.store.models import metadata

config = context.config
target_metadata = metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``)."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    context.configure(
        url=resolve_url(url),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = get_engine(context.get_x_argument(as_dictionary=True).get("url"))
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
