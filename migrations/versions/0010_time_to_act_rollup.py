"""time to act in the report rollup; covering index for similar open reports

report_tallies.seconds_to_act: per row, the whole seconds from filed to acted on of its acted-on
reports, as a JSON array (portal.feedback.tallies.seconds_to_act), so that time to act reads whole
months from the rollup. Back-filled here from the reports.

ix_reports_agent_status_created_summary: similar_open_reports scores the summaries of an agent's
open reports; with the summary in the index it does not read the report rows.

Revision ID: 0010_time_to_act_rollup
Revises: 0009_report_tallies
Create Date: 2026-11-24 08:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_time_to_act_rollup"
down_revision = "0009_report_tallies"
branch_labels = None
depends_on = None

# The times to act as portal.feedback.tallies defined them at this revision: whole seconds, rounded.
BACKFILL = {
    "postgresql": """
UPDATE report_tallies SET seconds_to_act = acted.seconds
FROM (
    SELECT CAST(date_trunc('month', timezone('UTC', created_at)) AS DATE) AS month, agent_id,
           severity, category,
           CAST(json_agg(CAST(round(EXTRACT(EPOCH FROM acted_on_at - created_at)) AS INTEGER))
                AS TEXT) AS seconds
    FROM reports
    WHERE status != 'duplicate' AND acted_on_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
) AS acted
WHERE report_tallies.month = acted.month AND report_tallies.agent_id = acted.agent_id
  AND report_tallies.severity = acted.severity AND report_tallies.category = acted.category
""",
    "sqlite": """
UPDATE report_tallies SET seconds_to_act = acted.seconds
FROM (
    SELECT date(created_at, 'start of month') AS month, agent_id, severity, category,
           json_group_array(CAST(round((julianday(acted_on_at) - julianday(created_at)) * 86400.0)
                                 AS INTEGER)) AS seconds
    FROM reports
    WHERE status != 'duplicate' AND acted_on_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
) AS acted
WHERE report_tallies.month = acted.month AND report_tallies.agent_id = acted.agent_id
  AND report_tallies.severity = acted.severity AND report_tallies.category = acted.category
""",
}


def upgrade():
    with op.batch_alter_table("report_tallies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seconds_to_act", sa.Text(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_agent_status_created_summary",
            ["agent_id", "status", "created_at", "summary"],
            unique=False,
        )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL.get(dialect, BACKFILL["sqlite"]))


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_agent_status_created_summary")
    with op.batch_alter_table("report_tallies", schema=None) as batch_op:
        batch_op.drop_column("seconds_to_act")
