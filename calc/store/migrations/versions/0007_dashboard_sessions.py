"""The dashboard's persistent sign-ins (issue 10): table ``app_session``.

One row per signed-in browser: its user (deleted with the user), the SHA-256 of the
one-time hand-over code until the browser exchanges it, then the SHA-256 of the cookie's
token (never the token), when it was created and last seen, and when it expires.  The
downgrade drops the table: every browser signs in again with its password.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:51:26.950458
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_session',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(), nullable=True),
    sa.Column('code_hash', sa.String(), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.user_id'], name=op.f('fk_app_session_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_app_session')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_app_session_code_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_app_session_token_hash'))
    )
    with op.batch_alter_table('app_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('app_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_app_session_expires_at'))

    op.drop_table('app_session')
