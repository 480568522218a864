from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User


class Lifecycle(LabelledEnum):
    PILOT = ("pilot", "Pilot")
    PRODUCTION = ("production", "Production")
    PAUSED = ("paused", "Paused")
    RETIRED = ("retired", "Retired")


class ReportCategory(LabelledEnum):
    """What kind of problem a report is about. Lives here because routing rules are per category."""

    WRONG_OUTPUT = ("wrong_output", "Wrong or inaccurate output")
    UNSAFE = ("unsafe", "Unsafe or policy violation")
    UNAVAILABLE = ("unavailable", "Slow or unavailable")
    INTEGRATION = ("integration", "Integration or data error")
    USABILITY = ("usability", "Hard to use")
    CONCERN = ("concern", "Concern or suggestion")


class OwnerKind(LabelledEnum):
    BUSINESS = ("business", "Business owner")
    TECHNICAL = ("technical", "Technical owner")
    GOVERNANCE = ("governance", "Governance owner")


class Agent(db.Model):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[str] = mapped_column(sa.String(40))
    lifecycle: Mapped[Lifecycle] = mapped_column(enum_type(Lifecycle), default=Lifecycle.PILOT)
    business_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    technical_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    governance_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Success thresholds, set before go-live (DESIGN.md, idea 3).
    quality_min_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    safety_max_per_1000: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 3))
    cost_max_per_unit: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 4))
    satisfaction_min: Mapped[Decimal | None] = mapped_column(sa.Numeric(3, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    business_owner: Mapped[Optional["User"]] = relationship(foreign_keys=[business_owner_id])
    technical_owner: Mapped[Optional["User"]] = relationship(foreign_keys=[technical_owner_id])
    governance_owner: Mapped[Optional["User"]] = relationship(foreign_keys=[governance_owner_id])
    routing_rules: Mapped[list["RoutingRule"]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", order_by="RoutingRule.category"
    )

    def owner(self, kind: OwnerKind) -> Optional["User"]:
        return getattr(self, f"{kind.value}_owner")

    @property
    def owner_ids(self) -> set[int]:
        ids = (self.business_owner_id, self.technical_owner_id, self.governance_owner_id)
        return {owner_id for owner_id in ids if owner_id is not None}

    def is_owned_by(self, user: "User") -> bool:
        return user.id in self.owner_ids

    def can_manage(self, user: "User") -> bool:
        """Admins manage every agent; an agent's owners manage theirs."""
        return user.is_authenticated and (user.is_admin or self.is_owned_by(user))

    def __repr__(self) -> str:
        return f"<Agent {self.slug}>"


class RoutingRule(db.Model):
    """Reports of `category` about this agent are suggested to `owner` (fallback: technical owner)."""

    __tablename__ = "routing_rules"
    __table_args__ = (sa.UniqueConstraint("agent_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    category: Mapped[ReportCategory] = mapped_column(enum_type(ReportCategory))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)

    agent: Mapped[Agent] = relationship(back_populates="routing_rules")
    owner: Mapped["User"] = relationship()
