"""report tallies: the clock-independent report counts per (UTC month, agent, severity, category)

The dashboards' closed-loop measures read whole months from here instead of every report; a session
event keeps it current on write (portal.feedback.tallies). Back-filled here from the reports. Also an
index on reports (agent_id, category, created_at): governance's unsafe-report join and the rollup's
bucket refresh.

Revision ID: 0009_report_tallies
Revises: 0008_survey_rollups
Create Date: 2026-11-24 08:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_report_tallies"
down_revision = "0008_survey_rollups"
branch_labels = None
depends_on = None

# The counts as portal.feedback.tallies.settled_conditions defined them at this revision.
BACKFILL = """
INSERT INTO report_tallies
    (month, agent_id, severity, category, filed, closed, answered, fixed, acted_in_sla, acted_late,
     open, open_unacted)
SELECT {month}, agent_id, severity, category, COUNT(*),
       SUM(CASE WHEN status IN ('acted_on', 'closed', 'declined')
                 AND reporter_notified_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN is_fixed IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN is_fixed THEN 1 ELSE 0 END),
       SUM(CASE WHEN acted_on_at IS NOT NULL AND acted_on_at <= sla_due_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN acted_on_at IS NOT NULL AND acted_on_at > sla_due_at THEN 1 ELSE 0 END),
       SUM(CASE WHEN status IN ('new', 'triaged', 'routed', 'in_progress', 'reopened')
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN status IN ('new', 'triaged', 'routed', 'in_progress', 'reopened')
                 AND acted_on_at IS NULL THEN 1 ELSE 0 END)
FROM reports
WHERE status != 'duplicate'
GROUP BY {month}, agent_id, severity, category
"""
MONTH = {
    "postgresql": "CAST(date_trunc('month', timezone('UTC', created_at)) AS DATE)",
    "sqlite": "date(created_at, 'start of month')",
}


def upgrade():
    op.create_table(
        "report_tallies",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low", "medium", "high", "critical", name="severity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "wrong_output",
                "unsafe",
                "unavailable",
                "integration",
                "usability",
                "concern",
                name="reportcategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("filed", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("acted_in_sla", sa.Integer(), nullable=False),
        sa.Column("acted_late", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("open_unacted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_report_tallies_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "month", "agent_id", "severity", "category", name=op.f("pk_report_tallies")
        ),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_agent_category_created",
            ["agent_id", "category", "created_at", "status"],
            unique=False,
        )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL.format(month=MONTH.get(dialect, MONTH["sqlite"])))


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_agent_category_created")

    op.drop_table("report_tallies")
