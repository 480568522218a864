"""Rules about surveys: campaigns and their settings, the round schedule, audiences, and answering once.

Services flush; the view, CLI or sweep commits. Nothing here records who gave which answer: a person's
participation and their answers are written in one transaction but to tables that share no key.
"""

import calendar
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app, has_request_context, url_for

from portal.accounts.models import Role, Team, User, UserRole
from portal.agents.models import Agent, Lifecycle
from portal.core.db import db, insert_for
from portal.core.sweep import sweep_task
from portal.notifications.services import notify
from portal.surveys import metrics
from portal.surveys.models import (
    MIN_ANONYMITY_THRESHOLD,
    Cadence,
    QuestionKind,
    SurveyAnswer,
    SurveyAudienceRole,
    SurveyCampaign,
    SurveyParticipation,
    SurveyParticipationRollup,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyRoundAudience,
    SurveyScoreRollup,
)

log = logging.getLogger(__name__)

_signals = Namespace()
# Sent with the round (sender) when it closes, inside the closing transaction (webhooks listen).
survey_round_closed = _signals.signal("survey-round-closed")

MAX_ANONYMITY_THRESHOLD = 100
MAX_EXTRA_QUESTIONS = 5  # keeps answering under two minutes
MAX_TEXT_ANSWER = 2000
ALREADY_ANSWERED = (
    "You have already answered this survey round. Each person answers once, so your first "
    "answers stand."
)
ROUND_CLOSED = "This survey round has closed, so it no longer takes answers."
# Everybody holds these implicitly (User.roles): choosing one of them means everyone.
EVERYONE_ROLES = frozenset({Role.REPORTER, Role.TRAINEE})


class SurveyError(ValueError):
    """A survey rule was broken. `field` names the form field at fault; `status` is the HTTP answer."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- Campaign settings -------------------------------------------------------------------------


@dataclass
class CampaignSettings:
    """Everything an admin decides about a campaign."""

    name: str
    description: str
    agents: list[Agent]
    is_for_everyone: bool
    teams: list[Team]
    roles: set[Role]
    cadence: Cadence
    opens_on: date
    closes_on: date | None
    anonymity_threshold: int

    @classmethod
    def of(cls, campaign: SurveyCampaign) -> "CampaignSettings":
        return cls(
            name=campaign.name,
            description=campaign.description,
            agents=list(campaign.agents),
            is_for_everyone=campaign.is_for_everyone,
            teams=list(campaign.audience_teams),
            roles=set(campaign.audience_roles),
            cadence=campaign.cadence,
            opens_on=campaign.opens_on,
            closes_on=campaign.closes_on,
            anonymity_threshold=campaign.anonymity_threshold,
        )


# Fixed once the first round opens: changing them would make rounds incomparable, and lowering the
# threshold after seeing who answered would defeat it.
LOCKED_SETTINGS = {
    "agents": "The agents",
    "is_for_everyone": "The audience",
    "teams": "The audience",
    "roles": "The audience",
    "cadence": "The cadence",
    "opens_on": "The open date",
    "anonymity_threshold": "The anonymity threshold",
}


def _check_settings(settings: CampaignSettings, today: date, *, is_new_window: bool) -> None:
    if not settings.name.strip():
        raise SurveyError("Give the campaign a name.", "name")
    if len(settings.name.strip()) > 160:
        raise SurveyError("Keep the name to 160 characters.", "name")
    if not settings.agents:
        raise SurveyError("Choose at least one agent to ask about.", "agents")
    if any(agent.lifecycle is Lifecycle.RETIRED for agent in settings.agents):
        raise SurveyError("Retired agents cannot be surveyed.", "agents")
    if not (settings.is_for_everyone or settings.teams or settings.roles):
        raise SurveyError("Choose who is asked: everyone, some teams, or some roles.", "teams")
    threshold = settings.anonymity_threshold
    if threshold < MIN_ANONYMITY_THRESHOLD:
        raise SurveyError(
            f"The threshold cannot be below {MIN_ANONYMITY_THRESHOLD}: smaller groups could be "
            "identified.",
            "anonymity_threshold",
        )
    if threshold > MAX_ANONYMITY_THRESHOLD:
        raise SurveyError(
            f"Use a threshold of at most {MAX_ANONYMITY_THRESHOLD}.", "anonymity_threshold"
        )
    if settings.cadence is Cadence.ONCE and settings.closes_on is None:
        raise SurveyError("A one-off survey needs a close date.", "closes_on")
    if settings.closes_on is not None:
        if settings.closes_on < settings.opens_on:
            raise SurveyError("The close date must be on or after the open date.", "closes_on")
        if is_new_window and settings.closes_on < today:
            raise SurveyError("The close date has already passed.", "closes_on")


def _apply_settings(campaign: SurveyCampaign, settings: CampaignSettings) -> None:
    campaign.name = settings.name.strip()
    campaign.description = settings.description.strip()
    campaign.agents = list(settings.agents)
    campaign.is_for_everyone = settings.is_for_everyone
    campaign.audience_teams = list(settings.teams)
    current = {row.role: row for row in campaign.audience_role_rows}
    for role, row in current.items():
        if role not in settings.roles:
            campaign.audience_role_rows.remove(row)
    for role in settings.roles - current.keys():
        campaign.audience_role_rows.append(SurveyAudienceRole(role=role))
    campaign.cadence = settings.cadence
    campaign.opens_on = settings.opens_on
    campaign.closes_on = settings.closes_on
    campaign.anonymity_threshold = settings.anonymity_threshold


def create_campaign(settings: CampaignSettings, by: User, today: date) -> SurveyCampaign:
    """A new campaign, in draft: nobody is asked anything until an admin launches it."""
    _check_settings(settings, today, is_new_window=True)
    campaign = SurveyCampaign(created_by_id=by.id)
    _apply_settings(campaign, settings)
    db.session.add(campaign)
    db.session.flush()
    log.info("survey campaign created: campaign=%s by=%s", campaign.id, by.id)
    return campaign


def update_campaign(campaign: SurveyCampaign, settings: CampaignSettings, today: date) -> None:
    """Change a campaign. Once it has opened, only its name, description and close date may change."""
    if campaign.ended_at is not None:
        raise SurveyError("This campaign has ended; it can no longer be changed.", status=409)
    if campaign.has_opened:
        current = CampaignSettings.of(campaign)
        for name, label in LOCKED_SETTINGS.items():
            if _comparable(getattr(settings, name)) != _comparable(getattr(current, name)):
                raise SurveyError(f"{label} is fixed once the campaign has opened.", name)
    _check_settings(
        settings,
        today,
        is_new_window=settings.closes_on != campaign.closes_on or not campaign.has_opened,
    )
    _apply_settings(campaign, settings)
    if settings.closes_on is not None:
        # An earlier close date also shortens the round that is open now.
        last_moment = midnight_utc(settings.closes_on + timedelta(days=1))
        for survey_round in campaign.rounds:
            if survey_round.closed_at is None and survey_round.closes_at > last_moment:
                survey_round.closes_at = last_moment
                survey_round.period_end = settings.closes_on
    db.session.flush()


def _comparable(value):
    if isinstance(value, list | set):
        return sorted(getattr(item, "id", getattr(item, "value", item)) for item in value)
    return value


def add_question(campaign: SurveyCampaign, kind: QuestionKind, prompt: str) -> SurveyQuestion:
    """Add one of the campaign's own questions (asked about each agent), before it opens."""
    if campaign.has_opened:
        raise SurveyError("Questions are fixed once the campaign has opened.", status=409)
    prompt = prompt.strip()
    if not prompt:
        raise SurveyError("Write the question.", "prompt")
    if len(prompt) > 200:
        raise SurveyError("Keep the question to 200 characters.", "prompt")
    if len(campaign.questions) >= MAX_EXTRA_QUESTIONS:
        raise SurveyError(
            f"A campaign has at most {MAX_EXTRA_QUESTIONS} questions of its own, so answering "
            "stays under two minutes.",
            "prompt",
        )
    position = max((q.position for q in campaign.questions), default=0) + 1
    question = SurveyQuestion(kind=kind, prompt=prompt, position=position)
    campaign.questions.append(question)
    db.session.flush()
    return question


def remove_question(campaign: SurveyCampaign, question: SurveyQuestion) -> None:
    if campaign.has_opened:
        raise SurveyError("Questions are fixed once the campaign has opened.", status=409)
    campaign.questions.remove(question)
    db.session.flush()


def launch_campaign(campaign: SurveyCampaign, now: datetime) -> SurveyRound | None:
    """Schedule the campaign; its first round opens now if the open date has come, else on the sweep."""
    if campaign.is_launched:
        raise SurveyError("This campaign has already been launched.", status=409)
    _check_settings(CampaignSettings.of(campaign), now.date(), is_new_window=True)
    campaign.launched_at = now
    db.session.flush()
    return open_due_round(campaign, now)


def end_campaign(campaign: SurveyCampaign, now: datetime) -> None:
    """Stop a campaign early: its open round closes now and no further round opens."""
    if not campaign.is_launched or campaign.ended_at is not None:
        raise SurveyError("Only a launched campaign that has not ended can be ended.", status=409)
    for survey_round in campaign.rounds:
        if survey_round.closed_at is None:
            close_round(survey_round, now)
    campaign.ended_at = now
    if campaign.closes_on is None or campaign.closes_on > now.date():
        campaign.closes_on = now.date()
    db.session.flush()


# --- The round schedule ------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's length (31 January + 1 = 28/29 February)."""
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def round_period(campaign: SurveyCampaign, number: int) -> tuple[date, date]:
    """First day and the day after the last day of round `number` (counted from 0)."""
    months = campaign.cadence.months
    if months is None:
        assert campaign.closes_on is not None
        return campaign.opens_on, campaign.closes_on + timedelta(days=1)
    start = add_months(campaign.opens_on, number * months)
    end = add_months(campaign.opens_on, (number + 1) * months)
    if campaign.closes_on is not None:
        end = min(end, campaign.closes_on + timedelta(days=1))
    return start, end


def due_round_number(campaign: SurveyCampaign, today: date) -> int | None:
    """The round whose period contains `today`, or None outside the campaign's window."""
    if today < campaign.opens_on:
        return None
    if campaign.closes_on is not None and today > campaign.closes_on:
        return None
    months = campaign.cadence.months
    if months is None:
        return 0
    elapsed = (today.year - campaign.opens_on.year) * 12 + today.month - campaign.opens_on.month
    number = max(elapsed // months, 0)
    while number > 0 and add_months(campaign.opens_on, number * months) > today:
        number -= 1
    return number


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _insert_once(table: sa.Table, values: dict) -> bool:
    """INSERT that quietly does nothing when the row's key exists; True if a row was inserted.

    Two requests (or sweeps) racing for the same key wait on the database's unique index, and
    exactly one of them inserts.
    """
    dialect = db.session.get_bind().dialect.name
    insert = insert_for(dialect)
    key = next(iter(table.primary_key.columns))
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return db.session.execute(stmt).first() is not None


def open_due_round(campaign: SurveyCampaign, now: datetime) -> SurveyRound | None:
    """Open the round for the current period if it is not open yet; tell its audience. Idempotent."""
    if not campaign.is_launched or campaign.ended_at is not None:
        return None
    number = due_round_number(campaign, now.date())
    if number is None:
        return None
    # Never go back to an older period (rounds skipped while no sweep ran stay skipped).
    latest = max((r.number for r in campaign.rounds), default=-1)
    if number <= latest:
        return None
    start, end = round_period(campaign, number)
    inserted = _insert_once(
        SurveyRound.__table__,
        {
            "campaign_id": campaign.id,
            "number": number,
            "period_start": start,
            "period_end": end - timedelta(days=1),
            "opens_at": midnight_utc(start),
            "closes_at": midnight_utc(end),
            "opened_at": now,
            "audience_size": 0,
        },
    )
    if not inserted:
        return None
    survey_round = db.session.scalar(
        sa.select(SurveyRound).where(
            SurveyRound.campaign_id == campaign.id, SurveyRound.number == number
        )
    )
    db.session.refresh(campaign, ["rounds"])
    sizes = db.session.execute(
        audience_select(campaign)
        .with_only_columns(User.team_id, sa.func.count())
        .group_by(User.team_id)
    ).all()
    for team_id, size in sizes:
        survey_round.audience.append(SurveyRoundAudience(team_id=team_id, size=size))
    survey_round.audience_size = sum(size for _, size in sizes)
    if campaign.opened_at is None:
        campaign.opened_at = now
    db.session.flush()
    _announce_round(survey_round)
    log.info(
        "survey round opened: campaign=%s round=%s audience=%s",
        campaign.id,
        survey_round.id,
        survey_round.audience_size,
    )
    return survey_round


def _announce_round(survey_round: SurveyRound) -> None:
    campaign = survey_round.campaign
    link = round_path(survey_round)
    closes = (survey_round.closes_at - timedelta(days=1)).date()
    agents = ", ".join(agent.name for agent in campaign.agents)
    body = (
        f"{campaign.name} ({survey_round.label}) is open until {closes:%d %B %Y}. It asks how "
        f"well these agents work for you: {agents}. It takes about two minutes. Your answers are "
        "stored without your name, and nobody sees figures for groups of fewer than "
        f"{campaign.anonymity_threshold} people."
    )
    for user in db.session.scalars(audience_select(campaign).order_by(User.id)):
        notify(user, "survey_open", f"Survey open: {campaign.name}", body, link)


def round_path(survey_round: SurveyRound) -> str:
    if has_request_context():
        return url_for("surveys.answer", round_id=survey_round.id)
    with current_app.test_request_context():
        return url_for("surveys.answer", round_id=survey_round.id)


def close_round(survey_round: SurveyRound, now: datetime) -> None:
    """Close one round now: it takes no more answers, and its figures may be shown (rolled up)."""
    survey_round.closed_at = now
    # Written now, so the round's row is locked until commit: an answer still being submitted
    # either commits first (and is rolled up below) or finds the round closed (submit_answers).
    db.session.flush()
    # Rewrite the round's participation rows in user order, so their physical order in the table no
    # longer follows the order in which people answered (which the answers' rows still do).
    rows = db.session.execute(
        sa.delete(SurveyParticipation)
        .where(SurveyParticipation.round_id == survey_round.id)
        .returning(SurveyParticipation.user_id, SurveyParticipation.team_id)
    ).all()
    if rows:
        db.session.execute(
            sa.insert(SurveyParticipation),
            [
                {"round_id": survey_round.id, "user_id": user_id, "team_id": team_id}
                for user_id, team_id in sorted(rows, key=lambda row: row[0])
            ],
        )
    roll_up_round(survey_round)
    survey_round_closed.send(survey_round)


def close_due_rounds(now: datetime) -> int:
    """Close every open round whose time is up. Returns how many closed."""
    due = db.session.scalars(
        sa.select(SurveyRound)
        .where(SurveyRound.closed_at.is_(None), SurveyRound.closes_at <= now)
        # No eager join to the campaign: PostgreSQL cannot lock rows across an outer join.
        .options(sa.orm.lazyload(SurveyRound.campaign))
        .with_for_update(skip_locked=True, of=SurveyRound)
    ).all()
    for survey_round in due:
        close_round(survey_round, now)
    db.session.flush()
    return len(due)


@sweep_task("survey_rounds")
def advance_survey_rounds(now: datetime) -> int:
    """Close rounds whose time is up, open the current period's round, end finished campaigns.

    Idempotent: a second run at the same moment finds nothing due and changes nothing.
    """
    done = close_due_rounds(now)
    campaigns = db.session.scalars(
        sa.select(SurveyCampaign)
        .where(SurveyCampaign.launched_at.is_not(None), SurveyCampaign.ended_at.is_(None))
        .order_by(SurveyCampaign.id)
    ).all()
    for campaign in campaigns:
        if open_due_round(campaign, now) is not None:
            done += 1
        past_window = campaign.closes_on is not None and now.date() > campaign.closes_on
        if past_window and all(r.closed_at is not None for r in campaign.rounds):
            campaign.ended_at = now
            done += 1
    db.session.flush()
    return done


# --- Rollups of closed rounds ------------------------------------------------------------------


def _roll_up(execute: Callable[[sa.Executable], object], rounds: sa.ColumnElement[bool]) -> None:
    """Replace the rollups of the rounds matching `rounds` (closed ones) with fresh sums."""
    chosen = sa.select(SurveyRound.id).where(rounds)
    closed = sa.and_(rounds, SurveyRound.closed_at.is_not(None))
    for model, sums, columns in (
        (SurveyScoreRollup, metrics.round_score_sums, metrics.SCORE_SUM_COLUMNS),
        (
            SurveyParticipationRollup,
            metrics.round_participant_counts,
            metrics.PARTICIPANT_COUNT_COLUMNS,
        ),
    ):
        execute(sa.delete(model).where(model.round_id.in_(chosen)))
        execute(sa.insert(model).from_select(list(columns), sums(closed)))


def roll_up_round(survey_round: SurveyRound) -> None:
    """Write a closed round's rollups (score sums per agent and team, participants per team).

    Called in the transaction that closes the round; one INSERT ... SELECT ... GROUP BY per table.
    """
    db.session.flush()
    _roll_up(db.session.connection().execute, SurveyRound.id == survey_round.id)


def rebuild_survey_rollups(connection: sa.Connection | None = None) -> dict[str, int]:
    """Rewrite the rollups of every closed round (after answers were written in bulk, or by hand).

    Runs on `connection` if given (the benchmark's seed), else in the session. Returns the rows
    now in each rollup table.
    """
    if connection is None:
        db.session.flush()
        connection = db.session.connection()
    execute = connection.execute
    _roll_up(execute, sa.true())
    return {
        model.__tablename__: execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        for model in (SurveyScoreRollup, SurveyParticipationRollup)
    }


@sa.event.listens_for(db.session, "after_flush")
def _roll_up_again_if_closed_rounds_changed(session: sa.orm.Session, _context) -> None:
    """Answers or participation of a CLOSED round written or removed through the ORM (nothing in
    the portal does: a closed round takes no answers): its rollups are rewritten in the same flush,
    so the figures never disagree with the rows they sum."""
    round_ids = set()
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, SurveyResponse | SurveyParticipation):
            round_ids.update(v for v in sa.inspect(item).attrs.round_id.history.sum() if v)
    if not round_ids:
        return
    connection = session.connection()
    closed = connection.execute(
        sa.select(SurveyRound.id).where(
            SurveyRound.id.in_(sorted(round_ids)), SurveyRound.closed_at.is_not(None)
        )
    ).scalars()
    closed_ids = sorted(closed)
    if closed_ids:
        _roll_up(connection.execute, SurveyRound.id.in_(closed_ids))


# --- Audiences ---------------------------------------------------------------------------------


def audience_select(campaign: SurveyCampaign) -> sa.Select:
    """The active people a campaign asks: the same rule as SurveyCampaign.includes, in SQL."""
    stmt = sa.select(User).where(User.is_active_account.is_(True))
    roles = campaign.audience_roles
    if campaign.is_for_everyone or roles & EVERYONE_ROLES:
        return stmt
    conditions = []
    team_ids = [team.id for team in campaign.audience_teams]
    if team_ids:
        conditions.append(User.team_id.in_(team_ids))
    if roles:
        conditions.append(
            User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(sorted(roles))))
        )
    return stmt.where(sa.or_(*conditions)) if conditions else stmt.where(sa.false())


def _open_rounds_select(now: datetime) -> sa.Select:
    return (
        sa.select(SurveyRound)
        .join(SurveyCampaign, SurveyRound.campaign_id == SurveyCampaign.id)
        .where(
            SurveyRound.closed_at.is_(None),
            SurveyRound.opens_at <= now,
            SurveyRound.closes_at > now,
            SurveyCampaign.ended_at.is_(None),
        )
        .order_by(SurveyRound.closes_at, SurveyRound.id)
    )


def rounds_waiting_for(user: User, now: datetime) -> list[SurveyRound]:
    """Open rounds that ask `user` and that they have not answered yet, closing soonest first."""
    answered = sa.select(SurveyParticipation.round_id).where(SurveyParticipation.user_id == user.id)
    rounds = db.session.scalars(
        _open_rounds_select(now).where(SurveyRound.id.not_in(answered))
    ).all()
    return [r for r in rounds if r.campaign.includes(user)]


def rounds_answered_by(user: User, limit: int = 12) -> list[SurveyRound]:
    return list(
        db.session.scalars(
            sa.select(SurveyRound)
            .join(SurveyParticipation, SurveyParticipation.round_id == SurveyRound.id)
            .where(SurveyParticipation.user_id == user.id)
            .order_by(SurveyRound.period_start.desc(), SurveyRound.id.desc())
            .limit(limit)
        )
    )


def has_answered(survey_round: SurveyRound, user: User) -> bool:
    return (
        db.session.get(SurveyParticipation, {"round_id": survey_round.id, "user_id": user.id})
        is not None
    )


def round_for_respondent(round_id: int, user: User) -> SurveyRound | None:
    """The round, if it belongs to a launched campaign whose audience includes `user`; else None.

    A person outside the audience gets the same answer as for a round that does not exist.
    """
    survey_round = db.session.get(SurveyRound, round_id)
    if survey_round is None or not survey_round.campaign.includes(user):
        return None
    return survey_round


def participation_count(survey_round: SurveyRound) -> int:
    """How many people answered the round: one total, never broken down while it runs."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyParticipation)
        .where(SurveyParticipation.round_id == survey_round.id)
    )


def participation_counts(campaign: SurveyCampaign) -> dict[int, int]:
    """People who answered, per round of the campaign: totals only."""
    return dict(
        db.session.execute(
            sa.select(SurveyParticipation.round_id, sa.func.count())
            .join(SurveyRound, SurveyParticipation.round_id == SurveyRound.id)
            .where(SurveyRound.campaign_id == campaign.id)
            .group_by(SurveyParticipation.round_id)
        ).all()
    )


# --- Answering ---------------------------------------------------------------------------------


@dataclass
class AgentAnswers:
    """One person's answers about one agent. `extra` maps a campaign question id to a score or text."""

    agent_id: int
    satisfaction: int
    trust: int
    nps: int
    change_text: str = ""
    extra: dict[int, int | str] = field(default_factory=dict)


def _check_answers(campaign: SurveyCampaign, answers: Iterable[AgentAnswers]) -> None:
    agent_ids = {agent.id for agent in campaign.agents}
    questions = {q.id: q for q in campaign.questions}
    seen = set()
    for answer in answers:
        if answer.agent_id not in agent_ids or answer.agent_id in seen:
            raise SurveyError("Those answers do not match this survey.")
        seen.add(answer.agent_id)
        for value, low, high in (
            (answer.satisfaction, 1, 5),
            (answer.trust, 1, 5),
            (answer.nps, 0, 10),
        ):
            if not isinstance(value, int) or not low <= value <= high:
                raise SurveyError("An answer is outside its scale.")
        if len(answer.change_text) > MAX_TEXT_ANSWER:
            raise SurveyError(f"Keep written answers to {MAX_TEXT_ANSWER} characters.")
        for question_id, value in answer.extra.items():
            question = questions.get(question_id)
            if question is None:
                raise SurveyError("Those answers do not match this survey.")
            if question.kind is QuestionKind.LIKERT and not (
                isinstance(value, int) and 1 <= value <= 5
            ):
                raise SurveyError("An answer is outside its scale.")
            if question.kind is QuestionKind.TEXT and (
                not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER
            ):
                raise SurveyError(f"Keep written answers to {MAX_TEXT_ANSWER} characters.")


def _still_open(survey_round: SurveyRound) -> bool:
    """Is the round still not closed, read again now that this transaction writes?

    The round may have closed since the page read it. PostgreSQL: the shared lock waits for a
    closing transaction (which then holds the row) and reads its result, and while held keeps the
    round from closing until this answer commits, so the closing rollup counts it. SQLite: the
    participation insert before this took the single write lock, so nobody can close the round
    before this transaction ends, and this read sees every committed close.
    """
    closed_at = db.session.scalar(
        sa.select(SurveyRound.closed_at)
        .where(SurveyRound.id == survey_round.id)
        .with_for_update(read=True)
    )
    return closed_at is None


def submit_answers(
    survey_round: SurveyRound, user: User, answers: list[AgentAnswers], now: datetime
) -> None:
    """Record `user`'s answers to a round: once per person, and without their identity.

    The participation row (round, person) goes in first through an insert that does nothing when the
    row exists; only if it was inserted are the answers written, in the same transaction. Two
    submits at once wait on the table's primary key, and the second is refused. Answers about agents
    the person does not work with are simply left out (`answers` may be empty).
    """
    campaign = survey_round.campaign
    if not campaign.includes(user):
        raise SurveyError("Survey not found.", status=404)
    if not survey_round.is_open(now) or campaign.ended_at is not None:
        raise SurveyError(ROUND_CLOSED, status=409)
    _check_answers(campaign, answers)
    inserted = _insert_once(
        SurveyParticipation.__table__,
        {"round_id": survey_round.id, "user_id": user.id, "team_id": user.team_id},
    )
    if not inserted:
        raise SurveyError(ALREADY_ANSWERED, status=409)
    if not _still_open(survey_round):
        raise SurveyError(ROUND_CLOSED, status=409)
    for answer in answers:
        response = SurveyResponse(
            round_id=survey_round.id,
            agent_id=answer.agent_id,
            team_id=user.team_id,
            period_start=survey_round.period_start,
            satisfaction=answer.satisfaction,
            trust=answer.trust,
            nps=answer.nps,
            change_text=answer.change_text.strip(),
        )
        for question_id, value in answer.extra.items():
            if isinstance(value, int):
                response.answers.append(SurveyAnswer(question_id=question_id, score=value))
            elif value.strip():
                response.answers.append(SurveyAnswer(question_id=question_id, text=value.strip()))
        db.session.add(response)
    db.session.flush()
    # Deliberately nothing about the person or their answers: a log line has a timestamp.
    log.info("survey answered: round=%s", survey_round.id)


# --- Lists for pages ---------------------------------------------------------------------------


def campaigns_for_admin() -> list[SurveyCampaign]:
    return list(
        db.session.scalars(
            sa.select(SurveyCampaign).order_by(
                SurveyCampaign.ended_at.is_not(None), SurveyCampaign.created_at.desc()
            )
        )
    )


def campaigns_with_results() -> list[SurveyCampaign]:
    return list(
        db.session.scalars(
            sa.select(SurveyCampaign)
            .where(SurveyCampaign.launched_at.is_not(None))
            .order_by(SurveyCampaign.opens_on.desc(), SurveyCampaign.id.desc())
        )
    )


def surveyable_agents() -> list[Agent]:
    return list(
        db.session.scalars(
            sa.select(Agent).where(Agent.lifecycle != Lifecycle.RETIRED).order_by(Agent.name)
        )
    )


def all_teams() -> list[Team]:
    return list(db.session.scalars(sa.select(Team).order_by(Team.name)))
