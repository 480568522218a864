"""data generations: a token per area of data, renewed with each change (cache validation)

data_generations holds one row per area (for now "reports", what the triage queue shows). The row
is written by the first change to its area; until then nothing is cached for it.

Revision ID: 0012_data_generations
Revises: 0011_dashboard_covering_indexes
Create Date: 2026-11-24 13:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_data_generations"
down_revision = "0011_dashboard_covering_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_generations",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_generations")),
    )


def downgrade():
    op.drop_table("data_generations")
