"""Training measures, aggregated in SQL (DESIGN.md "Measures"). Pages, CSV exports and dashboards
all call these functions, so every number means the same thing everywhere.

- Completion: of the assignments due in the period (start <= due date < end), the share with a passing
  attempt on the certification version the assignment asks for (the module's certification version
  when it was assigned) or a later version. `completed_at` on the assignment records exactly that.
- Overdue: assignments due in the period, past their due date today and not completed.
- First-attempt pass rate: of the first attempts people made on a module version submitted in the
  period (each new version that requires re-certification starts a new first attempt), the share
  that passed.
Agent filters by the module's agent; team by the person's current team.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.accounts.models import Team, User
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.training.models import (
    Assignment,
    Attempt,
    AttemptAnswer,
    ModuleVersion,
    Question,
    TrainingModule,
)

DIMENSIONS = ("module", "agent", "team")


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def _share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


@dataclass(frozen=True)
class TrainingCompletion:
    due: int = 0
    completed: int = 0
    overdue: int = 0
    first_attempts: int = 0
    first_attempt_passes: int = 0

    def __add__(self, other: "TrainingCompletion") -> "TrainingCompletion":
        """Counts of two groups together (teams of one period add up to the period's)."""
        return TrainingCompletion(
            self.due + other.due,
            self.completed + other.completed,
            self.overdue + other.overdue,
            self.first_attempts + other.first_attempts,
            self.first_attempt_passes + other.first_attempt_passes,
        )

    @property
    def rate(self) -> float | None:
        """Completed / due, or None when nothing was due."""
        return _share(self.completed, self.due)

    @property
    def first_attempt_pass_rate(self) -> float | None:
        return _share(self.first_attempt_passes, self.first_attempts)


def _assignment_counts(today: date) -> list[sa.ColumnElement]:
    # count(*), not count(id): the covering index on (due_on, module, person, completed_at) then
    # answers without reading the rows (PostgreSQL's index-only scan needs every column in it).
    return [
        sa.func.count().label("due"),
        sa.func.count().filter(Assignment.completed_at.is_not(None)).label("completed"),
        sa.func.count()
        .filter(Assignment.completed_at.is_(None), Assignment.due_on < today)
        .label("overdue"),
    ]


def _first_attempt_counts() -> list[sa.ColumnElement]:
    return [
        sa.func.count().label("first_attempts"),
        sa.func.count().filter(Attempt.passed.is_(True)).label("first_attempt_passes"),
    ]


def training_completion(
    start: date | datetime,
    end: date | datetime,
    agent_id: int | None = None,
    team_id: int | None = None,
    *,
    today: date | None = None,
) -> TrainingCompletion:
    """Completion, overdue count and first-attempt pass rate for one period (two SQL statements)."""
    today = today or utcnow().date()
    assignments = (
        sa.select(*_assignment_counts(today))
        .select_from(Assignment)
        .join(TrainingModule, Assignment.module_id == TrainingModule.id)
        .join(User, Assignment.user_id == User.id)
        .where(Assignment.due_on >= _as_date(start), Assignment.due_on < _as_date(end))
    )
    attempts = (
        sa.select(*_first_attempt_counts())
        .select_from(Attempt)
        .join(TrainingModule, Attempt.module_id == TrainingModule.id)
        .join(User, Attempt.user_id == User.id)
        .where(
            Attempt.attempt_number == 1,
            Attempt.submitted_at >= _as_datetime(start),
            Attempt.submitted_at < _as_datetime(end),
        )
    )
    if agent_id is not None:
        assignments = assignments.where(TrainingModule.agent_id == agent_id)
        attempts = attempts.where(TrainingModule.agent_id == agent_id)
    if team_id is not None:
        assignments = assignments.where(User.team_id == team_id)
        attempts = attempts.where(User.team_id == team_id)
    due, completed, overdue = db.session.execute(assignments).one()
    first_attempts, first_passes = db.session.execute(attempts).one()
    return TrainingCompletion(due, completed, overdue, first_attempts, first_passes)


@dataclass(frozen=True)
class CompletionRow:
    key: int | None
    label: str
    detail: str
    figures: TrainingCompletion


def _group_columns(dimension: str) -> tuple[list[sa.ColumnElement], list]:
    """(key, label, detail) columns and the joins they need, per dimension."""
    if dimension == "module":
        live = aliased(ModuleVersion)
        columns = [TrainingModule.id, live.title, Agent.name]
        joins = [
            (
                live,
                sa.and_(
                    live.module_id == TrainingModule.id,
                    live.number == TrainingModule.live_version_number,
                ),
            ),
            (Agent, Agent.id == TrainingModule.agent_id),
        ]
        return columns, joins
    if dimension == "agent":
        return [Agent.id, Agent.name, Agent.slug], [(Agent, Agent.id == TrainingModule.agent_id)]
    if dimension == "team":
        return [Team.id, Team.name, Team.description], [(Team, Team.id == User.team_id)]
    raise ValueError(f"unknown dimension {dimension!r}")


def completion_by(
    dimension: str,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    today: date | None = None,
    agent_id: int | None = None,
) -> list[CompletionRow]:
    """Completion per module, agent or team (GROUP BY in SQL; two statements whatever the size).
    `agent_id` keeps one agent's modules (the dashboards' "by team" for one agent)."""
    today = today or utcnow().date()
    columns, joins = _group_columns(dimension)
    assignments = (
        sa.select(*columns, *_assignment_counts(today))
        .select_from(Assignment)
        .join(TrainingModule, Assignment.module_id == TrainingModule.id)
        .join(User, Assignment.user_id == User.id)
    )
    attempts = (
        sa.select(columns[0], *_first_attempt_counts())
        .select_from(Attempt)
        .join(TrainingModule, Attempt.module_id == TrainingModule.id)
        .join(User, Attempt.user_id == User.id)
        .where(Attempt.attempt_number == 1)
    )
    for target, condition in joins:
        assignments = assignments.outerjoin(target, condition)
        attempts = attempts.outerjoin(target, condition)
    if start is not None:
        assignments = assignments.where(Assignment.due_on >= _as_date(start))
        attempts = attempts.where(Attempt.submitted_at >= _as_datetime(start))
    if end is not None:
        assignments = assignments.where(Assignment.due_on < _as_date(end))
        attempts = attempts.where(Attempt.submitted_at < _as_datetime(end))
    if agent_id is not None:
        assignments = assignments.where(TrainingModule.agent_id == agent_id)
        attempts = attempts.where(TrainingModule.agent_id == agent_id)
    assignments = assignments.group_by(*columns)
    attempts = attempts.group_by(columns[0])
    first = {key: (n, passes) for key, n, passes in db.session.execute(attempts)}
    rows = []
    for key, label, detail, due, completed, overdue in db.session.execute(assignments):
        n, passes = first.get(key, (0, 0))
        rows.append(
            CompletionRow(
                key=key,
                label=label or ("No team" if dimension == "team" else "—"),
                detail=detail or "",
                figures=TrainingCompletion(due, completed, overdue, n, passes),
            )
        )
    return sorted(rows, key=lambda r: (r.label.lower(), r.key or 0))


@dataclass(frozen=True)
class OverdueRow:
    user_id: int
    name: str
    email: str
    team: str
    module_id: int
    module: str
    agent: str
    due_on: date
    days_overdue: int


def overdue_people(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    today: date | None = None,
) -> list[OverdueRow]:
    """Active people with an assignment past its due date and not completed, longest overdue first."""
    today = today or utcnow().date()
    live = aliased(ModuleVersion)
    stmt = (
        sa.select(
            User.id,
            User.name,
            User.email,
            Team.name,
            TrainingModule.id,
            live.title,
            Agent.name,
            Assignment.due_on,
        )
        .select_from(Assignment)
        .join(User, Assignment.user_id == User.id)
        .outerjoin(Team, Team.id == User.team_id)
        .join(TrainingModule, Assignment.module_id == TrainingModule.id)
        .join(
            live,
            sa.and_(
                live.module_id == TrainingModule.id,
                live.number == TrainingModule.live_version_number,
            ),
        )
        .join(Agent, Agent.id == TrainingModule.agent_id)
        .where(
            Assignment.completed_at.is_(None),
            Assignment.due_on < today,
            User.is_active_account.is_(True),
        )
        .order_by(Assignment.due_on, User.name, Assignment.id)
    )
    if start is not None:
        stmt = stmt.where(Assignment.due_on >= _as_date(start))
    if end is not None:
        stmt = stmt.where(Assignment.due_on < _as_date(end))
    return [
        OverdueRow(
            user_id,
            name,
            email,
            team or "No team",
            module_id,
            title,
            agent,
            due,
            (today - due).days,
        )
        for user_id, name, email, team, module_id, title, agent, due in db.session.execute(stmt)
    ]


@dataclass(frozen=True)
class MissedQuestion:
    question_id: int
    prompt: str
    module_id: int
    module: str
    version_number: int | None
    agent: str
    answers: int
    wrong: int

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.answers if self.answers else 0.0


def most_missed_questions(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    limit: int = 20,
) -> list[MissedQuestion]:
    """Questions answered not fully right most often (a sign the agent or the training confuses)."""
    wrong = sa.func.count(AttemptAnswer.id).filter(AttemptAnswer.is_correct.is_(False))
    answers = sa.func.count(AttemptAnswer.id)
    stmt = (
        sa.select(
            Question.id,
            Question.prompt,
            TrainingModule.id,
            ModuleVersion.title,
            ModuleVersion.number,
            Agent.name,
            answers,
            wrong,
        )
        .select_from(AttemptAnswer)
        .join(Attempt, AttemptAnswer.attempt_id == Attempt.id)
        .join(Question, AttemptAnswer.question_id == Question.id)
        .join(ModuleVersion, Question.version_id == ModuleVersion.id)
        .join(TrainingModule, ModuleVersion.module_id == TrainingModule.id)
        .join(Agent, Agent.id == TrainingModule.agent_id)
        .group_by(
            Question.id,
            Question.prompt,
            TrainingModule.id,
            ModuleVersion.title,
            ModuleVersion.number,
            Agent.name,
        )
        .having(wrong > 0)
        .order_by((sa.cast(wrong, sa.Float) / answers).desc(), wrong.desc(), Question.id)
        .limit(limit)
    )
    if start is not None:
        stmt = stmt.where(Attempt.submitted_at >= _as_datetime(start))
    if end is not None:
        stmt = stmt.where(Attempt.submitted_at < _as_datetime(end))
    return [MissedQuestion(*row) for row in db.session.execute(stmt)]
