"""zero result queries

ZeroResultQuery: searches that found nothing, aggregated per folded query text, place text and need with a
count and first/last seen, for the operator's `wsparcie status --zero-results`. Text only (no IP, no agent).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('zeroresultquery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query_folded', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('query_text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('place_folded', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('place_text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('need', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('query_folded', 'place_folded', 'need', name='uq_zero_result_key')
    )
    with op.batch_alter_table('zeroresultquery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zeroresultquery_last_seen'), ['last_seen'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zeroresultquery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zeroresultquery_last_seen'))
    op.drop_table('zeroresultquery')
