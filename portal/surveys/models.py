"""Survey campaigns, their rounds, and answers stored apart from the people who gave them.

Anonymity is built into the schema (DESIGN.md, idea 4):
- SurveyParticipation says that a person answered a round. It has no id sequence and no timestamp.
- SurveyResponse holds one person's answers about one agent. It has no user id, a random UUID key
  (an autoincrement key would follow insertion order and line up with participation), and no time at
  all: only its round's period, so answers cannot be matched to participation by time.
"""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Role, Team
from portal.agents.models import Agent
from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User

DEFAULT_ANONYMITY_THRESHOLD = 5
MIN_ANONYMITY_THRESHOLD = 3


class Cadence(LabelledEnum):
    ONCE = ("once", "Once")
    MONTHLY = ("monthly", "Monthly")
    QUARTERLY = ("quarterly", "Quarterly")

    @property
    def months(self) -> int | None:
        """Length of one round in months; None for a single round over the whole window."""
        return {"once": None, "monthly": 1, "quarterly": 3}[self.value]


class CampaignStatus(LabelledEnum):
    DRAFT = ("draft", "Draft")
    SCHEDULED = ("scheduled", "Scheduled")
    RUNNING = ("running", "Running")
    ENDED = ("ended", "Ended")


class QuestionKind(LabelledEnum):
    LIKERT = ("likert", "Agreement, 1 to 5")
    TEXT = ("text", "Free text")


survey_campaign_agents = sa.Table(
    "survey_campaign_agents",
    db.metadata,
    sa.Column(
        "campaign_id",
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("agent_id", sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
)

survey_campaign_teams = sa.Table(
    "survey_campaign_teams",
    db.metadata,
    sa.Column(
        "campaign_id",
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class SurveyCampaign(db.Model):
    """Which agents are asked about, whom we ask, when, and how often.

    Settings that shape the answers (agents, audience, cadence, questions, anonymity threshold) are
    fixed once the first round opens (`opened_at`), so every round is comparable and nobody can
    lower the threshold after seeing who answered.
    """

    __tablename__ = "survey_campaigns"
    __table_args__ = (
        sa.CheckConstraint(
            f"anonymity_threshold >= {MIN_ANONYMITY_THRESHOLD}", name="threshold_minimum"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    cadence: Mapped[Cadence] = mapped_column(enum_type(Cadence), default=Cadence.ONCE)
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date | None] = mapped_column(sa.Date)
    anonymity_threshold: Mapped[int] = mapped_column(default=DEFAULT_ANONYMITY_THRESHOLD)
    is_for_everyone: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agents: Mapped[list[Agent]] = relationship(
        secondary=survey_campaign_agents, order_by=Agent.name, lazy="selectin"
    )
    audience_teams: Mapped[list[Team]] = relationship(
        secondary=survey_campaign_teams, order_by=Team.name, lazy="selectin"
    )
    audience_role_rows: Mapped[list["SurveyAudienceRole"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", lazy="selectin"
    )
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="SurveyQuestion.position",
        lazy="selectin",
    )
    rounds: Mapped[list["SurveyRound"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="SurveyRound.period_start",
    )

    @property
    def audience_roles(self) -> set[Role]:
        return {row.role for row in self.audience_role_rows}

    @property
    def status(self) -> CampaignStatus:
        if self.ended_at is not None:
            return CampaignStatus.ENDED
        if self.opened_at is not None:
            return CampaignStatus.RUNNING
        if self.launched_at is not None:
            return CampaignStatus.SCHEDULED
        return CampaignStatus.DRAFT

    @property
    def has_opened(self) -> bool:
        return self.opened_at is not None

    @property
    def is_launched(self) -> bool:
        return self.launched_at is not None

    def includes(self, user: "User") -> bool:
        """Is `user` in this campaign's audience (everyone, one of its teams, or one of its roles)?"""
        if not user.is_active_account:
            return False
        if self.is_for_everyone:
            return True
        if user.team_id is not None and user.team_id in {t.id for t in self.audience_teams}:
            return True
        return bool(self.audience_roles & user.roles)

    def results_visible_to(self, user: "User") -> bool:
        """Admins and managers read the results of every launched campaign."""
        return self.is_launched and user.has_any_role(Role.ADMIN, Role.MANAGER)

    def __repr__(self) -> str:
        return f"<SurveyCampaign {self.id}>"


class SurveyAudienceRole(db.Model):
    __tablename__ = "survey_audience_roles"

    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role), primary_key=True)

    campaign: Mapped[SurveyCampaign] = relationship(back_populates="audience_role_rows")


class SurveyQuestion(db.Model):
    """An extra question an admin added; asked about each agent of the campaign."""

    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind))
    prompt: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[SurveyCampaign] = relationship(back_populates="questions")


class SurveyRound(db.Model):
    """One period of a campaign: open to answers from `opens_at` until `closes_at`."""

    __tablename__ = "survey_rounds"
    # The unique number per campaign keeps two sweeps from opening the same period twice.
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "number"),
        sa.Index("ix_survey_rounds_open", "closed_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)  # last day of the period, inclusive
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audience_size: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[SurveyCampaign] = relationship(back_populates="rounds", lazy="joined")
    audience: Mapped[list["SurveyRoundAudience"]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and self.opens_at <= now < self.closes_at

    @property
    def label(self) -> str:
        start, end = self.period_start, self.period_end
        cadence = self.campaign.cadence
        if cadence is Cadence.MONTHLY and start.day == 1:
            return start.strftime("%B %Y")
        if cadence is Cadence.QUARTERLY and start.day == 1 and start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        return f"{start:%d %b %Y} to {end:%d %b %Y}"

    def __repr__(self) -> str:
        return f"<SurveyRound {self.campaign_id}#{self.number}>"


class SurveyRoundAudience(db.Model):
    """How many people of each team were asked when the round opened (the response-rate base)."""

    __tablename__ = "survey_round_audience"
    __table_args__ = (sa.UniqueConstraint("round_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    size: Mapped[int]

    round: Mapped[SurveyRound] = relationship(back_populates="audience")


class SurveyParticipation(db.Model):
    """That a person answered a round: one row each, so one answer each. Deliberately no timestamp."""

    __tablename__ = "survey_participations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))


class SurveyResponse(db.Model):
    """One person's answers about one agent in one round. No user id, no time (see module doc)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        sa.CheckConstraint("trust BETWEEN 1 AND 5", name="trust_range"),
        sa.CheckConstraint("nps BETWEEN 0 AND 10", name="nps_range"),
        sa.Index("ix_survey_responses_round_agent", "round_id", "agent_id"),
        sa.Index("ix_survey_responses_agent_period", "agent_id", "period_start"),
        sa.Index("ix_survey_responses_team_period", "team_id", "period_start"),
        # On SQLite a rowid would number rows in the order they came in: store by the random key.
        {"sqlite_with_rowid": False},
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    # The respondent's team when they answered: per-team figures need it, and the anonymity
    # threshold protects it like every other breakdown.
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    period_start: Mapped[date] = mapped_column(sa.Date)
    satisfaction: Mapped[int] = mapped_column(sa.SmallInteger)
    trust: Mapped[int] = mapped_column(sa.SmallInteger)
    nps: Mapped[int] = mapped_column(sa.SmallInteger)
    change_text: Mapped[str] = mapped_column(sa.Text, default="")

    answers: Mapped[list["SurveyAnswer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class SurveyAnswer(db.Model):
    """An answer to one of the campaign's own questions, part of a SurveyResponse."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    text: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


class SurveyScoreRollup(db.Model):
    """The sums behind every score figure of one CLOSED round, per agent and respondent team.

    Written by `services.roll_up_round` in the transaction that closes the round (and rewritten if a
    closed round's answers ever change), so dashboards read a few rows per round and agent instead
    of every answer. `team_id` NULL: people without a team. NULLs are distinct in the unique
    constraint, and a deleted team turns its rows into further NULL rows (as it does the answers'),
    so readers always SUM the rows of a group.
    """

    __tablename__ = "survey_score_rollups"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "agent_id", "team_id"),
        sa.Index("ix_survey_score_rollups_agent_round", "agent_id", "round_id"),
        sa.Index("ix_survey_score_rollups_team_round", "team_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    responses: Mapped[int]
    satisfaction_sum: Mapped[int]
    trust_sum: Mapped[int]
    promoters: Mapped[int]
    detractors: Mapped[int]


class SurveyParticipationRollup(db.Model):
    """How many people of each team answered one CLOSED round (the response rate's numerator)."""

    __tablename__ = "survey_participation_rollups"
    __table_args__ = (sa.UniqueConstraint("round_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    participants: Mapped[int]
