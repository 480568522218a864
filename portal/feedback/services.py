"""The rules of the closed loop: filing, who sees what, the state machine, notifications, escalation.

Pages, the JSON API, the CLI and the tests all call these functions; none of them re-implements a rule.
Services flush; the caller commits once (or rolls back on ReportError).
"""

import functools
import logging
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role, User, UserRole
from portal.agents.models import Agent, Lifecycle, ReportCategory
from portal.agents.services import suggest_owner
from portal.core import generations
from portal.core.db import db
from portal.core.sweep import sweep_task
from portal.core.timeutil import as_utc, utcnow
from portal.feedback import attachments as attachment_files
from portal.feedback import tallies
from portal.feedback.models import (
    ANSWERED_STATUSES,
    OPEN_STATUSES,
    ActionKind,
    EventKind,
    Report,
    ReportAttachment,
    ReportEvent,
    ReportStatus,
    ReportSubscription,
    Severity,
)
from portal.notifications.services import notify

log = logging.getLogger(__name__)
P = ParamSpec("P")

_signals = Namespace()
# Sent with the report (sender) inside the transaction of the change, after its flush: receivers
# (webhooks' outbox) write in the same transaction, so the event and the change commit together.
report_filed = _signals.signal("report-filed")
report_routed = _signals.signal("report-routed")
report_acted_on = _signals.signal("report-acted-on")  # acted on or declined
report_reopened = _signals.signal("report-reopened")
T = TypeVar("T")

SUMMARY_MAX = 200
TEXT_MAX = 10_000
NOTE_MAX = 5_000
RUN_REF_MAX = 200
STALE_MESSAGE = (
    "This report changed since you opened it. Read the latest state below; what you typed is kept."
)
DEFAULT_SLA_HOURS = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 24,
    Severity.MEDIUM: 72,
    Severity.LOW: 240,
}


class ReportError(Exception):
    """A rule about reports was broken.

    status: 404 not visible, 403 not allowed, 409 state conflict or stale version, 422 invalid.
    field: the form or API field at fault, or None.
    """

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass
class ReportInput:
    agent: Agent
    category: ReportCategory
    summary: str
    severity: Severity | None = None
    details: str = ""
    expected: str = ""
    run_ref: str = ""
    occurred_at: datetime | None = None
    confidential: bool = False
    submission_key: str | None = None


# The one state machine: from each status, the statuses a report may move to.
_S = ReportStatus
_WORKING = frozenset({_S.ROUTED, _S.ACTED_ON, _S.DECLINED, _S.DUPLICATE})
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    _S.NEW: frozenset({_S.TRIAGED, _S.ROUTED, _S.DECLINED, _S.DUPLICATE}),
    _S.TRIAGED: _WORKING,
    _S.ROUTED: _WORKING | {_S.IN_PROGRESS},  # routed again = reassigned
    _S.IN_PROGRESS: _WORKING,
    _S.REOPENED: _WORKING | {_S.IN_PROGRESS},
    _S.ACTED_ON: frozenset({_S.CLOSED, _S.REOPENED}),  # the reporter's answer
    _S.CLOSED: frozenset(),
    _S.DECLINED: frozenset(),
    _S.DUPLICATE: frozenset(),
}

_VERBS = {
    ReportStatus.TRIAGED: "triaged",
    ReportStatus.ROUTED: "routed",
    ReportStatus.IN_PROGRESS: "started",
    ReportStatus.ACTED_ON: "acted on",
    ReportStatus.CLOSED: "confirmed as fixed",
    ReportStatus.DECLINED: "declined",
    ReportStatus.DUPLICATE: "marked as a duplicate",
    ReportStatus.REOPENED: "reopened",
}


def can_move(report: Report, to: ReportStatus) -> bool:
    return to in TRANSITIONS[report.status]


# ---------------------------------------------------------------------------------------------
# Small shared pieces


def sla_hours(severity: Severity) -> float:
    """Hours to act for a severity: app.config["SLA_HOURS"] (keys: severity ids) over the defaults."""
    configured = current_app.config.get("SLA_HOURS") or {}
    for key, hours in configured.items():
        if Severity(getattr(key, "value", key)) is severity:
            return float(hours)
    return float(DEFAULT_SLA_HOURS[severity])


def _set_sla(report: Report, started_at: datetime) -> None:
    hours = timedelta(hours=sla_hours(report.severity))
    report.sla_started_at = started_at
    report.sla_due_at = started_at + hours
    report.sla_escalation_due_at = started_at + 2 * hours


def _check_version(report: Report, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != report.version:
        raise ReportError(STALE_MESSAGE, "version", 409)


def report_change(func: Callable[P, T]) -> Callable[P, T]:
    """A change to a report: someone else's change committed since it was read (the version_id_col
    UPDATE matches no row, at whatever flush that happens) becomes a 409, like a stale form."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except StaleDataError:
            raise ReportError(STALE_MESSAGE, "version", 409) from None

    return wrapper


def _require_worker(report: Report, by: User) -> None:
    if not report.visible_to(by):
        raise ReportError("Report not found.", None, 404)
    if not report.can_work(by):
        raise ReportError("Only triage, the assignee or the agent's owners can do that.", None, 403)


def _require_triage(report: Report, by: User) -> None:
    if not report.visible_to(by):
        raise ReportError("Report not found.", None, 404)
    if not by.has_any_role(Role.TRIAGE, Role.ADMIN):
        raise ReportError("Only triage staff can do that.", None, 403)


def _require_move(report: Report, to: ReportStatus) -> None:
    if not can_move(report, to):
        raise ReportError(
            f"This report is {report.status.label.lower()}; it cannot be {_VERBS[to]} now.",
            None,
            409,
        )


def without_nul(value: str | None) -> str:
    """Text as stored: PostgreSQL refuses NUL characters, so they never reach it."""
    return (value or "").replace("\x00", "")


def _text(value: str | None, field_name: str, limit: int, label: str) -> str:
    value = without_nul(value).strip()
    if len(value) > limit:
        raise ReportError(f"{label} can be at most {limit:,} characters.", field_name)
    return value


def _who(report: Report, user: User | None) -> str:
    """How logs name a person: never the reporter, whose identity may be confidential."""
    if user is None:
        return "portal"
    return "reporter" if user.id == report.reporter_id else f"user {user.id}"


def _record(
    report: Report,
    kind: EventKind,
    by: User | None,
    *,
    to: ReportStatus | None = None,
    note: str = "",
    detail: str = "",
    action_kind: ActionKind | None = None,
    is_internal: bool = False,
    at: datetime | None = None,
) -> ReportEvent:
    event = ReportEvent(
        kind=kind,
        actor_id=by.id if by else None,
        from_status=report.status if to else None,
        to_status=to,
        note=note,
        detail=detail[:200],
        action_kind=action_kind,
        is_internal=is_internal,
        created_at=at or utcnow(),
    )
    report.events.append(event)
    if to is not None:
        log.info(
            "report %s: %s -> %s by %s", report.id, report.status.value, to.value, _who(report, by)
        )
        report.status = to
    return event


def _followers(report: Report) -> list[User]:
    """The reporter and everyone following the report, once each."""
    people: dict[int, User] = {}
    if report.reporter is not None:
        people[report.reporter.id] = report.reporter
    for sub in report.subscriptions:
        people.setdefault(sub.user_id, sub.user)
    return list(people.values())


def _people_with_role(role: Role) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.is_active_account.is_(True))
            .order_by(User.id)
        )
    )


def _whose(report: Report, person: User) -> str:
    return "Your report" if person.id == report.reporter_id else "A report you follow"


def _report_heading(report: Report) -> str:
    return f"Report #{report.id} about {report.agent.name}"


# ---------------------------------------------------------------------------------------------
# Who sees what


def _visible_to(stmt: sa.Select, user: User) -> sa.Select:
    """`stmt` (any select from reports) narrowed to the reports `user` may see."""
    if user.has_any_role(Role.TRIAGE, Role.ADMIN):
        return stmt
    followed = sa.select(ReportSubscription.report_id).where(ReportSubscription.user_id == user.id)
    owned_agents = sa.select(Agent.id).where(
        sa.or_(
            Agent.business_owner_id == user.id,
            Agent.technical_owner_id == user.id,
            Agent.governance_owner_id == user.id,
        )
    )
    return stmt.where(
        sa.or_(
            Report.reporter_id == user.id,
            Report.assignee_id == user.id,
            Report.id.in_(followed),
            Report.agent_id.in_(owned_agents),
        )
    )


def reports_visible_to(user: User) -> sa.Select:
    """A select of the reports `user` may see (a list or the API adds filters, order and paging)."""
    return _visible_to(sa.select(Report), user)


def _names_only(loader):
    """People on a report's page show their name only: not their roles or team."""
    return loader.options(lazyload(User.role_rows), lazyload(User.team))


# What a report's page shows, in four queries whatever the number of events and people.
_REPORT_PAGE_LOADS = (
    _names_only(joinedload(Report.reporter)),
    _names_only(joinedload(Report.assignee)),
    _names_only(joinedload(Report.suggested_owner)),
    _names_only(joinedload(Report.acted_on_by)),
    _names_only(selectinload(Report.events).joinedload(ReportEvent.actor)),
    selectinload(Report.subscriptions),
    selectinload(Report.attachments),
)


def get_visible_report(report_id: int, user: User, *, for_page: bool = False) -> Report:
    """The report, if `user` may see it; otherwise ReportError 404 (missing and hidden look alike).
    `for_page`: also load what the report's page shows."""
    report = db.session.get(Report, report_id, options=_REPORT_PAGE_LOADS if for_page else None)
    if report is None or not report.visible_to(user):
        raise ReportError("Report not found.", None, 404)
    return report


def reporter_label(report: Report, viewer: User) -> str:
    if report.reporter_id == viewer.id:
        return "You"
    if not report.shows_reporter_to(viewer):
        return "Confidential reporter" if report.is_confidential else "The reporter"
    return report.reporter.name if report.reporter else "A former user"


def _actor_label(event: ReportEvent, report: Report, viewer: User) -> str:
    actor = event.actor
    if actor is None:
        return "The portal" if event.actor_id is None else "A former user"
    if actor.id == viewer.id:
        return "You"
    if actor.id == report.reporter_id:
        return reporter_label(report, viewer)
    if event.kind is EventKind.SUBSCRIBED and not report.can_work(viewer):
        return "Someone else"
    return actor.name


_EVENT_TEXT = {
    EventKind.FILED: "filed this report",
    EventKind.TRIAGED: "reviewed it and set the severity to {detail}",
    EventKind.SEVERITY_CHANGED: "changed the severity to {detail}",
    EventKind.ROUTED: "routed it to {detail}, who will act on it",
    EventKind.STARTED: "started working on it",
    EventKind.ACTED_ON: "acted on it: {action}",
    EventKind.DECLINED: "declined it, giving this reason",
    EventKind.MARKED_DUPLICATE: "marked it as a duplicate of report #{detail}",
    EventKind.DUPLICATE_ADDED: "marked report #{detail} as a duplicate of this one",
    EventKind.CONFIRMED_FIXED: "confirmed that it is fixed",
    EventKind.NOT_FIXED: "said it is not fixed, so it was reopened",
    EventKind.INTERNAL_NOTE: "added an internal note",
    EventKind.SUBSCRIBED: "had the same problem (me too)",
    EventKind.ESCALATED: "escalated it: {detail}",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: EventKind
    actor: str
    text: str
    note: str
    is_internal: bool
    to_status: ReportStatus | None


def timeline(report: Report, viewer: User) -> list[TimelineEntry]:
    """What happened to a report, in plain words, as `viewer` may read it."""
    internal_ok = report.shows_internal_notes_to(viewer)
    entries = []
    for event in report.events:
        if event.is_internal and not internal_ok:
            continue
        text = _EVENT_TEXT[event.kind].format(
            detail=event.detail,
            action=event.action_kind.label if event.action_kind else "",
        )
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind=event.kind,
                actor=_actor_label(event, report, viewer),
                text=text,
                note=event.note,
                is_internal=event.is_internal,
                to_status=event.to_status,
            )
        )
    return entries


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None


def _labelled(member) -> dict | None:
    return {"id": member.value, "label": member.label} if member is not None else None


def report_to_dict(report: Report, viewer: User, *, with_timeline: bool = False) -> dict:
    """The one serialisation of a report (pages' JSON, API, exports), cut to what `viewer` may see.

    A confidential reporter appears only to admins and to the reporter. Followers ("me too") get the
    summary, status and outcome but not the details, run reference or attachments. Pass
    with_timeline=True for a single report (it loads the events).
    """
    details_ok = report.shows_details_to(viewer)
    now = utcnow()
    data = {
        "id": report.id,
        "url": report.path,
        "agent": {"slug": report.agent.slug, "name": report.agent.name},
        "agent_version": report.agent_version,
        "category": _labelled(report.category),
        "severity": _labelled(report.severity),
        "reported_severity": _labelled(report.reported_severity),
        "status": _labelled(report.status),
        "summary": report.summary,
        "confidential": report.is_confidential,
        "reporter": None,
        "assignee": None,
        "is_mine": report.reporter_id == viewer.id,
        "sla_due_at": _iso(report.sla_due_at),
        "is_overdue": report.is_overdue(now),
        "duplicate_of": report.duplicate_of_id,
        "action": None,
        "confirmation": None,
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        "version": report.version,
    }
    if report.shows_reporter_to(viewer) and report.reporter is not None:
        data["reporter"] = {"name": report.reporter.name, "email": report.reporter.email}
    if report.assignee is not None:
        data["assignee"] = {"name": report.assignee.name}
        if report.can_work(viewer):
            data["assignee"]["email"] = report.assignee.email
    if report.status in ANSWERED_STATUSES or report.acted_on_at is not None:
        data["action"] = {
            "kind": _labelled(report.action_kind),
            "note": report.action_note,
            "acted_on_at": _iso(report.acted_on_at),
        }
    if report.is_fixed is not None:
        data["confirmation"] = {
            "fixed": report.is_fixed,
            "comment": report.confirmation_comment,
            "confirmed_at": _iso(report.confirmed_at),
        }
    if details_ok:
        data.update(
            details=report.details,
            expected=report.expected,
            run_ref=report.run_ref,
            occurred_at=_iso(report.occurred_at),
            attachments=[
                {
                    "id": a.id,
                    "name": a.original_name,
                    "content_type": a.content_type,
                    "size_bytes": a.size_bytes,
                    "url": f"{report.path}/attachments/{a.id}",
                }
                for a in report.attachments
            ],
        )
    if with_timeline:
        data["timeline"] = [
            {
                "at": _iso(entry.at),
                "actor": entry.actor,
                "text": f"{entry.actor} {entry.text}",
                "note": entry.note,
                "internal": entry.is_internal,
                "status": entry.to_status.value if entry.to_status else None,
            }
            for entry in timeline(report, viewer)
        ]
    return data


# ---------------------------------------------------------------------------------------------
# Filing, "me too" and similar reports


def _key_holder(key: str | None) -> sa.Row | None:
    """Id, reporter, agent and summary of the report holding submission `key`, or None.

    Only these columns, from the reports table alone: the unique index answers it. (Loading a whole
    Report joins its agent, and with most keys NULL SQLite's statistics then favour a table scan.)
    """
    if key is None:
        return None
    return db.session.execute(
        sa.select(Report.id, Report.reporter_id, Report.agent_id, Report.summary).where(
            Report.submission_key == key
        )
    ).first()


def _clean_summary(summary: str | None) -> str:
    return " ".join(without_nul(summary).split())


def _clean_key(key: str | None) -> str | None:
    return without_nul(key).strip()[:80] or None


@dataclass(frozen=True)
class SubmissionCheck:
    """What a submission's key says before filing (one look-up)."""

    earlier: Report | None = None  # this same submission was filed already (a retry)
    key_taken: bool = False  # the key belongs to a different report


def check_submission(reporter: User, data: ReportInput) -> SubmissionCheck:
    """Whether this submission (same key, reporter, agent and summary) was filed already, or its
    key is another report's."""
    holder = _key_holder(_clean_key(data.submission_key))
    if holder is None:
        return SubmissionCheck()
    if (
        holder.reporter_id == reporter.id
        and data.agent is not None
        and holder.agent_id == data.agent.id
        and holder.summary == _clean_summary(data.summary)
    ):
        return SubmissionCheck(earlier=db.session.get(Report, holder.id))
    return SubmissionCheck(key_taken=True)


def twin_among(reports: list[Report], reporter: User, data: ReportInput) -> Report | None:
    """The report among `reports` that this very submission filed meanwhile: a double click's
    other copy that committed after this one checked the key. It is this submission's report."""
    key = _clean_key(data.submission_key)
    if key is None:
        return None
    return next(
        (r for r in reports if r.submission_key == key and r.reporter_id == reporter.id), None
    )


def _same_submission(reporter: User, data: ReportInput) -> Report | None:
    check = check_submission(reporter, data)
    if check.key_taken:
        raise ReportError(
            "That submission key was already used for a different report.", "submission_key", 409
        )
    return check.earlier


def reportable_agents() -> list[Agent]:
    """Agents people can report on: every agent that is not retired."""
    return list(
        db.session.scalars(
            sa.select(Agent).where(Agent.lifecycle != Lifecycle.RETIRED).order_by(Agent.name)
        )
    )


def file_report(
    reporter: User,
    data: ReportInput,
    attachments: Sequence[attachment_files.UploadedFile] = (),
) -> Report:
    """File a report. The same submission_key (double click, browser or API retry) returns the
    report already filed instead of a second one. Nothing is stored unless everything is valid."""
    return file_or_find_report(reporter, data, attachments)[0]


def file_or_find_report(
    reporter: User,
    data: ReportInput,
    attachments: Sequence[attachment_files.UploadedFile] = (),
) -> tuple[Report, bool]:
    """`file_report`, also saying whether the report was filed now (False: this submission was
    filed before and that report is returned).

    Its reads come before its first write, and the report with its "filed" event is one flush:
    SQLite's single write lock is held from that flush (then only the `report_filed` receivers
    run) to the caller's commit.
    """
    key = _clean_key(data.submission_key)
    existing = _same_submission(reporter, data)
    if existing is not None:
        return existing, False
    if data.agent is None:
        raise ReportError("Choose the agent.", "agent")
    if data.agent.lifecycle is Lifecycle.RETIRED:
        raise ReportError("This agent is retired; it no longer takes reports.", "agent")
    if not isinstance(data.category, ReportCategory):
        raise ReportError("Choose what kind of problem it is.", "category")
    summary = _clean_summary(data.summary)
    if not summary:
        raise ReportError("Say in one line what went wrong.", "summary")
    if len(summary) > SUMMARY_MAX:
        raise ReportError(f"Keep the summary to {SUMMARY_MAX} characters.", "summary")
    details = _text(data.details, "details", TEXT_MAX, "What happened")
    expected = _text(data.expected, "expected", TEXT_MAX, "What you expected")
    run_ref = _text(data.run_ref, "run_ref", RUN_REF_MAX, "The run reference")
    now = utcnow()
    occurred_at = as_utc(data.occurred_at) if data.occurred_at else None
    if occurred_at and occurred_at > now + timedelta(minutes=5):
        raise ReportError("That time is in the future.", "occurred_at")
    if len(attachments) > attachment_files.MAX_ATTACHMENTS:
        raise ReportError(
            f"Attach at most {attachment_files.MAX_ATTACHMENTS} files.", "attachments"
        )
    checked = []
    for upload in attachments:
        try:
            checked.append(attachment_files.check_upload(upload))
        except attachment_files.AttachmentRefused as exc:
            raise ReportError(str(exc), "attachments") from None
    suggested = suggest_owner(data.agent, data.category)

    report = Report(
        agent=data.agent,
        agent_version=data.agent.version,
        reporter_id=reporter.id,
        is_confidential=bool(data.confidential),
        category=data.category,
        reported_severity=data.severity,
        severity=data.severity or Severity.MEDIUM,
        summary=summary,
        details=details,
        expected=expected,
        run_ref=run_ref,
        occurred_at=occurred_at,
        status=ReportStatus.NEW,
        submission_key=key,
        suggested_owner_id=suggested.id if suggested else None,
        created_at=now,
        updated_at=now,
        # A new report's collections start empty: filling them loads nothing.
        attachments=[],
        subscriptions=[],
    )
    _set_sla(report, now)
    _record(report, EventKind.FILED, reporter, at=now)
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:
        # Two copies of the same submission raced and the other committed first (the unique key
        # said no). Filing is its transaction's first write, so rolling back loses nothing else.
        db.session.rollback()
        existing = _same_submission(reporter, data)
        if existing is None:
            raise
        return existing, False
    for item in checked:
        report.attachments.append(
            ReportAttachment(
                original_name=item.original_name,
                stored_name=attachment_files.store(item),
                content_type=item.kind.content_type,
                size_bytes=len(item.content),
            )
        )
    if checked:
        db.session.flush()
    log.info(
        "report %s filed: agent=%s category=%s confidential=%s",
        report.id,
        data.agent.slug,
        data.category.value,
        report.is_confidential,
    )
    report_filed.send(report)
    return report, True


# Words too common to say two summaries are about the same problem.
_STOPWORDS = frozenset(
    """
    the and for with was were not but are this that from when what which have has had its into
    than then them they there their our out you your all any can could would should did does
    doing done just also very too agent again
    """.split()  # noqa: SIM905 - a readable word list
)


def _significant_words(text: str) -> list[str]:
    words = []
    for word in re.split(r"[^0-9a-z]+", (text or "").lower()):
        if len(word) >= 3 and word not in _STOPWORDS and word not in words:
            words.append(word)
    return words[:8]


def similar_open_reports(agent: Agent, text: str, limit: int = 5) -> list[Report]:
    """Open reports about the same agent whose summaries share words with `text`, best first."""
    words = _significant_words(text)
    if not words:
        return []
    summary = sa.func.lower(Report.summary)
    score = functools.reduce(
        operator.add,
        [sa.case((summary.like(f"%{word}%"), 1), else_=0) for word in words],
    ).label("score")
    rows = db.session.execute(
        sa.select(Report, score)
        .where(Report.agent_id == agent.id, Report.status.in_(OPEN_STATUSES))
        .where(score >= min(2, len(words)))
        .order_by(score.desc(), Report.created_at.desc())
        .limit(limit)
    )
    return [row[0] for row in rows]


@report_change
def subscribe(report: Report, user: User) -> bool:
    """ "Me too": follow an open report instead of filing the same problem again.

    Followers are told when it is acted on. Returns False when there was nothing to do.
    """
    if report.status is ReportStatus.DUPLICATE and report.duplicate_of is not None:
        report = report.duplicate_of
    if report.reporter_id == user.id or report.is_follower(user):
        return False
    if report.status not in (*OPEN_STATUSES, ReportStatus.ACTED_ON):
        raise ReportError("This report is finished; file a new report instead.", None, 409)
    report.subscriptions.append(ReportSubscription(user_id=user.id, user=user))
    _record(report, EventKind.SUBSCRIBED, user)
    db.session.flush()
    return True


def unsubscribe(report: Report, user: User) -> bool:
    for sub in report.subscriptions:
        if sub.user_id == user.id:
            report.subscriptions.remove(sub)
            db.session.flush()
            return True
    return False


# ---------------------------------------------------------------------------------------------
# The loop: triage, route, work, act, decline, duplicate, confirm


@report_change
def triage_report(
    report: Report,
    by: User,
    severity: Severity | None = None,
    *,
    expected_version: int | None = None,
) -> Report:
    """Triage a new report (optionally setting its severity), or change an open report's severity.
    A new severity moves the SLA due time from the same start."""
    _require_triage(report, by)
    _check_version(report, expected_version)
    severity = severity or report.severity
    if report.status is ReportStatus.NEW:
        _require_move(report, ReportStatus.TRIAGED)
        report.severity = severity
        _record(report, EventKind.TRIAGED, by, to=ReportStatus.TRIAGED, detail=severity.label)
    elif report.is_open:
        if severity is report.severity:
            return report
        report.severity = severity
        _record(report, EventKind.SEVERITY_CHANGED, by, detail=severity.label)
    else:
        raise ReportError(
            f"This report is {report.status.label.lower()}; its severity can no longer change.",
            "severity",
            409,
        )
    _set_sla(report, report.sla_started_at)
    if report.escalation_level and report.sla_due_at > utcnow():
        report.escalation_level = 0
    db.session.flush()
    return report


def _assignable(stmt: sa.Select) -> sa.Select:
    return stmt.where(
        User.is_active_account.is_(True),
        User.id.in_(
            sa.select(UserRole.user_id).where(
                UserRole.role.in_((Role.OWNER, Role.TRIAGE, Role.ADMIN))
            )
        ),
    ).order_by(User.name)


def assignable_people() -> list[User]:
    """People a report can be routed to: active owners, triage staff and admins."""
    return list(db.session.scalars(_assignable(sa.select(User))))


def assignable_choices() -> list[tuple[int, str]]:
    """(id, name) of the same people, for choice lists: one query, no User objects to build."""
    return [tuple(row) for row in db.session.execute(_assignable(sa.select(User.id, User.name)))]


@report_change
def route_report(
    report: Report,
    assignee: User,
    by: User,
    expected_version: int | None = None,
    *,
    note: str = "",
) -> Report:
    """Give a report to the person who will act on it (triage confirms the suggestion or picks
    someone else). The assignee is notified; the reporter hears that it is with its owner."""
    _require_triage(report, by)
    _check_version(report, expected_version)
    if assignee is None or not assignee.is_active_account:
        raise ReportError("Choose an active person to route it to.", "assignee")
    if not assignee.has_any_role(Role.OWNER, Role.TRIAGE, Role.ADMIN):
        raise ReportError("Reports go to agent owners or triage staff.", "assignee")
    if report.status is ReportStatus.ROUTED and report.assignee_id == assignee.id:
        raise ReportError(f"It is already with {assignee.name}.", "assignee", 409)
    _require_move(report, ReportStatus.ROUTED)
    note = _text(note, "note", NOTE_MAX, "The note")
    first_routing = report.assignee_id is None
    report.assignee = assignee
    report.assignee_id = assignee.id
    _record(report, EventKind.ROUTED, by, to=ReportStatus.ROUTED, detail=assignee.name, note=note)
    db.session.flush()
    report_routed.send(report)
    if assignee.id != by.id:
        notify(
            assignee,
            "report_routed",
            f"{_report_heading(report)} is yours to act on",
            (
                f"{report.summary}\n\nCategory: {report.category.label}\n"
                f"Severity: {report.severity.label}\n"
                f"Please act by {report.sla_due_at:%Y-%m-%d %H:%M} UTC."
                + (f"\n\nFrom triage: {note}" if note else "")
            ),
            report.path,
        )
    if first_routing:
        for person in _followers(report):
            notify(
                person,
                "report_status",
                f"{_whose(report, person)} about {report.agent.name} is with its owner",
                f"{report.summary}\n\n{assignee.name} will act on it.",
                report.path,
                email=False,
            )
    return report


@report_change
def start_work(report: Report, by: User, expected_version: int | None = None) -> Report:
    """The owner says they are working on it. An unassigned report becomes theirs."""
    _require_worker(report, by)
    _check_version(report, expected_version)
    _require_move(report, ReportStatus.IN_PROGRESS)
    if report.assignee_id is None:
        report.assignee = by
        report.assignee_id = by.id
    _record(report, EventKind.STARTED, by, to=ReportStatus.IN_PROGRESS)
    db.session.flush()
    return report


def _tell_followers_of_outcome(report: Report, now: datetime) -> None:
    """Tell the reporter and followers what was done (and the followers of its duplicates)."""
    declined = report.status is ReportStatus.DECLINED
    if declined:
        body = f"Why it was declined: {report.action_note}"
    else:
        body = (
            f"What was done: {report.action_kind.label if report.action_kind else ''}\n"
            f"{report.action_note}"
        )
    for person in _followers(report):
        mine = person.id == report.reporter_id
        notify(
            person,
            "report_outcome",
            f"{_whose(report, person)} about {report.agent.name} was "
            + ("declined" if declined else "acted on"),
            f"{'You reported' if mine else 'The report'}: {report.summary}\n\n{body}"
            + (
                "\n\nDid this fix the problem for you? Answer on the report's page."
                if mine and not declined
                else ""
            ),
            report.path,
        )
    report.reporter_notified_at = now
    for duplicate in report.duplicates:
        duplicate.reporter_notified_at = now


@report_change
def mark_acted_on(
    report: Report,
    action_kind: ActionKind,
    note: str,
    by: User,
    expected_version: int | None = None,
) -> Report:
    """Record what was done, in a note written for the reporter, and tell them (and followers)."""
    _require_worker(report, by)
    _check_version(report, expected_version)
    _require_move(report, ReportStatus.ACTED_ON)
    if not isinstance(action_kind, ActionKind):
        raise ReportError("Choose what kind of action was taken.", "action_kind")
    note = _text(note, "note", NOTE_MAX, "The note")
    if not note:
        raise ReportError("Tell the reporter what was done, in words they will follow.", "note")
    now = utcnow()
    report.action_kind = action_kind
    report.action_note = note
    report.acted_on_at = now
    report.acted_on_by_id = by.id
    report.is_fixed = None
    _record(
        report,
        EventKind.ACTED_ON,
        by,
        to=ReportStatus.ACTED_ON,
        note=note,
        action_kind=action_kind,
        at=now,
    )
    db.session.flush()
    _tell_followers_of_outcome(report, now)
    db.session.flush()
    report_acted_on.send(report)
    return report


@report_change
def decline_report(
    report: Report, reason: str, by: User, expected_version: int | None = None
) -> Report:
    """Decline with a reason the reporter will read. This counts as acted on."""
    _require_worker(report, by)
    _check_version(report, expected_version)
    _require_move(report, ReportStatus.DECLINED)
    reason = _text(reason, "reason", NOTE_MAX, "The reason")
    if not reason:
        raise ReportError("Tell the reporter why it is declined.", "reason")
    now = utcnow()
    report.action_kind = None
    report.action_note = reason
    report.acted_on_at = now
    report.acted_on_by_id = by.id
    report.closed_at = now
    _record(report, EventKind.DECLINED, by, to=ReportStatus.DECLINED, note=reason, at=now)
    db.session.flush()
    _tell_followers_of_outcome(report, now)
    db.session.flush()
    report_acted_on.send(report)
    return report


@report_change
def mark_duplicate(
    report: Report, primary: Report, by: User, expected_version: int | None = None
) -> Report:
    """Close `report` as a duplicate of `primary`: its reporter and followers follow the primary
    and hear when it is acted on (at once, if it already was)."""
    _require_worker(report, by)
    _check_version(report, expected_version)
    _require_move(report, ReportStatus.DUPLICATE)
    if primary is None or not primary.visible_to(by):
        raise ReportError("There is no report with that number.", "primary")
    if primary.id == report.id:
        raise ReportError("A report cannot duplicate itself.", "primary")
    if primary.status is ReportStatus.DUPLICATE:
        raise ReportError(
            f"Report #{primary.id} is itself a duplicate of #{primary.duplicate_of_id}; "
            "use that one.",
            "primary",
        )
    if primary.agent_id != report.agent_id:
        raise ReportError("The primary report must be about the same agent.", "primary")
    now = utcnow()
    followers = _followers(report)
    report.duplicate_of = primary
    report.closed_at = now
    _record(
        report,
        EventKind.MARKED_DUPLICATE,
        by,
        to=ReportStatus.DUPLICATE,
        detail=str(primary.id),
        at=now,
    )
    _record(primary, EventKind.DUPLICATE_ADDED, by, detail=str(report.id), at=now)
    for earlier in list(report.duplicates):
        earlier.duplicate_of = primary
    new_followers = [
        person
        for person in followers
        if person.id != primary.reporter_id and not primary.is_follower(person)
    ]
    for person in new_followers:
        primary.subscriptions.append(ReportSubscription(user_id=person.id, user=person))
    db.session.flush()
    for person in followers:
        notify(
            person,
            "report_status",
            f"Your report about {report.agent.name} joins report #{primary.id}",
            (
                f"You reported: {report.summary}\n\nThe same problem is already reported as "
                f"#{primary.id}: {primary.summary}\nYou will hear when it is acted on."
            ),
            primary.path,
            email=False,
        )
    if primary.status in ANSWERED_STATUSES:
        report.reporter_notified_at = now
        for person in new_followers:
            notify(
                person,
                "report_outcome",
                f"Report #{primary.id} about {report.agent.name} was already answered",
                f"{primary.summary}\n\nWhat was done: {primary.action_note}",
                primary.path,
            )
    db.session.flush()
    return report


@report_change
def confirm_fix(
    report: Report,
    fixed: bool,
    comment: str,
    by: User,
    expected_version: int | None = None,
) -> Report:
    """The reporter's answer to an action: fixed closes the report; not fixed reopens it for the
    owner, and it counts towards the closed loop again only when it is acted on again."""
    if not report.visible_to(by):
        raise ReportError("Report not found.", None, 404)
    if report.reporter_id != by.id:
        raise ReportError("Only the person who filed the report can answer.", None, 403)
    _check_version(report, expected_version)
    if report.status is not ReportStatus.ACTED_ON:
        raise ReportError(
            f"This report is {report.status.label.lower()}; there is no action to answer yet."
            if report.is_open
            else f"This report is {report.status.label.lower()}; it was already answered.",
            None,
            409,
        )
    comment = _text(comment, "comment", NOTE_MAX, "The comment")
    now = utcnow()
    report.is_fixed = bool(fixed)
    report.confirmation_comment = comment
    report.confirmed_at = now
    if fixed:
        report.closed_at = now
        _record(report, EventKind.CONFIRMED_FIXED, by, to=ReportStatus.CLOSED, note=comment, at=now)
        db.session.flush()
        return report
    # Reopened: the action no longer counts, and the SLA clock starts again.
    report.acted_on_at = None
    report.acted_on_by_id = None
    report.reporter_notified_at = None
    report.action_kind = None
    report.action_note = ""
    report.escalation_level = 0
    _set_sla(report, now)
    _record(report, EventKind.NOT_FIXED, by, to=ReportStatus.REOPENED, note=comment, at=now)
    db.session.flush()
    report_reopened.send(report)
    recipients = [report.assignee] if report.assignee else _people_with_role(Role.TRIAGE)
    for person in recipients:
        if person is not None and person.is_active_account:
            notify(
                person,
                "report_reopened",
                f"{_report_heading(report)} was reopened: not fixed",
                f"{report.summary}\n\nThe reporter says: {comment or '(no comment)'}",
                report.path,
            )
    for person in _followers(report):
        if person.id != by.id:
            notify(
                person,
                "report_status",
                f"A report you follow about {report.agent.name} was reopened",
                f"{report.summary}\n\nIt is not fixed yet; its owner is working on it again.",
                report.path,
                email=False,
            )
    return report


@report_change
def add_internal_note(report: Report, note: str, by: User) -> ReportEvent:
    """A note for the people working the report; never shown to the reporter or followers."""
    _require_worker(report, by)
    note = _text(note, "note", NOTE_MAX, "The note")
    if not note:
        raise ReportError("Write the note.", "note")
    event = _record(report, EventKind.INTERNAL_NOTE, by, note=note, is_internal=True)
    db.session.flush()
    return event


# ---------------------------------------------------------------------------------------------
# Bulk triage


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _bulk(report_ids: Iterable[int], by: User, change) -> BulkResult:
    result = BulkResult()
    for report_id in dict.fromkeys(report_ids):
        try:
            with db.session.begin_nested():
                change(get_visible_report(report_id, by))
        except ReportError as exc:
            result.skipped.append((report_id, exc.message))
        else:
            result.done.append(report_id)
    return result


def bulk_route(report_ids: Iterable[int], assignee: User, by: User) -> BulkResult:
    """Route several reports at once; each one that cannot be routed is skipped with the reason."""
    if not by.has_any_role(Role.TRIAGE, Role.ADMIN):
        raise ReportError("Only triage staff can do that.", None, 403)
    return _bulk(report_ids, by, lambda report: route_report(report, assignee, by))


def bulk_set_severity(report_ids: Iterable[int], severity: Severity, by: User) -> BulkResult:
    if not by.has_any_role(Role.TRIAGE, Role.ADMIN):
        raise ReportError("Only triage staff can do that.", None, 403)
    return _bulk(report_ids, by, lambda report: triage_report(report, by, severity))


# ---------------------------------------------------------------------------------------------
# Lists: the triage queue, my reports, assigned to me, "you said, we did"


@dataclass
class ReportFilters:
    agent_id: int | None = None
    status: ReportStatus | None = None
    open_only: bool = False  # the statuses waiting for someone (the queue's default)
    category: ReportCategory | None = None
    severity: Severity | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    overdue: bool = False
    text: str = ""
    sort: str = "due"


# What the triage queue shows: reports, their agents, and who they can go to. Any change to these
# renews the area's token, so the cached queue (portal.feedback.views) is rendered again.
QUEUE_AREA = "reports"
generations.watch(QUEUE_AREA, Report)
generations.watch(QUEUE_AREA, Agent)
generations.watch(QUEUE_AREA, UserRole)
generations.watch(QUEUE_AREA, User, columns=("name", "is_active_account"))


def reports_written_in_bulk(connection: sa.Connection) -> int:
    """After reports were written around the ORM session (a bulk import, a repair by hand, the
    benchmark's seeding), in `connection`'s transaction: rewrite the report tallies from them and
    renew the queue's token, so no process serves a queue cached before. Returns tally rows."""
    rows = tallies.rebuild_report_tallies(connection)
    generations.renew(connection, [QUEUE_AREA])
    return rows


_SEVERITY_RANK = sa.case(*[(Report.severity == severity, severity.rank) for severity in Severity])
SORTS = {
    "due": ("Due soonest", (Report.sla_due_at.asc(), Report.id.asc())),
    "newest": ("Newest first", (Report.created_at.desc(), Report.id.desc())),
    "oldest": ("Oldest first", (Report.created_at.asc(), Report.id.asc())),
    "severity": ("Most severe first", (_SEVERITY_RANK.desc(), Report.sla_due_at.asc())),
    "updated": ("Recently changed", (Report.updated_at.desc(), Report.id.desc())),
}


def _like_term(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_reports(
    stmt: sa.Select, filters: ReportFilters, now: datetime, *, with_status: bool = True
) -> sa.Select:
    """Apply the queue's filters and search (every word must appear in summary, details or run ref)."""
    if filters.agent_id:
        stmt = stmt.where(Report.agent_id == filters.agent_id)
    if with_status and filters.status:
        stmt = stmt.where(Report.status == filters.status)
    elif with_status and filters.open_only:
        stmt = stmt.where(Report.status.in_(OPEN_STATUSES))
    if filters.category:
        stmt = stmt.where(Report.category == filters.category)
    if filters.severity:
        stmt = stmt.where(Report.severity == filters.severity)
    if filters.unassigned:
        stmt = stmt.where(Report.assignee_id.is_(None))
    elif filters.assignee_id:
        stmt = stmt.where(Report.assignee_id == filters.assignee_id)
    if filters.overdue:
        stmt = stmt.where(Report.status.in_(OPEN_STATUSES), Report.sla_due_at < now)
    for term in without_nul(filters.text).split()[:8]:
        pattern = _like_term(term)
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Report.summary).like(pattern, escape="\\"),
                sa.func.lower(Report.details).like(pattern, escape="\\"),
                sa.func.lower(Report.run_ref).like(pattern, escape="\\"),
            )
        )
    return stmt


def triage_queue(viewer: User, filters: ReportFilters, now: datetime) -> sa.Select:
    _, order = SORTS.get(filters.sort, SORTS["due"])
    return filter_reports(reports_visible_to(viewer), filters, now).order_by(*order)


@dataclass(frozen=True)
class QueueRow:
    """One row of the triage queue: only the columns the table shows, read as plain rows (building
    25 Report objects with their agent and people cost more than the rest of the page)."""

    id: int
    summary: str
    category: ReportCategory
    is_confidential: bool
    agent_name: str
    severity: Severity
    status: ReportStatus
    assignee_name: str | None
    suggested_owner_name: str | None
    sla_due_at: datetime | None
    created_at: datetime

    # A report's own rules and path, not copies of them.
    is_open = Report.is_open
    is_overdue = Report.is_overdue
    path = Report.path


# Made once: building an alias's columns anew costs more than the query it is used in.
_ASSIGNEE = aliased(User)
_SUGGESTED_OWNER = aliased(User)


def triage_queue_rows(
    viewer: User, filters: ReportFilters, now: datetime, offset: int, limit: int
) -> list[QueueRow]:
    """One page of the triage queue (same filters and order as `triage_queue`), as QueueRows."""
    assignee, suggested = _ASSIGNEE, _SUGGESTED_OWNER
    _, order = SORTS.get(filters.sort, SORTS["due"])
    # The page's ids first, sorted by the index's narrow rows; then only those rows, joined.
    page_ids = filter_reports(_visible_to(sa.select(Report.id), viewer), filters, now)
    page_ids = page_ids.order_by(*order).offset(offset).limit(limit)
    stmt = (
        sa.select(
            Report.id,
            Report.summary,
            Report.category,
            Report.is_confidential,
            Agent.name,
            Report.severity,
            Report.status,
            assignee.name,
            suggested.name,
            Report.sla_due_at,
            Report.created_at,
        )
        .join_from(Report, Agent, Report.agent_id == Agent.id)
        .outerjoin_from(Report, assignee, Report.assignee_id == assignee.id)
        .outerjoin_from(Report, suggested, Report.suggested_owner_id == suggested.id)
        .where(Report.id.in_(page_ids))
        .order_by(*order)
    )
    return [QueueRow(*row) for row in db.session.execute(stmt)]


def status_counts(viewer: User, filters: ReportFilters, now: datetime) -> dict[ReportStatus, int]:
    """How many reports per status match the other filters (one GROUP BY)."""
    stmt = _visible_to(sa.select(Report.status, sa.func.count()), viewer)
    stmt = filter_reports(stmt, filters, now, with_status=False).group_by(Report.status)
    rows = db.session.execute(stmt).all()
    found = {ReportStatus(status): n for status, n in rows}
    return {status: found.get(status, 0) for status in ReportStatus}


def matching_total(counts: dict[ReportStatus, int], filters: ReportFilters) -> int:
    """How many reports match all of `filters`, from `status_counts` (no COUNT query of its own):
    the status filter only chooses which of the counted statuses belong."""
    if filters.status:
        return counts[filters.status]
    if filters.open_only:
        return sum(counts[status] for status in OPEN_STATUSES)
    return sum(counts.values())


# A reporter's own reports, newest first (ix_reports_reporter_created).
_NEWEST_FIRST = (Report.created_at.desc(), Report.id.desc())


def my_reports(user: User) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report).where(Report.reporter_id == user.id).order_by(*_NEWEST_FIRST)
        )
    )


def filed_count(user: User) -> int:
    """How many reports `user` has filed."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(Report.reporter_id == user.id)
    )


def filed_reports(user: User, offset: int, limit: int) -> list[Report]:
    """A page of the reports `user` filed, newest first, with their events and the events' people
    (for the timelines): one query each, whoever acted on them."""
    # The page's ids first (a narrow sort), then only those reports.
    page_ids = (
        sa.select(Report.id)
        .where(Report.reporter_id == user.id)
        .order_by(*_NEWEST_FIRST)
        .offset(offset)
        .limit(limit)
    )
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.id.in_(page_ids))
            .options(_names_only(selectinload(Report.events).joinedload(ReportEvent.actor)))
            .order_by(*_NEWEST_FIRST)
        )
    )


def followed_reports(user: User) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .join(ReportSubscription, ReportSubscription.report_id == Report.id)
            .where(ReportSubscription.user_id == user.id)
            .order_by(Report.updated_at.desc())
        )
    )


def open_report_count(user: User) -> int:
    """The reports `user` filed that are not finished yet (acted-on ones wait for their answer)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Report)
        .where(
            Report.reporter_id == user.id,
            Report.status.in_((*OPEN_STATUSES, ReportStatus.ACTED_ON)),
        )
    )


def assigned_counts(user: User) -> tuple[int, int]:
    """(open, overdue) reports assigned to `user`, in one aggregate query, for the home page."""
    open_count, overdue = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Report.sla_due_at < utcnow()),
        ).where(Report.assignee_id == user.id, Report.status.in_(OPEN_STATUSES))
    ).one()
    return open_count, overdue


def assigned_reports(user: User) -> list[Report]:
    """Open reports assigned to `user`, the most urgent first."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.assignee_id == user.id, Report.status.in_(OPEN_STATUSES))
            .order_by(Report.sla_due_at.asc())
        )
    )


def unassigned_reports_for_owner(user: User) -> list[Report]:
    """Open, unassigned reports about agents `user` owns (so owners see them before triage routes)."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .join(Agent, Agent.id == Report.agent_id)
            .where(
                Report.assignee_id.is_(None),
                Report.status.in_(OPEN_STATUSES),
                sa.or_(
                    Agent.business_owner_id == user.id,
                    Agent.technical_owner_id == user.id,
                    Agent.governance_owner_id == user.id,
                ),
            )
            .order_by(Report.sla_due_at.asc())
            .limit(50)
        )
    )


def recently_acted_by(user: User, limit: int = 10) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.acted_on_by_id == user.id, Report.acted_on_at.is_not(None))
            .order_by(Report.acted_on_at.desc())
            .limit(limit)
        )
    )


def you_said_we_did(agent: Agent | None = None, limit: int = 20) -> list[Report]:
    """Recent reports acted on (and not declined): what people said and what was done."""
    stmt = sa.select(Report).where(
        Report.status.in_((ReportStatus.ACTED_ON, ReportStatus.CLOSED)),
        Report.action_kind.is_not(None),
    )
    if agent is not None:
        stmt = stmt.where(Report.agent_id == agent.id)
    return list(db.session.scalars(stmt.order_by(Report.acted_on_at.desc()).limit(limit)))


def acted_on_reports_for_agent(agent: Agent, action_kinds: Iterable[ActionKind]) -> list[Report]:
    """Reports about `agent` acted on with one of `action_kinds` (training's known limitations)."""
    kinds = list(action_kinds)
    if not kinds:
        return []
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(
                Report.agent_id == agent.id,
                Report.status.in_((ReportStatus.ACTED_ON, ReportStatus.CLOSED)),
                Report.action_kind.in_(kinds),
            )
            .order_by(Report.acted_on_at.desc())
        )
    )


# ---------------------------------------------------------------------------------------------
# SLA escalation (portal sweep)


def _claim_escalation(report_id: int, level: int) -> bool:
    """Raise the report's escalation level once; False if another run already did."""
    result = db.session.execute(
        sa.update(Report)
        .where(Report.id == report_id, Report.escalation_level < level)
        .values(escalation_level=level)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@sweep_task("feedback-sla-escalation")
def escalate_overdue_reports(now: datetime) -> int:
    """Past its SLA, a report is escalated to its assignee and triage; past twice the SLA, to the
    agent's business owner and the managers. Each level happens once per SLA clock."""
    done = 0
    levels = (
        (1, Report.sla_due_at, "past its SLA"),
        (2, Report.sla_escalation_due_at, "past twice its SLA"),
    )
    for level, due_column, wording in levels:
        due_ids = db.session.scalars(
            sa.select(Report.id).where(
                Report.status.in_(OPEN_STATUSES),
                due_column < now,
                Report.escalation_level < level,
            )
        ).all()
        for report_id in due_ids:
            if not _claim_escalation(report_id, level):
                continue
            report = db.session.scalars(
                sa.select(Report)
                .where(Report.id == report_id)
                .execution_options(populate_existing=True)
            ).one()
            _record(report, EventKind.ESCALATED, None, detail=wording, at=now)
            if level == 1:
                people = _people_with_role(Role.TRIAGE)
                if report.assignee is not None:
                    people.insert(0, report.assignee)
            else:
                people = _people_with_role(Role.MANAGER)
                if report.agent.business_owner is not None:
                    people.insert(0, report.agent.business_owner)
            seen = set()
            for person in people:
                if person.id in seen or not person.is_active_account:
                    continue
                seen.add(person.id)
                notify(
                    person,
                    "report_escalated",
                    f"{_report_heading(report)} is {wording}",
                    (
                        f"{report.summary}\n\nSeverity: {report.severity.label}. "
                        f"It was due by {report.sla_due_at:%Y-%m-%d %H:%M} UTC. "
                        f"Status: {report.status.label}."
                    ),
                    report.path,
                )
            log.info("report %s escalated: %s", report.id, wording)
            done += 1
        db.session.flush()
    return done
