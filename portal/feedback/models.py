"""Reports about agents, their timeline (events), followers ("me too") and attachments."""

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.agents.models import Agent, ReportCategory
from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User


class ReportStatus(LabelledEnum):
    NEW = ("new", "New")
    TRIAGED = ("triaged", "Triaged")
    ROUTED = ("routed", "Routed to owner")
    IN_PROGRESS = ("in_progress", "In progress")
    ACTED_ON = ("acted_on", "Acted on")
    CLOSED = ("closed", "Closed")
    DECLINED = ("declined", "Declined")
    DUPLICATE = ("duplicate", "Duplicate")
    REOPENED = ("reopened", "Reopened")


# Waiting for someone to act: these run against the SLA clock.
OPEN_STATUSES = (
    ReportStatus.NEW,
    ReportStatus.TRIAGED,
    ReportStatus.ROUTED,
    ReportStatus.IN_PROGRESS,
    ReportStatus.REOPENED,
)
# The loop is closed for these once the reporter has been told (DESIGN.md, "Closed-loop rate").
ANSWERED_STATUSES = (ReportStatus.ACTED_ON, ReportStatus.CLOSED, ReportStatus.DECLINED)


class Severity(LabelledEnum):
    LOW = ("low", "Low")
    MEDIUM = ("medium", "Medium")
    HIGH = ("high", "High")
    CRITICAL = ("critical", "Critical")

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class ActionKind(LabelledEnum):
    AGENT_FIXED = ("agent_fixed", "Agent changed or fixed")
    CONFIG_CHANGE = ("config_change", "Prompt or configuration change")
    DATA_FIX = ("data_fix", "Data or integration fix")
    TRAINING_UPDATED = ("training_updated", "Training or guidance updated")
    KNOWN_LIMITATION = ("known_limitation", "Documented as a known limitation")
    NO_CHANGE = ("no_change", "No change: explained")


class EventKind(LabelledEnum):
    FILED = ("filed", "Filed")
    TRIAGED = ("triaged", "Triaged")
    SEVERITY_CHANGED = ("severity_changed", "Severity changed")
    ROUTED = ("routed", "Routed")
    STARTED = ("started", "Work started")
    ACTED_ON = ("acted_on", "Acted on")
    DECLINED = ("declined", "Declined")
    MARKED_DUPLICATE = ("marked_duplicate", "Marked as duplicate")
    DUPLICATE_ADDED = ("duplicate_added", "Duplicate joined")
    CONFIRMED_FIXED = ("confirmed_fixed", "Confirmed fixed")
    NOT_FIXED = ("not_fixed", "Not fixed: reopened")
    INTERNAL_NOTE = ("internal_note", "Internal note")
    SUBSCRIBED = ("subscribed", "Me too")
    ESCALATED = ("escalated", "Escalated")


class Report(db.Model):
    """One problem with one agent, as a person saw it, and everything done about it since."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_agent_status", "agent_id", "status"),
        sa.Index("ix_reports_status_sla_due", "status", "sla_due_at"),
        # The triage queue's counts and rows for one agent and severity, by status and due time.
        sa.Index(
            "ix_reports_agent_severity_status_due", "agent_id", "severity", "status", "sla_due_at"
        ),
        # A reporter's reports, newest first (My reports; a team's reports on the dashboards).
        sa.Index("ix_reports_reporter_created", "reporter_id", "created_at"),
        # Governance's unsafe reports per agent and period (status too: duplicates are left out,
        # so the count reads the index alone); the report tallies' bucket refresh.
        sa.Index(
            "ix_reports_agent_category_created", "agent_id", "category", "created_at", "status"
        ),
        # similar_open_reports scores an agent's open summaries from the index alone.
        sa.Index(
            "ix_reports_agent_status_created_summary", "agent_id", "status", "created_at", "summary"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id", ondelete="RESTRICT"))
    agent_version: Mapped[str] = mapped_column(sa.String(40), default="")
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    is_confidential: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    category: Mapped[ReportCategory] = mapped_column(enum_type(ReportCategory))
    # What the reporter said (may be unset) and what triage works with (always set).
    reported_severity: Mapped[Severity | None] = mapped_column(enum_type(Severity))
    severity: Mapped[Severity] = mapped_column(enum_type(Severity), default=Severity.MEDIUM)
    summary: Mapped[str] = mapped_column(sa.String(200))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    expected: Mapped[str] = mapped_column(sa.Text, default="")
    run_ref: Mapped[str] = mapped_column(sa.String(200), default="")
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.NEW)
    suggested_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The SLA clock restarts when a report is reopened; the second due time brings in managers.
    sla_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_escalation_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(sa.Integer, default=0)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    # What was done, written for the reporter (for a decline: the reason).
    action_kind: Mapped[ActionKind | None] = mapped_column(enum_type(ActionKind))
    action_note: Mapped[str] = mapped_column(sa.Text, default="")
    acted_on_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acted_on_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reporter_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reporter's answer to the latest action.
    is_fixed: Mapped[bool | None] = mapped_column(sa.Boolean)
    confirmation_comment: Mapped[str] = mapped_column(sa.Text, default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A double click or browser retry carries the same key and finds this report again.
    submission_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    agent: Mapped[Agent] = relationship(lazy="joined")
    reporter: Mapped[Optional["User"]] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[Optional["User"]] = relationship(foreign_keys=[assignee_id])
    suggested_owner: Mapped[Optional["User"]] = relationship(foreign_keys=[suggested_owner_id])
    acted_on_by: Mapped[Optional["User"]] = relationship(foreign_keys=[acted_on_by_id])
    duplicate_of: Mapped[Optional["Report"]] = relationship(
        remote_side=[id], back_populates="duplicates"
    )
    duplicates: Mapped[list["Report"]] = relationship(back_populates="duplicate_of")
    events: Mapped[list["ReportEvent"]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="(ReportEvent.created_at, ReportEvent.id)",
    )
    subscriptions: Mapped[list["ReportSubscription"]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["ReportAttachment"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportAttachment.id"
    )

    @property
    def path(self) -> str:
        """The page's path, usable where no request is active (sweep, notifications)."""
        return f"/reports/{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.sla_due_at < now

    # Who may do what with this report. Services ask these; pages only use them to choose buttons.

    def is_follower(self, user: "User") -> bool:
        return any(sub.user_id == user.id for sub in self.subscriptions)

    def can_work(self, user: "User") -> bool:
        """Triage, admins, the assignee and the agent's owners work a report."""
        if not user.is_authenticated:
            return False
        return (
            user.has_any_role("triage", "admin")
            or self.assignee_id == user.id
            or self.agent.is_owned_by(user)
        )

    def visible_to(self, user: "User") -> bool:
        if not user.is_authenticated:
            return False
        return self.reporter_id == user.id or self.can_work(user) or self.is_follower(user)

    def shows_details_to(self, user: "User") -> bool:
        """Followers ("me too") see summary, status and outcome; the details stay with the reporter
        and the people working the report."""
        return self.reporter_id == user.id or self.can_work(user)

    def shows_internal_notes_to(self, user: "User") -> bool:
        return self.can_work(user)

    def shows_reporter_to(self, user: "User") -> bool:
        """A confidential reporter is known only to admins and to themself."""
        if self.reporter_id == user.id or user.has_role("admin"):
            return True
        return not self.is_confidential and self.can_work(user)

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status.value}>"


class ReportEvent(db.Model):
    """One change to a report: the timeline the reporter reads and the audit trail triage reads."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    from_status: Mapped[ReportStatus | None] = mapped_column(enum_type(ReportStatus))
    to_status: Mapped[ReportStatus | None] = mapped_column(enum_type(ReportStatus))
    action_kind: Mapped[ActionKind | None] = mapped_column(enum_type(ActionKind))
    # A fact the portal states (the new severity, who it was routed to); `note` is what a person wrote.
    detail: Mapped[str] = mapped_column(sa.String(200), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    is_internal: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="events")
    actor: Mapped[Optional["User"]] = relationship()


class ReportSubscription(db.Model):
    """A person following a report: said "me too", or filed a report marked as its duplicate."""

    __tablename__ = "report_subscriptions"

    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="subscriptions")
    user: Mapped["User"] = relationship()


class ReportAttachment(db.Model):
    """A file sent with a report, stored under a server-made name outside static/."""

    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="attachments")


# The monthly rollup of these reports registers the session event that keeps it current on write:
# imported here so that every process that writes reports has it.
from portal.feedback import tallies  # noqa: E402, F401
