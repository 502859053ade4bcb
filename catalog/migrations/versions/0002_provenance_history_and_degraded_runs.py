"""provenance history and degraded runs

FieldProvenance rows are superseded instead of deleted (superseded_at, superseded_run_id); the unique
constraint over (institution_id, field, source, source_key) becomes a partial unique index over the
current rows only, so history rows can share the identity. ScrapeRun gets `degraded` (mass removals the
merge withheld) and `notes` (ingest-time cleaning warnings).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:39:17.294638
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_COLUMNS = ['institution_id', 'field', 'source', 'source_key']
_CURRENT = sa.text('superseded_at IS NULL')
# SQLite reflects the initial schema's unnamed UNIQUE without a name: the batch naming convention gives
# it this one so it can be dropped; PostgreSQL named it itself.
_SQLITE_UQ = 'uq_fieldprovenance_institution_id'
_POSTGRES_UQ = 'fieldprovenance_institution_id_field_source_source_key_key'
_CONVENTION = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _old_unique_name() -> str:
    return _SQLITE_UQ if op.get_bind().dialect.name == 'sqlite' else _POSTGRES_UQ


def upgrade() -> None:
    with op.batch_alter_table('fieldprovenance', schema=None, naming_convention=_CONVENTION) as batch_op:
        batch_op.add_column(sa.Column('superseded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('superseded_run_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(_old_unique_name(), type_='unique')
        batch_op.create_index('uq_provenance_current', _COLUMNS, unique=True,
                              sqlite_where=_CURRENT, postgresql_where=_CURRENT)

    with op.batch_alter_table('scraperun', schema=None) as batch_op:
        batch_op.add_column(sa.Column('degraded', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('notes', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('scraperun', schema=None) as batch_op:
        batch_op.drop_column('notes')
        batch_op.drop_column('degraded')

    # The old unique constraint cannot hold history: downgrading drops the superseded rows.
    op.execute('DELETE FROM fieldprovenance WHERE superseded_at IS NOT NULL')
    with op.batch_alter_table('fieldprovenance', schema=None) as batch_op:
        batch_op.drop_index('uq_provenance_current', sqlite_where=_CURRENT, postgresql_where=_CURRENT)
        batch_op.drop_column('superseded_run_id')
        batch_op.drop_column('superseded_at')
        batch_op.create_unique_constraint(_POSTGRES_UQ, _COLUMNS)
