"""spatial index

Indexes for the spatial and territorial look-ups of geo.resolve: (type, lat, lon, status) answers "the
nearest units of these types in a box" from the index alone (a bounding box first, the exact distance on
the few rows it holds, the box widened until enough are found); (gmina_id6, type) and (powiat_teryt, type)
find the competent offices of a gmina or powiat without reading every institution of a dense city. Plain
B-tree indexes: the same on SQLite and on PostgreSQL without PostGIS (bench/spatial.py measures them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:05:00.000000
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = (
    ('ix_institution_type_point', ['type', 'lat', 'lon', 'status']),
    ('ix_institution_gmina_type', ['gmina_id6', 'type']),
    ('ix_institution_powiat_type', ['powiat_teryt', 'type']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'institution', columns, unique=False)


def downgrade() -> None:
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name='institution')
