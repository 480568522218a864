"""survey rollups: score sums per (round, agent, team) and participants per (round, team)

Closed rounds never change, so the dashboards read these sums instead of every answer. Rounds
already closed are back-filled here; from now on a round's rollups are written when it closes
(portal.surveys.services.roll_up_round).

Revision ID: 0008_survey_rollups
Revises: 0007_webhooks
Create Date: 2026-11-24 07:42:04.484287

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_survey_rollups"
down_revision = "0007_webhooks"
branch_labels = None
depends_on = None

# The sums as portal.surveys.metrics defined them at this revision (round_score_sums and
# round_participant_counts): NPS promoters answer 9-10, detractors 0-6.
BACKFILL_SCORES = """
INSERT INTO survey_score_rollups
    (round_id, agent_id, team_id, responses, satisfaction_sum, trust_sum, promoters, detractors)
SELECT answer.round_id, answer.agent_id, answer.team_id, COUNT(*),
       SUM(answer.satisfaction), SUM(answer.trust),
       SUM(CASE WHEN answer.nps >= 9 THEN 1 ELSE 0 END),
       SUM(CASE WHEN answer.nps <= 6 THEN 1 ELSE 0 END)
FROM survey_responses AS answer
JOIN survey_rounds AS survey_round ON survey_round.id = answer.round_id
WHERE survey_round.closed_at IS NOT NULL
GROUP BY answer.round_id, answer.agent_id, answer.team_id
"""
BACKFILL_PARTICIPANTS = """
INSERT INTO survey_participation_rollups (round_id, team_id, participants)
SELECT answered.round_id, answered.team_id, COUNT(*)
FROM survey_participations AS answered
JOIN survey_rounds AS survey_round ON survey_round.id = answered.round_id
WHERE survey_round.closed_at IS NOT NULL
GROUP BY answered.round_id, answered.team_id
"""


def upgrade():
    op.create_table(
        "survey_participation_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_rounds.id"],
            name=op.f("fk_survey_participation_rollups_round_id_survey_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_survey_participation_rollups_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_participation_rollups")),
        sa.UniqueConstraint(
            "round_id", "team_id", name=op.f("uq_survey_participation_rollups_round_id")
        ),
    )
    op.create_table(
        "survey_score_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("satisfaction_sum", sa.Integer(), nullable=False),
        sa.Column("trust_sum", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_survey_score_rollups_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_rounds.id"],
            name=op.f("fk_survey_score_rollups_round_id_survey_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_survey_score_rollups_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_score_rollups")),
        sa.UniqueConstraint(
            "round_id", "agent_id", "team_id", name=op.f("uq_survey_score_rollups_round_id")
        ),
    )
    with op.batch_alter_table("survey_score_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_score_rollups_agent_round", ["agent_id", "round_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_score_rollups_team_round", ["team_id", "round_id"], unique=False
        )

    op.execute(BACKFILL_SCORES)
    op.execute(BACKFILL_PARTICIPANTS)


def downgrade():
    with op.batch_alter_table("survey_score_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_score_rollups_team_round")
        batch_op.drop_index("ix_survey_score_rollups_agent_round")

    op.drop_table("survey_score_rollups")
    op.drop_table("survey_participation_rollups")
