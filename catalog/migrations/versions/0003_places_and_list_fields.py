"""places and list fields

Institution gets what the official DPS/ŚDS/OPS lists carry: places_total, places_free and their date
places_as_of (one dated observation), the ePUAP inbox, the types of home (JSON list) and the head.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:05:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('places_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('places_free', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('places_as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('epuap', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('home_types', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('head', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('institution', schema=None) as batch_op:
        for column in ('head', 'home_types', 'epuap', 'places_as_of', 'places_free', 'places_total'):
            batch_op.drop_column(column)
