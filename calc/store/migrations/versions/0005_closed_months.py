"""Closed months and restatements: ``closed_month`` (a month frozen from one run, with the
checksums of its inputs and of its six tables), ``closed_file`` (the six CSV files of the
month, byte for byte) and ``restatement`` (a later run whose figures for a closed month
differ: a new version, the closed rows untouched).

The database itself keeps closed figures as they are, whatever writes to it:

- ``closed_month``, ``closed_file`` and ``restatement`` rows are never updated or deleted;
- a run that is closed or restates a closed month, its results, its state files, its feed
  and the feed's rows are never updated or deleted (foreign keys RESTRICT, and triggers);
- on PostgreSQL no protected table is truncated while a month is closed;
- this migration's downgrade refuses while a month is closed (it would drop them).

Triggers are written out from the fixed table names below (no value of any row is ever
part of their text).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:57:48.340345
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE = ("closed_month", "closed_file", "restatement")
RUN_KEYED = (
    "calculation_run", "run_state_file", "result_summary", "result_allocation", "result_payment",
    "result_omnibus", "result_cdsc", "result_exception", "result_omnibus_account", "result_lot",
)
FEED_KEYED = (
    "feed", "feed_portfolio", "feed_tenure", "feed_account", "feed_nav", "feed_transaction",
    "feed_assignment", "feed_offset", "feed_plan_event",
)
MESSAGE = "closed months are never changed: this row belongs to a closed or restated month"

# A run is protected when a close or a restatement names it; a feed when such a run uses it.
_RUN_PROTECTED = (
    "EXISTS (SELECT 1 FROM closed_month c WHERE c.run_id = OLD.run_id) "
    "OR EXISTS (SELECT 1 FROM restatement r WHERE r.run_id = OLD.run_id)"
)
_FEED_PROTECTED = (
    "EXISTS (SELECT 1 FROM calculation_run k WHERE k.feed_id = OLD.feed_id AND ("
    "EXISTS (SELECT 1 FROM closed_month c WHERE c.run_id = k.run_id) "
    "OR EXISTS (SELECT 1 FROM restatement r WHERE r.run_id = k.run_id)))"
)


def _guards() -> list[tuple[str, str | None]]:
    """(table, condition on OLD) for every protected table; None: always refused."""
    return (
        [(t, None) for t in IMMUTABLE]
        + [(t, _RUN_PROTECTED) for t in RUN_KEYED]
        + [(t, _FEED_PROTECTED) for t in FEED_KEYED]
    )


def _sqlite_upgrade() -> None:
    for table, condition in _guards():
        when = "" if condition is None else f" WHEN {condition}"
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER bshare_closed_{table}_{event.lower()} BEFORE {event} ON {table} "
                f"FOR EACH ROW{when} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def _sqlite_downgrade() -> None:
    for table, _ in _guards():
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS bshare_closed_{table}_{event}")


def _function(name: str, condition: str | None) -> str:
    test = "TRUE" if condition is None else condition
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {test} THEN RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )


_PG_FUNCTIONS = {
    "bshare_refuse_change": None,
    "bshare_guard_closed_run": _RUN_PROTECTED,
    "bshare_guard_closed_feed": _FEED_PROTECTED,
}
_PG_TRUNCATE = (
    "CREATE FUNCTION bshare_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF EXISTS (SELECT 1 FROM closed_month) THEN RAISE EXCEPTION '{MESSAGE} (TRUNCATE on %)', "
    "TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NULL; END $$"
)


def _pg_function_of(table: str) -> str:
    if table in IMMUTABLE:
        return "bshare_refuse_change"
    return "bshare_guard_closed_run" if table in RUN_KEYED else "bshare_guard_closed_feed"


def _postgres_upgrade() -> None:
    for name, condition in _PG_FUNCTIONS.items():
        op.execute(_function(name, condition))
    op.execute(_PG_TRUNCATE)
    for table, _ in _guards():
        op.execute(
            f"CREATE TRIGGER bshare_closed_{table} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_pg_function_of(table)}()"
        )
        op.execute(
            f"CREATE TRIGGER bshare_closed_{table}_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bshare_refuse_truncate()"
        )


def _postgres_downgrade() -> None:
    for table, _ in _guards():
        op.execute(f"DROP TRIGGER IF EXISTS bshare_closed_{table} ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS bshare_closed_{table}_truncate ON {table}")
    for name in (*_PG_FUNCTIONS, "bshare_refuse_truncate"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def upgrade() -> None:
    op.create_table('closed_month',
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.String(), nullable=False),
    sa.Column('feed_checksum', sa.String(), nullable=False),
    sa.Column('reference_checksum', sa.String(), nullable=False),
    sa.Column('inputs_checksum', sa.String(), nullable=False),
    sa.Column('tables_checksum', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['calculation_run.run_id'], name=op.f('fk_closed_month_run_id_calculation_run'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('close_id', name=op.f('pk_closed_month')),
    sa.UniqueConstraint('month_end', name=op.f('uq_closed_month_month_end'))
    )
    with op.batch_alter_table('closed_month', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closed_month_run_id'), ['run_id'], unique=False)

    op.create_table('closed_file',
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['closed_month.close_id'], name=op.f('fk_closed_file_close_id_closed_month'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('close_id', 'name', name=op.f('pk_closed_file'))
    )
    op.create_table('restatement',
    sa.Column('restatement_id', sa.Integer(), nullable=False),
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('restated_at', sa.DateTime(), nullable=False),
    sa.Column('restated_by', sa.String(), nullable=False),
    sa.Column('inputs_checksum', sa.String(), nullable=False),
    sa.Column('tables_checksum', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['closed_month.close_id'], name=op.f('fk_restatement_close_id_closed_month'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['calculation_run.run_id'], name=op.f('fk_restatement_run_id_calculation_run'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('restatement_id', name=op.f('pk_restatement')),
    sa.UniqueConstraint('close_id', 'run_id', name='uq_restatement_close_id_run_id'),
    sa.UniqueConstraint('close_id', 'version', name='uq_restatement_close_id_version')
    )
    with op.batch_alter_table('restatement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restatement_run_id'), ['run_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgres_upgrade()


def downgrade() -> None:
    closed = op.get_bind().scalar(sa.select(sa.func.count()).select_from(sa.table("closed_month")))
    if closed:
        raise RuntimeError(
            f"{closed} closed month(s) are stored: migration 0005 is not undone, "
            "it would drop the closed figures"
        )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_downgrade()
    elif dialect == "postgresql":
        _postgres_downgrade()
    with op.batch_alter_table('restatement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restatement_run_id'))

    op.drop_table('restatement')
    op.drop_table('closed_file')
    with op.batch_alter_table('closed_month', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closed_month_run_id'))

    op.drop_table('closed_month')
