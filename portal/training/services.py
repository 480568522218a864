"""The rules of training: authoring versioned modules, scoring knowledge checks, assignments and
re-certification. Services flush; the view, CLI command or sweep commits once.

Scoring (shown to trainees on the knowledge check page and in docs/training.md):
- A single-choice question earns 1 point when the one right answer is chosen, else 0.
- A multiple-answer question earns partial credit: (right answers chosen - wrong answers chosen)
  / (number of right answers), never below 0. It counts as "right" only when the chosen set equals
  the set of right answers; anything between is "partly right".
- The score is the points earned / number of questions, as a percentage (2 decimals). It passes
  when it is at or above the version's pass mark.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import Role, Team, User, UserRole
from portal.agents.models import Agent
from portal.agents.services import agent_version_changed
from portal.core.db import db, insert_for
from portal.core.sweep import sweep_task
from portal.core.timeutil import utcnow
from portal.feedback import services as feedback_services
from portal.feedback.models import ActionKind
from portal.notifications.services import notify
from portal.training.models import (
    AgentVersionChange,
    Assignment,
    AssignmentReason,
    AssignmentReminder,
    AssignmentRule,
    Attempt,
    AttemptAnswer,
    Choice,
    ModuleSection,
    ModuleVersion,
    Question,
    QuestionKind,
    RecertificationDecision,
    ReminderKind,
    RuleTarget,
    SectionKind,
    TrainingModule,
    TrainingProgress,
)

log = logging.getLogger(__name__)

# A person who joins a team (or gains a role) after its assignment was made gets at least this long.
LATE_JOINER_DAYS = 14
DEFAULT_REMINDER_DAYS = 3
MAX_CHOICES = 6


class TrainingError(Exception):
    """A training rule was broken. `field` names the form field at fault; `status` says how a page or
    the API should answer (404 not visible, 403 not allowed, 409 state conflict, 422 invalid)."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- Authoring -----------------------------------------------------------------------------------

SKELETON: tuple[tuple[SectionKind, str], ...] = (
    (
        SectionKind.DOES_WELL,
        "Describe the tasks where the agent is reliable, with a real example from your team's work. "
        "Say how you know: accuracy figures, reviews, pilot results.",
    ),
    (
        SectionKind.DOES_POORLY,
        "Describe where the agent gets things wrong or is weak, and what a wrong output looks like "
        "so people can spot it.",
    ),
    (
        SectionKind.USING_OUTPUTS,
        "Explain what people should check before they use an output, and what they stay "
        "accountable for.",
    ),
    (
        SectionKind.ESCALATION,
        "List the situations where people must stop and hand over to a person, and to whom.",
    ),
    (
        SectionKind.KNOWN_LIMITATIONS,
        "Limitations the owners know about. Reports acted on as *known limitation* or *training "
        "updated* are listed below this text automatically.",
    ),
)


@dataclass
class ModuleFields:
    title: str
    summary: str = ""
    estimated_minutes: int = 20
    pass_mark_pct: int = 80
    attempt_limit: int | None = None


def manageable_agents(user: User) -> list[Agent]:
    """Agents whose training `user` may author: all for admins, their own for owners."""
    stmt = sa.select(Agent).order_by(Agent.name)
    if not user.is_admin:
        stmt = stmt.where(
            sa.or_(
                Agent.business_owner_id == user.id,
                Agent.technical_owner_id == user.id,
                Agent.governance_owner_id == user.id,
            )
        )
    return list(db.session.scalars(stmt))


def modules_for_author(user: User) -> list[TrainingModule]:
    agent_ids = [agent.id for agent in manageable_agents(user)]
    return list(
        db.session.scalars(
            sa.select(TrainingModule)
            .where(TrainingModule.agent_id.in_(agent_ids))
            .order_by(TrainingModule.agent_id, TrainingModule.id)
        )
    )


def get_module(module_id: int) -> TrainingModule | None:
    return db.session.get(TrainingModule, module_id)


def get_module_for_author(module_id: int, user: User) -> TrainingModule:
    module = get_module(module_id)
    if module is None:
        raise TrainingError("Module not found.", status=404)
    if not module.can_manage(user):
        raise TrainingError("Only the agent's owners and admins edit its training.", status=403)
    return module


def _check_fields(fields: ModuleFields) -> None:
    if not fields.title.strip():
        raise TrainingError("Give the module a title.", "title")
    if not 1 <= fields.estimated_minutes <= 600:
        raise TrainingError("Use 1 to 600 minutes.", "estimated_minutes")
    if not 1 <= fields.pass_mark_pct <= 100:
        raise TrainingError("Use a pass mark from 1 to 100%.", "pass_mark_pct")
    if fields.attempt_limit is not None and not 1 <= fields.attempt_limit <= 20:
        raise TrainingError("Allow 1 to 20 attempts, or leave empty for no limit.", "attempt_limit")


def create_module(agent: Agent, fields: ModuleFields, by: User) -> TrainingModule:
    """A new module for `agent`, with a draft that starts from the five-section skeleton."""
    if not agent.can_manage(by):
        raise TrainingError(
            "Only the agent's owners and admins write its training.", "agent", status=403
        )
    _check_fields(fields)
    module = TrainingModule(agent=agent, created_by_id=by.id, is_published=False)
    draft = ModuleVersion(
        title=fields.title.strip(),
        summary=fields.summary.strip(),
        estimated_minutes=fields.estimated_minutes,
        pass_mark_pct=fields.pass_mark_pct,
        attempt_limit=fields.attempt_limit,
        created_by_id=by.id,
    )
    for position, (kind, guidance) in enumerate(SKELETON, start=1):
        draft.sections.append(
            ModuleSection(position=position, kind=kind, title=kind.label, body_markdown=guidance)
        )
    module.versions.append(draft)
    db.session.add(module)
    db.session.flush()
    return module


def _draft_of(module: TrainingModule) -> ModuleVersion:
    draft = module.draft
    if draft is None:
        raise TrainingError("This module has no draft. Start a new draft to change it.", status=409)
    return draft


def update_draft(
    module: TrainingModule,
    fields: ModuleFields,
    *,
    change_note: str = "",
    requires_recertification: bool = False,
    recertification_due_on: date | None = None,
) -> ModuleVersion:
    """Change the draft's details (the live version never changes)."""
    draft = _draft_of(module)
    _check_fields(fields)
    if requires_recertification:
        if module.live_version is None:
            raise TrainingError(
                "The first version has nobody to re-certify; leave this unticked.",
                "requires_recertification",
            )
        if recertification_due_on is None:
            raise TrainingError(
                "Give the date by which people must re-certify.", "recertification_due_on"
            )
        if recertification_due_on <= utcnow().date():
            raise TrainingError("Choose a date in the future.", "recertification_due_on")
    draft.title = fields.title.strip()
    draft.summary = fields.summary.strip()
    draft.estimated_minutes = fields.estimated_minutes
    draft.pass_mark_pct = fields.pass_mark_pct
    draft.attempt_limit = fields.attempt_limit
    draft.change_note = change_note.strip()
    draft.requires_recertification = requires_recertification
    draft.recertification_due_on = recertification_due_on if requires_recertification else None
    db.session.flush()
    return draft


def _copy_version(source: ModuleVersion, by: User | None) -> ModuleVersion:
    copy = ModuleVersion(
        based_on_number=source.number,
        title=source.title,
        summary=source.summary,
        estimated_minutes=source.estimated_minutes,
        pass_mark_pct=source.pass_mark_pct,
        attempt_limit=source.attempt_limit,
        created_by_id=by.id if by else None,
    )
    for section in source.sections:
        copy.sections.append(
            ModuleSection(
                position=section.position,
                kind=section.kind,
                title=section.title,
                body_markdown=section.body_markdown,
            )
        )
    for question in source.questions:
        copy.questions.append(
            Question(
                position=question.position,
                kind=question.kind,
                prompt=question.prompt,
                explanation=question.explanation,
                choices=[
                    Choice(position=c.position, text=c.text, is_correct=c.is_correct)
                    for c in question.choices
                ],
            )
        )
    return copy


def start_draft(module: TrainingModule, by: User) -> ModuleVersion:
    """Editing a published module works on a copy of its live version; returns the (existing) draft."""
    if module.draft is not None:
        return module.draft
    draft = _copy_version(module.live_version, by)
    module.versions.append(draft)
    db.session.flush()
    return draft


def discard_draft(module: TrainingModule) -> None:
    draft = _draft_of(module)
    if module.live_version is None:
        raise TrainingError("A module that was never published keeps its draft.", status=409)
    module.versions.remove(draft)
    db.session.delete(draft)
    db.session.flush()


def _renumber(items: Sequence) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _check_section(title: str, body: str) -> None:
    if not title.strip():
        raise TrainingError("Give the section a title.", "title")
    if len(title.strip()) > 200:
        raise TrainingError("Use at most 200 characters.", "title")
    if len(body) > 50_000:
        raise TrainingError("Keep a section under 50,000 characters.", "body_markdown")


def add_section(module: TrainingModule, kind: SectionKind, title: str, body: str) -> ModuleSection:
    draft = _draft_of(module)
    _check_section(title, body)
    section = ModuleSection(
        position=len(draft.sections) + 1, kind=kind, title=title.strip(), body_markdown=body
    )
    draft.sections.append(section)
    db.session.flush()
    return section


def get_draft_section(module: TrainingModule, section_id: int) -> ModuleSection:
    draft = _draft_of(module)
    section = next((s for s in draft.sections if s.id == section_id), None)
    if section is None:
        raise TrainingError("That section is not part of the draft.", status=404)
    return section


def update_section(section: ModuleSection, kind: SectionKind, title: str, body: str) -> None:
    _check_section(title, body)
    section.kind = kind
    section.title = title.strip()
    section.body_markdown = body
    db.session.flush()


def delete_section(section: ModuleSection) -> None:
    draft = section.version
    draft.sections.remove(section)
    db.session.delete(section)
    _renumber(draft.sections)
    db.session.flush()


def move_section(section: ModuleSection, direction: str) -> None:
    """Swap a section with its neighbour ("up" or "down")."""
    sections = list(section.version.sections)
    index = sections.index(section)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(sections):
        return
    sections[index], sections[other] = sections[other], sections[index]
    _renumber(sections)
    db.session.flush()
    db.session.expire(section.version, ["sections"])


@dataclass
class ChoiceInput:
    text: str
    is_correct: bool


def _checked_choices(kind: QuestionKind, choices: Iterable[ChoiceInput]) -> list[ChoiceInput]:
    given = [ChoiceInput(c.text.strip(), c.is_correct) for c in choices if c.text.strip()]
    if len(given) < 2:
        raise TrainingError("Give at least two choices.", "choices")
    if len(given) > MAX_CHOICES:
        raise TrainingError(f"Give at most {MAX_CHOICES} choices.", "choices")
    if any(len(c.text) > 500 for c in given):
        raise TrainingError("Keep each choice under 500 characters.", "choices")
    correct = sum(c.is_correct for c in given)
    if kind is QuestionKind.SINGLE and correct != 1:
        raise TrainingError(
            "Mark exactly one choice as right for a single-choice question.", "choices"
        )
    if kind is QuestionKind.MULTIPLE and correct < 1:
        raise TrainingError("Mark at least one choice as right.", "choices")
    if kind is QuestionKind.MULTIPLE and correct == len(given):
        raise TrainingError(
            "Leave at least one wrong choice, or the question tests nothing.", "choices"
        )
    return given


def save_question(
    module: TrainingModule,
    question: Question | None,
    *,
    kind: QuestionKind,
    prompt: str,
    explanation: str,
    choices: Iterable[ChoiceInput],
) -> Question:
    """Add a question to the draft (question None) or change one of the draft's questions."""
    draft = _draft_of(module)
    if not prompt.strip():
        raise TrainingError("Write the question.", "prompt")
    if len(prompt) > 2000:
        raise TrainingError("Keep the question under 2,000 characters.", "prompt")
    if not explanation.strip():
        raise TrainingError(
            "Explain the right answer: trainees read this after answering.", "explanation"
        )
    checked = _checked_choices(kind, choices)
    if question is None:
        question = Question(position=len(draft.questions) + 1)
        draft.questions.append(question)
    question.kind = kind
    question.prompt = prompt.strip()
    question.explanation = explanation.strip()
    # Replace the choices: a draft's choices are not referenced by any attempt yet.
    question.choices.clear()
    db.session.flush()
    for position, choice in enumerate(checked, start=1):
        question.choices.append(
            Choice(position=position, text=choice.text, is_correct=choice.is_correct)
        )
    db.session.flush()
    return question


def get_draft_question(module: TrainingModule, question_id: int) -> Question:
    draft = _draft_of(module)
    question = next((q for q in draft.questions if q.id == question_id), None)
    if question is None:
        raise TrainingError("That question is not part of the draft.", status=404)
    return question


def delete_question(question: Question) -> None:
    draft = question.version
    draft.questions.remove(question)
    db.session.delete(question)
    _renumber(draft.questions)
    db.session.flush()


def _publish(module: TrainingModule, version: ModuleVersion, by: User | None) -> ModuleVersion:
    """Number and publish `version`; re-certify people when it asks for it. One path for every publish."""
    if not version.sections:
        raise TrainingError("Add at least one section before publishing.", status=409)
    if not version.questions:
        raise TrainingError(
            "Add at least one knowledge-check question before publishing.", status=409
        )
    previous = module.live_version_number
    if version.requires_recertification and previous is None:
        version.requires_recertification = False
        version.recertification_due_on = None
    if version.requires_recertification and version.recertification_due_on is None:
        raise TrainingError("Give the re-certification deadline before publishing.", status=409)
    number = (
        db.session.scalar(
            sa.select(sa.func.max(ModuleVersion.number)).where(ModuleVersion.module_id == module.id)
        )
        or 0
    ) + 1
    version.number = number
    version.published_at = utcnow()
    version.published_by_id = by.id if by else None
    version.agent_version = module.agent.version
    module.live_version_number = number
    module.is_published = True
    if previous is None or version.requires_recertification:
        module.certification_version_number = number
    db.session.flush()
    if version.requires_recertification:
        assign_recertification(module, number, version.recertification_due_on, by)
    return version


def publish_module(module: TrainingModule, by: User) -> str:
    """Publish the draft, or make an unpublished module visible again. Returns what happened."""
    draft = module.draft
    if draft is not None:
        version = _publish(module, draft, by)
        return f"{version.label} is published."
    if not module.is_published and module.live_version is not None:
        module.is_published = True
        db.session.flush()
        return "The module is visible to trainees again."
    raise TrainingError("There is nothing to publish: start a new draft first.", status=409)


def unpublish_module(module: TrainingModule) -> None:
    """Hide the module from trainees; versions, attempts and certificates stay."""
    if not module.is_published:
        raise TrainingError("The module is not published.", status=409)
    module.is_published = False
    db.session.flush()


# --- Re-certification ----------------------------------------------------------------------------


def _changes_path(change: AgentVersionChange) -> str:
    return f"/training/agent-changes/{change.id}"


def module_path(module: TrainingModule) -> str:
    return f"/training/modules/{module.id}"


def on_agent_version_changed(
    agent: Agent, old_version: str, new_version: str, by: User | None = None, **_: object
) -> AgentVersionChange | None:
    """Ask the agent's owners whether the new version needs re-certification on each published module."""
    if old_version == new_version:
        return None
    module_ids = list(
        db.session.scalars(
            sa.select(TrainingModule.id).where(
                TrainingModule.agent_id == agent.id,
                TrainingModule.is_published.is_(True),
                TrainingModule.live_version_number.is_not(None),
            )
        )
    )
    if not module_ids:
        return None
    change = AgentVersionChange(
        agent_id=agent.id,
        old_version=old_version,
        new_version=new_version,
        changed_by_id=by.id if by is not None else None,
    )
    db.session.add(change)
    db.session.flush()
    owners = db.session.scalars(sa.select(User).where(User.id.in_(agent.owner_ids)))
    for owner in owners:
        if not owner.is_active_account:
            continue
        notify(
            owner,
            "training_agent_changed",
            f"{agent.name} changed to {new_version}: does its training need re-certification?",
            f"{agent.name} went from version {old_version} to {new_version}. For each of its "
            f"{len(module_ids)} training module(s), say whether people must re-certify.",
            _changes_path(change),
        )
    return change


agent_version_changed.connect(on_agent_version_changed)


def get_agent_change(change_id: int, user: User) -> AgentVersionChange:
    change = db.session.get(AgentVersionChange, change_id)
    if change is None:
        raise TrainingError("Not found.", status=404)
    if not change.agent.can_manage(user):
        raise TrainingError("Only the agent's owners and admins decide this.", status=403)
    return change


def modules_of_agent(agent_id: int) -> list[TrainingModule]:
    return list(
        db.session.scalars(
            sa.select(TrainingModule)
            .where(
                TrainingModule.agent_id == agent_id,
                TrainingModule.is_published.is_(True),
                TrainingModule.live_version_number.is_not(None),
            )
            .order_by(TrainingModule.id)
        )
    )


def pending_agent_changes(user: User) -> list[AgentVersionChange]:
    """Version changes of agents `user` manages that still have a module without a decision."""
    agent_ids = [agent.id for agent in manageable_agents(user)]
    decided = (
        sa.select(sa.func.count())
        .select_from(RecertificationDecision)
        .where(RecertificationDecision.change_id == AgentVersionChange.id)
        .scalar_subquery()
    )
    modules = (
        sa.select(sa.func.count())
        .select_from(TrainingModule)
        .where(
            TrainingModule.agent_id == AgentVersionChange.agent_id,
            TrainingModule.is_published.is_(True),
            TrainingModule.live_version_number.is_not(None),
        )
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(AgentVersionChange)
            .where(AgentVersionChange.agent_id.in_(agent_ids), decided < modules)
            .order_by(AgentVersionChange.changed_at.desc())
        )
    )


def decide_recertification(
    change: AgentVersionChange,
    module: TrainingModule,
    *,
    needed: bool,
    deadline: date | None,
    by: User,
) -> RecertificationDecision:
    """Record the owner's answer for one module. "Needed" publishes a new version of the module
    (a copy of the live one, for the new agent version) that requires re-certification by `deadline`,
    so everyone certified on an earlier version is assigned again."""
    if not module.can_manage(by) or module.agent_id != change.agent_id:
        raise TrainingError("Only the agent's owners and admins decide this.", status=403)
    if not module.is_available:
        raise TrainingError("This module is not published.", status=409)
    if any(d.module_id == module.id for d in change.decisions):
        raise TrainingError("This module already has a decision for that change.", status=409)
    published_number = None
    if needed:
        if deadline is None:
            raise TrainingError("Give the date by which people must re-certify.", "deadline")
        if deadline <= utcnow().date():
            raise TrainingError("Choose a date in the future.", "deadline")
        version = _copy_version(module.live_version, by)
        version.requires_recertification = True
        version.recertification_due_on = deadline
        version.change_note = (
            f"{change.agent.name} changed from version {change.old_version} to "
            f"{change.new_version}: re-certification required."
        )
        module.versions.append(version)
        db.session.flush()
        published_number = _publish(module, version, by).number
    decision = RecertificationDecision(
        change=change,
        module=module,
        needs_recertification=needed,
        deadline=deadline if needed else None,
        published_version_number=published_number,
        decided_by_id=by.id,
    )
    db.session.add(decision)
    db.session.flush()
    return decision


def assign_recertification(
    module: TrainingModule, version_number: int, due_on: date, by: User | None
) -> int:
    """Assign `module` again to everyone who passed it on an earlier version; returns how many.

    People who still have an open assignment for the module keep that one (passing the new version
    completes it), so nobody holds two open assignments for one module.
    """
    earlier_passes = (
        sa.select(Attempt.user_id)
        .join(ModuleVersion, Attempt.version_id == ModuleVersion.id)
        .where(
            Attempt.module_id == module.id,
            Attempt.passed.is_(True),
            ModuleVersion.number < version_number,
        )
    )
    user_ids = list(
        db.session.scalars(
            sa.select(User.id).where(
                User.id.in_(earlier_passes),
                User.is_active_account.is_(True),
                ~_open_assignment_exists(module.id),
            )
        )
    )
    created = _create_assignments(
        module, user_ids, due_on, AssignmentReason.RECERTIFICATION, rule=None, by=by
    )
    return len(created)


# --- Assignments ---------------------------------------------------------------------------------


def _open_assignment_exists(module_id: int) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Assignment.user_id == User.id,
        Assignment.module_id == module_id,
        Assignment.completed_at.is_(None),
    )


def _insert_ignoring_duplicates(table: sa.Table, rows: list[dict]) -> list[int]:
    """Insert rows, skipping any that hit a unique key (another request or sweep got there first);
    returns the ids of the rows this call inserted."""
    if not rows:
        return []
    dialect = db.engine.dialect.name
    insert = insert_for(dialect)
    stmt = insert(table).values(rows).on_conflict_do_nothing().returning(table.c.id)
    return list(db.session.scalars(stmt))


def _create_assignments(
    module: TrainingModule,
    user_ids: Iterable[int],
    due_on: date,
    reason: AssignmentReason,
    *,
    rule: AssignmentRule | None,
    by: User | None,
) -> list[Assignment]:
    """Materialise assignments (idempotent on user, module and required version) and tell people."""
    required = module.certification_version_number
    now = utcnow()
    rows = [
        {
            "user_id": user_id,
            "module_id": module.id,
            "rule_id": rule.id if rule else None,
            "reason": reason,
            "required_version_number": required,
            "due_on": due_on,
            "created_at": now,
            "assigned_by_id": by.id if by else None,
        }
        for user_id in set(user_ids)
    ]
    ids = _insert_ignoring_duplicates(Assignment.__table__, rows)
    if not ids:
        return []
    created = list(
        db.session.scalars(
            sa.select(Assignment).where(Assignment.id.in_(ids)).order_by(Assignment.id)
        )
    )
    # Someone already certified on the required version (or later) has done it: complete at once.
    passes = dict(
        db.session.execute(
            sa.select(Attempt.user_id, sa.func.min(Attempt.submitted_at))
            .join(ModuleVersion, Attempt.version_id == ModuleVersion.id)
            .where(
                Attempt.module_id == module.id,
                Attempt.passed.is_(True),
                ModuleVersion.number >= required,
                Attempt.user_id.in_([a.user_id for a in created]),
            )
            .group_by(Attempt.user_id)
        ).all()
    )
    title = module.live_version.title
    for assignment in created:
        if assignment.user_id in passes:
            assignment.completed_at = passes[assignment.user_id]
            continue
        if reason is AssignmentReason.RECERTIFICATION:
            subject = f"Re-certify on {title} by {due_on:%d %b %Y}"
            body = (
                f"{title} (for {module.agent.name}) has a new version that everyone certified "
                f"earlier must pass again by {due_on:%d %B %Y}."
            )
        else:
            subject = f"Training assigned: {title}, due {due_on:%d %b %Y}"
            body = (
                f"You are asked to complete {title} (for {module.agent.name}) by "
                f"{due_on:%d %B %Y}. It takes about {module.live_version.estimated_minutes} minutes."
            )
        notify(assignment.user, "training_assigned", subject, body, module_path(module))
    db.session.flush()
    return created


@dataclass
class AssignmentTargets:
    team_ids: list[int] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.team_ids or self.roles or self.user_ids)


def assignable_people() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.is_active_account.is_(True)).order_by(User.name, User.id)
        )
    )


def can_assign(user: User) -> bool:
    return user.is_authenticated and user.has_any_role(Role.MANAGER, Role.ADMIN)


def assign_module(
    module: TrainingModule, targets: AssignmentTargets, due_on: date, by: User
) -> tuple[list[AssignmentRule], int]:
    """Assign a published module to teams, roles and people by `due_on`.

    Each target is kept as a rule, so people who join the team (or gain the role) later are assigned
    too. Returns the rules and how many personal assignments were created now.
    """
    if not can_assign(by):
        raise TrainingError("Only managers and admins assign training.", status=403)
    if not module.is_available:
        raise TrainingError("Publish the module before assigning it.", status=409)
    if targets.is_empty():
        raise TrainingError("Choose at least one team, role or person.", "team_ids")
    if due_on < utcnow().date():
        raise TrainingError("Choose a due date today or later.", "due_on")
    rules = []
    for team_id in targets.team_ids:
        if db.session.get(Team, team_id) is None:
            raise TrainingError("That team was not found.", "team_ids")
        rules.append(AssignmentRule(target=RuleTarget.TEAM, team_id=team_id))
    rules.extend(AssignmentRule(target=RuleTarget.ROLE, role=role) for role in targets.roles)
    for user_id in targets.user_ids:
        person = db.session.get(User, user_id)
        if person is None or not person.is_active_account:
            raise TrainingError("That person was not found or is deactivated.", "user_ids")
        rules.append(AssignmentRule(target=RuleTarget.PERSON, user_id=user_id))
    created = 0
    for rule in rules:
        rule.module = module
        rule.due_on = due_on
        rule.created_by_id = by.id
        db.session.add(rule)
        db.session.flush()
        created += len(materialise_rule(rule, due_on, by=by))
    return rules, created


def _rule_members(rule: AssignmentRule) -> sa.Select:
    """Active people the rule targets, as a select of user ids."""
    stmt = sa.select(User.id).where(User.is_active_account.is_(True))
    if rule.target is RuleTarget.TEAM:
        return stmt.where(User.team_id == rule.team_id)
    if rule.target is RuleTarget.PERSON:
        return stmt.where(User.id == rule.user_id)
    if rule.role in (Role.REPORTER, Role.TRAINEE):
        return stmt  # everybody holds these roles (User.roles)
    return stmt.where(sa.exists().where(UserRole.user_id == User.id, UserRole.role == rule.role))


def materialise_rule(
    rule: AssignmentRule, due_on: date, *, by: User | None = None, user_id: int | None = None
) -> list[Assignment]:
    """Create the missing assignments for the rule's targets (or just `user_id`). Idempotent."""
    module = rule.module
    if not module.is_available:
        return []
    stmt = _rule_members(rule).where(
        ~_open_assignment_exists(module.id),
        ~sa.exists().where(
            Assignment.user_id == User.id,
            Assignment.module_id == module.id,
            Assignment.required_version_number == module.certification_version_number,
        ),
    )
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    user_ids = list(db.session.scalars(stmt))
    return _create_assignments(
        module, user_ids, due_on, AssignmentReason.ASSIGNED, rule=rule, by=by
    )


def apply_assignment_rules(today: date, user: User | None = None) -> int:
    """Give people who joined a team (or gained a role) after a rule was made its assignment.

    Runs lazily when someone opens "My training" (for them only) and in the sweep (for everyone).
    A later joiner's due date is the rule's, or LATE_JOINER_DAYS from today if that is later.
    """
    stmt = (
        sa.select(AssignmentRule)
        .join(TrainingModule, AssignmentRule.module_id == TrainingModule.id)
        .where(AssignmentRule.ended_at.is_(None), TrainingModule.is_published.is_(True))
        .order_by(AssignmentRule.id)
    )
    if user is not None:
        stmt = stmt.where(
            sa.or_(
                sa.and_(
                    AssignmentRule.target == RuleTarget.TEAM, AssignmentRule.team_id == user.team_id
                ),
                sa.and_(
                    AssignmentRule.target == RuleTarget.ROLE,
                    AssignmentRule.role.in_(list(user.roles)),
                ),
                sa.and_(
                    AssignmentRule.target == RuleTarget.PERSON, AssignmentRule.user_id == user.id
                ),
            )
        )
    created = 0
    late_due = today + timedelta(days=LATE_JOINER_DAYS)
    for rule in db.session.scalars(stmt).all():
        due_on = max(rule.due_on, late_due)
        created += len(
            materialise_rule(rule, due_on, user_id=user.id if user is not None else None)
        )
    return created


def end_rule(rule: AssignmentRule, by: User) -> None:
    """Stop assigning later joiners; assignments already made stay."""
    if not can_assign(by):
        raise TrainingError("Only managers and admins change assignments.", status=403)
    if rule.ended_at is not None:
        raise TrainingError("This assignment rule has already ended.", status=409)
    rule.ended_at = utcnow()
    db.session.flush()


def active_rules() -> list[AssignmentRule]:
    return list(
        db.session.scalars(
            sa.select(AssignmentRule)
            .where(AssignmentRule.ended_at.is_(None))
            .order_by(AssignmentRule.module_id, AssignmentRule.id)
        )
    )


@sweep_task("training-assignment-rules")
def sweep_assignment_rules(now: datetime) -> int:
    return apply_assignment_rules(now.date())


def reminder_days() -> int:
    return int(current_app.config.get("TRAINING_REMINDER_DAYS", DEFAULT_REMINDER_DAYS))


@sweep_task("training-reminders")
def send_training_reminders(now: datetime) -> int:
    """Remind people of training due within a few days, and once more when it is overdue.

    Each kind of reminder goes out once per assignment: the reminder row is inserted first, and only
    the run whose insert succeeded sends it.
    """
    today = now.date()
    soon = today + timedelta(days=reminder_days())
    kind = sa.case(
        (Assignment.due_on < today, ReminderKind.OVERDUE.value), else_=ReminderKind.DUE_SOON.value
    )
    candidates = db.session.execute(
        sa.select(Assignment, kind.label("kind"))
        .join(User, Assignment.user_id == User.id)
        .join(TrainingModule, Assignment.module_id == TrainingModule.id)
        .where(
            Assignment.completed_at.is_(None),
            Assignment.due_on <= soon,
            User.is_active_account.is_(True),
            TrainingModule.is_published.is_(True),
            ~sa.exists().where(
                AssignmentReminder.assignment_id == Assignment.id,
                AssignmentReminder.kind == kind,
            ),
        )
        .order_by(Assignment.id)
    ).all()
    sent = 0
    for assignment, kind_value in candidates:
        reminder = ReminderKind(kind_value)
        inserted = _insert_ignoring_duplicates(
            AssignmentReminder.__table__,
            [{"assignment_id": assignment.id, "kind": reminder, "sent_at": now}],
        )
        if not inserted:
            continue
        title = assignment.module.title
        if reminder is ReminderKind.OVERDUE:
            subject = f"Overdue training: {title} was due {assignment.due_on:%d %b %Y}"
            body = f"{title} was due on {assignment.due_on:%d %B %Y}. Please complete it soon."
        else:
            subject = f"Training due {assignment.due_on:%d %b %Y}: {title}"
            body = f"A reminder that {title} is due on {assignment.due_on:%d %B %Y}."
        notify(
            assignment.user,
            f"training_{reminder.value}",
            subject,
            body,
            module_path(assignment.module),
        )
        sent += 1
    return sent


# --- Trainees: reading and progress ----------------------------------------------------------------


def get_available_module(module_id: int) -> TrainingModule:
    """A module trainees may read; unpublished and missing ones are both 'not found'."""
    module = get_module(module_id)
    if module is None or not module.is_available:
        raise TrainingError("Module not found.", status=404)
    return module


def _available_modules_query() -> sa.Select:
    return (
        sa.select(TrainingModule)
        .where(
            TrainingModule.is_published.is_(True),
            TrainingModule.live_version_number.is_not(None),
        )
        .order_by(TrainingModule.agent_id, TrainingModule.id)
    )


def available_modules() -> list[TrainingModule]:
    return list(db.session.scalars(_available_modules_query()))


def progress_for(user: User, module: TrainingModule) -> TrainingProgress | None:
    """Progress on the live version; progress on an older version no longer counts."""
    progress = db.session.scalar(
        sa.select(TrainingProgress).where(
            TrainingProgress.user_id == user.id, TrainingProgress.module_id == module.id
        )
    )
    if progress is None or progress.version_id != module.live_version.id:
        return None
    return progress


def record_reading(user: User, module: TrainingModule, position: int) -> TrainingProgress:
    """Remember that `user` opened section `position` of the live version."""
    version = module.live_version
    progress = db.session.scalar(
        sa.select(TrainingProgress).where(
            TrainingProgress.user_id == user.id, TrainingProgress.module_id == module.id
        )
    )
    now = utcnow()
    if progress is None:
        rows = _insert_ignoring_duplicates(
            TrainingProgress.__table__,
            [
                {
                    "user_id": user.id,
                    "module_id": module.id,
                    "version_id": version.id,
                    "last_position": position,
                    "furthest_position": position,
                    "started_at": now,
                    "updated_at": now,
                }
            ],
        )
        progress = db.session.scalar(
            sa.select(TrainingProgress).where(
                TrainingProgress.user_id == user.id, TrainingProgress.module_id == module.id
            )
        )
        if rows:
            return progress
    if progress.version_id != version.id:
        progress.version_id = version.id
        progress.furthest_position = position
        progress.started_at = now
    progress.last_position = position
    progress.furthest_position = max(progress.furthest_position, position)
    progress.updated_at = now
    db.session.flush()
    return progress


# --- Trainees: knowledge check -------------------------------------------------------------------


@dataclass
class ScoredAnswer:
    question: Question
    chosen: set[int]
    credit: Decimal
    is_correct: bool

    @property
    def is_partly_right(self) -> bool:
        return not self.is_correct and self.credit > 0


@dataclass
class Score:
    answers: list[ScoredAnswer]
    score_pct: Decimal


def score_question(question: Question, chosen: set[int]) -> tuple[Decimal, bool]:
    """Credit from 0 to 1 and whether the answer is fully right (see the module docstring)."""
    correct = question.correct_ids
    if chosen == correct:
        return Decimal(1), True
    if question.kind is QuestionKind.SINGLE:
        return Decimal(0), False
    right = len(chosen & correct)
    wrong = len(chosen - correct)
    credit = max(Decimal(0), Decimal(right - wrong) / Decimal(len(correct)))
    return credit.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), False


def score_answers(questions: Sequence[Question], answers: dict[int, set[int]]) -> Score:
    scored = []
    for question in questions:
        chosen = answers.get(question.id, set())
        credit, is_correct = score_question(question, chosen)
        scored.append(ScoredAnswer(question, chosen, credit, is_correct))
    total = sum((a.credit for a in scored), Decimal(0))
    pct = (total * 100 / len(questions)) if questions else Decimal(0)
    return Score(scored, pct.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _attempt_record(user: User, version: ModuleVersion) -> tuple[int, bool]:
    """How many attempts `user` made on `version`, and whether one passed: one query."""
    used, passes = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((Attempt.passed.is_(True), 1)))).where(
            Attempt.user_id == user.id, Attempt.version_id == version.id
        )
    ).one()
    return used, passes > 0


def attempts_used(user: User, version: ModuleVersion) -> int:
    return _attempt_record(user, version)[0]


def attempt_refusal(user: User, module: TrainingModule) -> str | None:
    """Why `user` may not take the live version's knowledge check now, or None."""
    version = module.live_version
    return _refusal(version, *_attempt_record(user, version))


def _refusal(version: ModuleVersion, used: int, passed: bool) -> str | None:
    if passed:
        return (
            f"You have passed {version.label.lower()} of this module; there is nothing to retake."
        )
    if version.attempt_limit is not None and used >= version.attempt_limit:
        return (
            f"You have used all {version.attempt_limit} attempts on this version. "
            "Ask the module's owner or your manager for help."
        )
    return None


class AnswerErrors(TrainingError):
    """Some questions were not answered properly; `errors` maps question id to a message."""

    def __init__(self, errors: dict[int, str]):
        super().__init__("Answer every question.", status=422)
        self.errors = errors


def submit_attempt(
    user: User,
    module: TrainingModule,
    version_id: int,
    answers: dict[int, set[int]],
    submission_key: str | None = None,
    *,
    now: datetime | None = None,
) -> Attempt:
    """Score a knowledge check on the server and record it. A repeated submission key returns the
    attempt already recorded (a double click or a browser retry is one attempt)."""
    if submission_key:
        existing = db.session.scalar(
            sa.select(Attempt).where(
                Attempt.submission_key == submission_key, Attempt.user_id == user.id
            )
        )
        if existing is not None:
            return existing
    version = module.live_version
    if version is None or version.id != version_id or not module.is_available:
        raise TrainingError(
            "This module changed since you opened the knowledge check. Review the new version "
            "and try again.",
            status=409,
        )
    used, passed = _attempt_record(user, version)
    if refusal := _refusal(version, used, passed):
        raise TrainingError(refusal, status=409)
    errors = {}
    for question in version.questions:
        chosen = answers.get(question.id, set())
        valid = {choice.id for choice in question.choices}
        if not chosen:
            errors[question.id] = "Choose an answer."
        elif not chosen <= valid:
            errors[question.id] = "Choose from the answers shown."
        elif question.kind is QuestionKind.SINGLE and len(chosen) != 1:
            errors[question.id] = "Choose one answer."
    if errors:
        raise AnswerErrors(errors)
    score = score_answers(version.questions, answers)
    attempt = Attempt(
        user_id=user.id,
        module_id=module.id,
        version_id=version.id,
        attempt_number=used + 1,
        submission_key=submission_key or None,
        score_pct=score.score_pct,
        passed=score.score_pct >= version.pass_mark_pct,
        submitted_at=now or utcnow(),
    )
    db.session.add(attempt)
    db.session.flush()
    # One INSERT for all answers. As ORM objects they would be one INSERT each on SQLite: the
    # session needs each new id back, and SQLite cannot say which returned id is which row's.
    answer_rows = [
        {
            "attempt_id": attempt.id,
            "question_id": scored.question.id,
            "chosen_choice_ids": sorted(scored.chosen),
            "credit": scored.credit,
            "is_correct": scored.is_correct,
        }
        for scored in score.answers
    ]
    if answer_rows:
        db.session.execute(sa.insert(AttemptAnswer), answer_rows)
    if attempt.passed:
        record_completions(attempt)
    return attempt


def record_completions(attempt: Attempt) -> int:
    """A pass completes the person's open assignments for the module that this version satisfies."""
    result = db.session.execute(
        sa.update(Assignment)
        .where(
            Assignment.user_id == attempt.user_id,
            Assignment.module_id == attempt.module_id,
            Assignment.completed_at.is_(None),
            Assignment.required_version_number <= attempt.version.number,
        )
        .values(completed_at=attempt.submitted_at)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def get_visible_attempt(attempt_id: int, user: User) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not attempt.visible_to(user):
        raise TrainingError("Not found.", status=404)
    return attempt


def scored_view(attempt: Attempt) -> list[ScoredAnswer]:
    """The attempt's answers in question order, for the result page."""
    by_question = {answer.question_id: answer for answer in attempt.answers}
    rows = []
    for question in attempt.version.questions:
        answer = by_question.get(question.id)
        chosen = set(answer.chosen_choice_ids) if answer else set()
        rows.append(
            ScoredAnswer(
                question,
                chosen,
                answer.credit if answer else Decimal(0),
                answer.is_correct if answer else False,
            )
        )
    return rows


def my_attempts(user: User, module: TrainingModule) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.user_id == user.id, Attempt.module_id == module.id)
            .order_by(Attempt.submitted_at.desc(), Attempt.id.desc())
        )
    )


# --- "My training" ---------------------------------------------------------------------------------


@dataclass
class TrainingRow:
    module: TrainingModule
    assignment: Assignment | None = None
    progress: TrainingProgress | None = None
    attempts: int = 0
    last_attempt: Attempt | None = None

    def is_overdue(self, today: date) -> bool:
        return self.assignment is not None and self.assignment.is_overdue(today)

    @property
    def resume_position(self) -> int:
        return self.progress.last_position if self.progress else 1

    @property
    def section_count(self) -> int:
        return len(self.module.live_version.sections)


@dataclass
class MyTraining:
    recertification: list[TrainingRow]
    assigned: list[TrainingRow]
    in_progress: list[TrainingRow]
    completed: list[Attempt]
    other: list[TrainingModule]
    overdue_count: int

    @property
    def due_count(self) -> int:
        return (
            len(self.recertification)
            + len(self.assigned)
            + sum(1 for row in self.in_progress if row.assignment is not None)
        )


def my_training(user: User, today: date) -> MyTraining:
    """Everything on a trainee's "My training" page, in a fixed number of queries."""
    # The page lists modules; their knowledge-check questions are not needed here.
    modules = {
        m.id: m
        for m in db.session.scalars(
            _available_modules_query().options(
                sa.orm.selectinload(TrainingModule.versions).lazyload(ModuleVersion.questions)
            )
        )
    }
    open_assignments = [
        a
        for a in db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.user_id == user.id, Assignment.completed_at.is_(None))
            .order_by(Assignment.due_on, Assignment.id)
        )
        if a.module_id in modules
    ]
    progress = {
        p.module_id: p
        for p in db.session.scalars(
            sa.select(TrainingProgress).where(TrainingProgress.user_id == user.id)
        )
        if p.module_id in modules and p.version_id == modules[p.module_id].live_version.id
    }
    live_ids = [m.live_version.id for m in modules.values()]
    attempt_counts = dict(
        db.session.execute(
            sa.select(Attempt.module_id, sa.func.count())
            .where(Attempt.user_id == user.id, Attempt.version_id.in_(live_ids))
            .group_by(Attempt.module_id)
        ).all()
    )
    passed_live = set(
        db.session.scalars(
            sa.select(Attempt.module_id).where(
                Attempt.user_id == user.id,
                Attempt.version_id.in_(live_ids),
                Attempt.passed.is_(True),
            )
        )
    )
    # The newest pass per module: the certificate to show.
    newest_pass = (
        sa.select(Attempt.module_id, sa.func.max(Attempt.id).label("attempt_id"))
        .where(Attempt.user_id == user.id, Attempt.passed.is_(True))
        .group_by(Attempt.module_id)
        .subquery()
    )
    # Module and version come with the attempt: by the time the page is drawn the modules loaded
    # above may have left the session, and loading them one by one was a query per row. The
    # page shows neither the answers nor the versions' sections and questions.
    completed = list(
        db.session.scalars(
            sa.select(Attempt)
            .join(newest_pass, Attempt.id == newest_pass.c.attempt_id)
            .options(
                sa.orm.joinedload(Attempt.module).lazyload(TrainingModule.versions),
                sa.orm.joinedload(Attempt.version).lazyload(ModuleVersion.sections),
                sa.orm.joinedload(Attempt.version).lazyload(ModuleVersion.questions),
                sa.orm.lazyload(Attempt.answers),
            )
            .order_by(Attempt.submitted_at.desc())
        )
    )

    def row(module: TrainingModule, assignment: Assignment | None) -> TrainingRow:
        return TrainingRow(
            module=module,
            assignment=assignment,
            progress=progress.get(module.id),
            attempts=attempt_counts.get(module.id, 0),
        )

    def overdue_first(item: TrainingRow) -> tuple[bool, date]:
        due = item.assignment.due_on if item.assignment else date.max
        return (not item.is_overdue(today), due)

    recertification, assigned, in_progress = [], [], []
    seen = set()
    for assignment in open_assignments:
        if assignment.module_id in seen:
            continue
        seen.add(assignment.module_id)
        item = row(modules[assignment.module_id], assignment)
        if item.progress is not None or item.attempts:
            in_progress.append(item)
        elif assignment.reason is AssignmentReason.RECERTIFICATION:
            recertification.append(item)
        else:
            assigned.append(item)
    for module_id in progress:
        if module_id not in seen and module_id not in passed_live:
            seen.add(module_id)
            in_progress.append(row(modules[module_id], None))
    completed_ids = {a.module_id for a in completed}
    other = [m for m in modules.values() if m.id not in seen and m.id not in completed_ids]
    return MyTraining(
        recertification=sorted(recertification, key=overdue_first),
        assigned=sorted(assigned, key=overdue_first),
        in_progress=sorted(in_progress, key=overdue_first),
        completed=completed,
        other=other,
        overdue_count=sum(1 for a in open_assignments if a.is_overdue(today)),
    )


@dataclass
class DueSummary:
    open_count: int
    overdue_count: int
    next_due: date | None


def training_due_summary(user: User, today: date) -> DueSummary:
    """For the home page card: open assignments, how many are overdue, the next due date."""
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Assignment.due_on < today),
            sa.func.min(Assignment.due_on),
        )
        .join(TrainingModule, Assignment.module_id == TrainingModule.id)
        .where(
            Assignment.user_id == user.id,
            Assignment.completed_at.is_(None),
            TrainingModule.is_published.is_(True),
        )
    ).one()
    return DueSummary(open_count=row[0], overdue_count=row[1], next_due=row[2])


# --- Known limitations from the feedback loop ------------------------------------------------------


@dataclass
class KnownLimitation:
    report_id: int
    problem: str
    what_to_do: str
    acted_on_at: datetime | None


def known_limitations(agent: Agent) -> list[KnownLimitation]:
    """Acted-on reports about `agent` documented as a known limitation or as a training update.

    Only the problem, the owner's note and a link: never who reported it.
    """
    reports = feedback_services.acted_on_reports_for_agent(
        agent, [ActionKind.TRAINING_UPDATED, ActionKind.KNOWN_LIMITATION]
    )
    return [
        KnownLimitation(
            report_id=report.id,
            problem=report.summary,
            what_to_do=report.action_note,
            acted_on_at=report.acted_on_at,
        )
        for report in reports
    ]
