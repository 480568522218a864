"""A person's own data, for them to download, and anonymising a person who has left.

Anonymising removes who someone was and keeps what they did: their reports, the reports' history,
training attempts and survey participation stay (the measures need them), shown as "Former user #id".
"""

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import ApiToken, SetPasswordLink, User, UserSession
from portal.core.db import db
from portal.core.timeutil import as_utc, utcnow
from portal.feedback import services as feedback
from portal.maintenance.models import Anonymisation
from portal.notifications.models import Notification
from portal.surveys.models import SurveyParticipation, SurveyRound
from portal.training.models import Assignment, Attempt, ModuleVersion

log = logging.getLogger(__name__)

ANONYMISED_DOMAIN = "anonymised.invalid"  # .invalid is reserved: mail there can never be delivered
SURVEY_NOTE = (
    "Survey answers are stored without any identity and cannot be linked to you, by you or by "
    "anyone else, so they are not in this file. What is listed is only that you answered a round: "
    "that record is what makes sure each person answers once."
)


class AnonymiseError(ValueError):
    """The person cannot be anonymised (yourself, the last admin, already done)."""


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None


def personal_data(user: User) -> dict[str, Any]:
    """Everything the portal holds about `user`, as they may read it, for /account/my-data.json.

    Their own reports are complete (confidential ones too: they are theirs). Secrets are left out:
    no password hash, no session or token digests.
    """
    return {
        "about": (
            "Your data on the Agent Adoption Portal, as of generated_at. Reports you filed are "
            "complete, with their history as you see it on their pages. " + SURVEY_NOTE
        ),
        "generated_at": utcnow().isoformat(),
        "profile": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "team": user.team.name if user.team else None,
            "roles": sorted(role.value for role in user.roles),
            "active": user.is_active_account,
            "created_at": _iso(user.created_at),
            "password_changed_at": _iso(user.password_changed_at),
        },
        "sign_in_sessions": [
            {
                "started_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "ended_at": _iso(s.ended_at),
                "browser": s.user_agent,
            }
            for s in db.session.scalars(
                sa.select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.id)
            )
        ],
        "api_tokens": [
            {
                "name": t.name,
                "starts_with": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in db.session.scalars(
                sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
        ],
        "reports_filed": [
            feedback.report_to_dict(report, user, with_timeline=True)
            for report in feedback.my_reports(user)
        ],
        "reports_followed": [
            {"id": report.id, "url": report.path, "summary": report.summary}
            for report in feedback.followed_reports(user)
        ],
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "link": n.link,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n in db.session.scalars(
                sa.select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        ],
        "training": _training(user),
        "survey_participation": {
            "note": SURVEY_NOTE,
            "rounds_answered": _survey_rounds(user),
        },
    }


def _training(user: User) -> dict[str, list[dict[str, Any]]]:
    assignments = db.session.scalars(
        sa.select(Assignment).where(Assignment.user_id == user.id).order_by(Assignment.id)
    ).all()
    attempts = db.session.execute(
        sa.select(Attempt, ModuleVersion.title, ModuleVersion.number)
        .join(ModuleVersion, ModuleVersion.id == Attempt.version_id)
        .where(Attempt.user_id == user.id)
        .order_by(Attempt.id)
    ).all()
    return {
        "assignments": [
            {
                "module_id": a.module_id,
                "agent": a.module.agent.name,
                "required_version": a.required_version_number,
                "due_on": a.due_on.isoformat(),
                "assigned_at": _iso(a.created_at),
                "completed_at": _iso(a.completed_at),
            }
            for a in assignments
        ],
        "attempts": [
            {
                "module_id": attempt.module_id,
                "module": title,
                "version": number,
                "attempt_number": attempt.attempt_number,
                "score_pct": float(attempt.score_pct),
                "passed": attempt.passed,
                "submitted_at": _iso(attempt.submitted_at),
            }
            for attempt, title, number in attempts
        ],
    }


def _survey_rounds(user: User) -> list[dict[str, Any]]:
    rounds = db.session.scalars(
        sa.select(SurveyRound)
        .join(SurveyParticipation, SurveyParticipation.round_id == SurveyRound.id)
        .where(SurveyParticipation.user_id == user.id)
        .order_by(SurveyRound.id)
    )
    return [
        {
            "campaign": r.campaign.name,
            "round": r.number,
            "period_start": r.period_start.isoformat(),
            "period_end": r.period_end.isoformat(),
        }
        for r in rounds
    ]


# --- Anonymising -------------------------------------------------------------------------------


def anonymised_email(user_id: int) -> str:
    return f"former-user-{user_id}@{ANONYMISED_DOMAIN}"


def is_anonymised(user: User) -> bool:
    return (
        db.session.scalar(sa.select(Anonymisation.id).where(Anonymisation.user_id == user.id))
        is not None
    )


def anonymise_person(user: User, by: User) -> None:
    """Remove a departed person's identity for good; keep what they did.

    Name and email are replaced ("Former user #id", an undeliverable unique address), the password,
    every session, API token and set-password link are deleted, roles and team are cleared (a team
    of a few people would point back to them) and the account is deactivated. Their notifications
    (messages addressed to them) go. Their reports, the reports' history, "me too"s, training
    attempts and survey participation stay, so the measures do not change. Cannot be undone.
    """
    if user.id == by.id:
        raise AnonymiseError("You cannot anonymise your own account.")
    if is_anonymised(user):
        raise AnonymiseError(f"{user.name} is already anonymised.")
    if user.is_active_account and user.is_admin and accounts.is_last_active_admin(user):
        raise AnonymiseError(f"{user.name} is the last active administrator.")
    now = utcnow()
    user.name = f"Former user #{user.id}"
    user.email = anonymised_email(user.id)
    user.password_hash = None
    user.password_changed_at = None
    user.team = None
    user.is_active_account = False
    user.deactivated_at = user.deactivated_at or now
    accounts.set_roles(user, set())
    for model in (UserSession, ApiToken, SetPasswordLink, Notification):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    db.session.add(Anonymisation(user_id=user.id, by_id=by.id, created_at=now))
    db.session.flush()
    log.info("user %s anonymised by user=%s", user.id, by.id)
