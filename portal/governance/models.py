"""Run figures per period (the base of the safety, quality and cost measures) and quarterly reviews."""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.agents.models import Agent
from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User


class FiguresSource(LabelledEnum):
    FORM = ("form", "Entered by an owner")
    API = ("api", "Posted through the API")


class Decision(LabelledEnum):
    CONTINUE = ("continue", "Continue")
    SCALE = ("scale", "Scale")
    MODIFY = ("modify", "Modify")
    PAUSE = ("pause", "Pause")

    @property
    def icon(self) -> str:
        return {
            "continue": "arrow-right-circle",
            "scale": "arrows-angle-expand",
            "modify": "wrench-adjustable",
            "pause": "pause-circle",
        }[self.value]


class AgentPeriodFigures(db.Model):
    """What an agent did in one period: runs, and (when known) quality % and cost per unit of work.

    Periods of one agent never overlap (services.record_figures refuses it), so run volumes add up.
    Sending the same period again replaces its figures (an agent's nightly post is idempotent).
    """

    __tablename__ = "agent_period_figures"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "period_start", "period_end"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.CheckConstraint("runs >= 0", name="runs_not_negative"),
        sa.CheckConstraint("quality_pct BETWEEN 0 AND 100", name="quality_range"),
        sa.CheckConstraint("cost_per_unit >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)  # inclusive
    runs: Mapped[int] = mapped_column(sa.BigInteger)
    quality_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    cost_per_unit: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 4))
    source: Mapped[FiguresSource] = mapped_column(enum_type(FiguresSource))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agent: Mapped[Agent] = relationship()
    recorded_by: Mapped[Optional["User"]] = relationship()

    def __repr__(self) -> str:
        return f"<AgentPeriodFigures {self.agent_id} {self.period_start}..{self.period_end}>"


class GovernanceReview(db.Model):
    """A quarter's decision about an agent, with the figures and thresholds it was based on, frozen.

    `measured` and `thresholds` are JSON copies taken when the decision was recorded: later changes
    to thresholds, late reports or corrected run figures never rewrite what the council saw.
    """

    __tablename__ = "governance_reviews"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "year", "quarter"),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)  # inclusive
    agent_version: Mapped[str] = mapped_column(sa.String(40), default="")
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    measured: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    thresholds: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    agent: Mapped[Agent] = relationship()
    decided_by: Mapped[Optional["User"]] = relationship()

    @property
    def quarter_label(self) -> str:
        return f"Q{self.quarter} {self.year}"

    def visible_to(self, user: "User") -> bool:
        """Managers and admins read every review; an agent's owners read their agent's."""
        if not user.is_authenticated:
            return False
        return user.has_any_role("manager", "admin") or self.agent.is_owned_by(user)

    def __repr__(self) -> str:
        return f"<GovernanceReview {self.agent_id} {self.quarter_label}>"
