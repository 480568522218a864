"""indexes found by the benchmark: training figures, triage queue, my reports

ix_training_attempts_first_submitted: first attempts submitted in a period, with module, person
and result, so the first-attempt pass rate per team reads no attempt rows.
ix_training_assignments_due_cover: assignments due in a period with module, person and completion,
so training completion per team reads no assignment rows.
ix_reports_agent_severity_status_due: the triage queue filtered by agent and severity (its status
counts and its rows ordered by due time).
ix_reports_reporter_created: a reporter's reports newest first; replaces ix_reports_reporter_id
(its leading column).

Revision ID: 0011_dashboard_covering_indexes
Revises: 0010_time_to_act_rollup
Create Date: 2026-11-24 08:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_dashboard_covering_indexes"
down_revision = "0010_time_to_act_rollup"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_agent_severity_status_due",
            ["agent_id", "severity", "status", "sla_due_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_reporter_created", ["reporter_id", "created_at"], unique=False
        )
        batch_op.drop_index("ix_reports_reporter_id")
    with op.batch_alter_table("training_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_attempts_first_submitted",
            ["attempt_number", "submitted_at", "module_id", "user_id", "passed"],
            unique=False,
        )
    with op.batch_alter_table("training_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_assignments_due_cover",
            ["due_on", "module_id", "user_id", "completed_at"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("training_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_training_assignments_due_cover")
    with op.batch_alter_table("training_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_training_attempts_first_submitted")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_reporter_id", ["reporter_id"], unique=False)
        batch_op.drop_index("ix_reports_reporter_created")
        batch_op.drop_index("ix_reports_agent_severity_status_due")
