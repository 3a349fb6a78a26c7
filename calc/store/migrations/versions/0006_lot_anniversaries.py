"""The lots drill-down's anniversary parts: ``result_lot.anniversary_shares`` and
``result_lot.anniversary_cost``, the part of an issue year's Commission Shares (and their cost,
in cents) whose anniversary of issue in the month end's year has passed (FOURTH (D) counts the
years held by anniversary).  NULL for every run stored before this revision: the Collateral
page then gives the years held as a range, as before.

Plain ``ALTER TABLE ... ADD/DROP COLUMN`` (SQLite 3.35 and later for the drop), never a batch
copy of ``result_lot``: on SQLite that drops and recreates the table, which the triggers of
closed months (0005) refuse and which would lose them.  The downgrade is refused while a month
is closed (a closed run's results are never changed).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('result_lot', sa.Column('anniversary_shares', sa.Double(), nullable=True))
    op.add_column('result_lot', sa.Column('anniversary_cost', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    closed = op.get_bind().scalar(sa.select(sa.func.count()).select_from(sa.table("closed_month")))
    if closed:  # a closed run's results are never changed (0005): its lots keep their columns
        raise RuntimeError(
            f"{closed} closed month(s) are stored: migration 0006 is not undone, "
            "it would drop the anniversary parts of the closed runs' lots"
        )
    op.drop_column('result_lot', 'anniversary_cost')
    op.drop_column('result_lot', 'anniversary_shares')
