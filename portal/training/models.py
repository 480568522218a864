"""Training modules (versioned), knowledge checks, assignments, attempts and re-certification records.

A module belongs to an agent. Its content lives in versions: one draft at most (number NULL) and the
published versions, numbered 1, 2, ... and never changed again, so an attempt always points at the exact
sections and questions the trainee saw. The module points at its live version and at its certification
version (the newest version published as "re-certification required", or the first one) by number.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Role
from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import Team, User
    from portal.agents.models import Agent


class SectionKind(LabelledEnum):
    DOES_WELL = ("does_well", "What the agent does well")
    DOES_POORLY = ("does_poorly", "What the agent does poorly")
    USING_OUTPUTS = ("using_outputs", "How to use its outputs")
    ESCALATION = ("escalation", "When to escalate")
    KNOWN_LIMITATIONS = ("known_limitations", "Known limitations")
    OTHER = ("other", "Other")


class QuestionKind(LabelledEnum):
    SINGLE = ("single", "Single choice (one right answer)")
    MULTIPLE = ("multiple", "Multiple choice (choose all that apply)")


class AssignmentReason(LabelledEnum):
    ASSIGNED = ("assigned", "Assigned")
    RECERTIFICATION = ("recertification", "Re-certification")


class RuleTarget(LabelledEnum):
    TEAM = ("team", "Team")
    ROLE = ("role", "Role")
    PERSON = ("person", "Person")


class ReminderKind(LabelledEnum):
    DUE_SOON = ("due_soon", "Due soon")
    OVERDUE = ("overdue", "Overdue")


class TrainingModule(db.Model):
    __tablename__ = "training_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    # Unpublishing hides the module from trainees; its versions and attempts stay.
    is_published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    live_version_number: Mapped[int | None] = mapped_column(sa.Integer)
    certification_version_number: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    agent: Mapped["Agent"] = relationship(lazy="joined")
    versions: Mapped[list["ModuleVersion"]] = relationship(
        back_populates="module",
        cascade="all, delete-orphan",
        order_by="ModuleVersion.id",
        lazy="selectin",
    )

    @property
    def live_version(self) -> Optional["ModuleVersion"]:
        return next((v for v in self.versions if v.number == self.live_version_number), None)

    @property
    def draft(self) -> Optional["ModuleVersion"]:
        return next((v for v in self.versions if v.published_at is None), None)

    @property
    def current(self) -> "ModuleVersion":
        """What authors look at: the draft when there is one, else the live version."""
        return self.draft or self.live_version or self.versions[-1]

    @property
    def title(self) -> str:
        return (self.live_version or self.current).title

    @property
    def is_available(self) -> bool:
        """Trainees can read and take it."""
        return self.is_published and self.live_version_number is not None

    def can_manage(self, user: "User") -> bool:
        """Authors: admins and the agent's owners."""
        return self.agent.can_manage(user)

    def __repr__(self) -> str:
        return f"<TrainingModule {self.id}>"


class ModuleVersion(db.Model):
    __tablename__ = "module_versions"
    __table_args__ = (
        sa.UniqueConstraint("module_id", "number", name="uq_module_versions_module_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int | None] = mapped_column(sa.Integer)  # NULL while a draft
    based_on_number: Mapped[int | None] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    estimated_minutes: Mapped[int] = mapped_column(sa.Integer, default=20)
    pass_mark_pct: Mapped[int] = mapped_column(sa.Integer, default=80)
    attempt_limit: Mapped[int | None] = mapped_column(sa.Integer)
    requires_recertification: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    recertification_due_on: Mapped[date | None] = mapped_column(sa.Date)
    change_note: Mapped[str] = mapped_column(sa.Text, default="")
    agent_version: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    module: Mapped[TrainingModule] = relationship(back_populates="versions")
    sections: Mapped[list["ModuleSection"]] = relationship(
        back_populates="version",
        cascade="all, delete-orphan",
        order_by="ModuleSection.position",
        lazy="selectin",
    )
    questions: Mapped[list["Question"]] = relationship(
        back_populates="version",
        cascade="all, delete-orphan",
        order_by="Question.position",
        lazy="selectin",
    )

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def label(self) -> str:
        return "Draft" if self.number is None else f"Version {self.number}"

    def section_at(self, position: int) -> Optional["ModuleSection"]:
        return next((s for s in self.sections if s.position == position), None)


class ModuleSection(db.Model):
    __tablename__ = "module_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[SectionKind] = mapped_column(enum_type(SectionKind), default=SectionKind.OTHER)
    title: Mapped[str] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text, default="")

    version: Mapped[ModuleVersion] = relationship(back_populates="sections")


class Question(db.Model):
    __tablename__ = "module_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind), default=QuestionKind.SINGLE)
    prompt: Mapped[str] = mapped_column(sa.Text)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")

    version: Mapped[ModuleVersion] = relationship(back_populates="questions")
    choices: Mapped[list["Choice"]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        order_by="Choice.position",
        lazy="selectin",
    )

    @property
    def correct_ids(self) -> set[int]:
        return {choice.id for choice in self.choices if choice.is_correct}


class Choice(db.Model):
    __tablename__ = "question_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    text: Mapped[str] = mapped_column(sa.String(500))
    is_correct: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    question: Mapped[Question] = relationship(back_populates="choices")


class AssignmentRule(db.Model):
    """ "Everyone in team X / with role Y / this person takes module M by a date": kept, so later
    joiners get the assignment too (materialised into Assignment rows on "My training" and by the sweep)."""

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[RuleTarget] = mapped_column(enum_type(RuleTarget))
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role | None] = mapped_column(enum_type(Role))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    module: Mapped[TrainingModule] = relationship()
    team: Mapped[Optional["Team"]] = relationship()
    user: Mapped[Optional["User"]] = relationship(foreign_keys=[user_id])

    @property
    def target_label(self) -> str:
        if self.target is RuleTarget.TEAM:
            return f"Team: {self.team.name if self.team else 'removed'}"
        if self.target is RuleTarget.ROLE:
            return f"Role: {self.role.label if self.role else '?'}"
        return f"Person: {self.user.name if self.user else 'removed'}"


class Assignment(db.Model):
    """One person must pass `module` on version `required_version_number` or later by `due_on`."""

    __tablename__ = "training_assignments"
    __table_args__ = (
        # The dashboards' completion per team over a period, read from the index alone.
        sa.Index(
            "ix_training_assignments_due_cover", "due_on", "module_id", "user_id", "completed_at"
        ),
        sa.UniqueConstraint(
            "user_id",
            "module_id",
            "required_version_number",
            name="uq_training_assignments_user_module_version",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment_rules.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[AssignmentReason] = mapped_column(
        enum_type(AssignmentReason), default=AssignmentReason.ASSIGNED
    )
    required_version_number: Mapped[int] = mapped_column(sa.Integer)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])
    module: Mapped[TrainingModule] = relationship()

    def is_overdue(self, today: date) -> bool:
        return self.completed_at is None and self.due_on < today


class AssignmentReminder(db.Model):
    """A reminder of `kind` went out for an assignment; the unique pair keeps the sweep idempotent."""

    __tablename__ = "assignment_reminders"
    __table_args__ = (
        sa.UniqueConstraint(
            "assignment_id", "kind", name="uq_assignment_reminders_assignment_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_assignments.id", ondelete="CASCADE")
    )
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainingProgress(db.Model):
    """Where a person is in a module's live version, so "Resume" opens the section they left."""

    __tablename__ = "training_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "module_id", name="uq_training_progress_user_module"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_versions.id", ondelete="CASCADE"), index=True
    )
    last_position: Mapped[int] = mapped_column(sa.Integer, default=1)
    furthest_position: Mapped[int] = mapped_column(sa.Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attempt(db.Model):
    """One submitted knowledge check, scored on the server against the exact version taken."""

    __tablename__ = "training_attempts"
    __table_args__ = (
        sa.Index("ix_training_attempts_user_module", "user_id", "module_id"),
        # The dashboards' first-attempt pass rate per team, read from the index alone.
        sa.Index(
            "ix_training_attempts_first_submitted",
            "attempt_number",
            "submitted_at",
            "module_id",
            "user_id",
            "passed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_versions.id", ondelete="CASCADE"), index=True
    )
    attempt_number: Mapped[int] = mapped_column(sa.Integer)  # per person and version, from 1
    submission_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    score_pct: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    passed: Mapped[bool] = mapped_column(sa.Boolean)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped["User"] = relationship()
    module: Mapped[TrainingModule] = relationship()
    version: Mapped[ModuleVersion] = relationship()
    answers: Mapped[list["AttemptAnswer"]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", lazy="selectin"
    )

    def visible_to(self, user: "User") -> bool:
        """The person who took it and admins; nobody else sees individual attempts."""
        return user.is_authenticated and (user.id == self.user_id or user.is_admin)


class AttemptAnswer(db.Model):
    __tablename__ = "attempt_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_attempts.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_questions.id", ondelete="CASCADE"), index=True
    )
    chosen_choice_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    credit: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))  # 0..1
    is_correct: Mapped[bool] = mapped_column(sa.Boolean)  # chosen set == correct set

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class AgentVersionChange(db.Model):
    """An agent's current version changed; its module owners decide per module about re-certification."""

    __tablename__ = "agent_version_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    old_version: Mapped[str] = mapped_column(sa.String(40))
    new_version: Mapped[str] = mapped_column(sa.String(40))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    agent: Mapped["Agent"] = relationship()
    decisions: Mapped[list["RecertificationDecision"]] = relationship(
        back_populates="change", cascade="all, delete-orphan", lazy="selectin"
    )


class RecertificationDecision(db.Model):
    __tablename__ = "recertification_decisions"
    __table_args__ = (
        sa.UniqueConstraint(
            "change_id", "module_id", name="uq_recertification_decisions_change_module"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agent_version_changes.id", ondelete="CASCADE")
    )
    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    needs_recertification: Mapped[bool] = mapped_column(sa.Boolean)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    published_version_number: Mapped[int | None] = mapped_column(sa.Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    change: Mapped[AgentVersionChange] = relationship(back_populates="decisions")
    module: Mapped[TrainingModule] = relationship()
    decided_by: Mapped[Optional["User"]] = relationship()
