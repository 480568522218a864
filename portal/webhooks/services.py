"""Rules about webhooks: registering endpoints, the outbox, signing, delivery with retries, pausing.

Events reach the outbox through blinker signals sent by the domain services (feedback, surveys,
governance): the receivers below write an event row and one delivery per interested endpoint in the
transaction of the change, so a change and its event commit (or roll back) together. `portal sweep`
delivers after commit. Domain packages never import this module.

Admins are trusted to choose targets: any http(s) URL is accepted, including internal addresses
(that is how an on-premises receiver is reached). Redirects are not followed and every request times
out after a few seconds, so a slow or hostile receiver cannot hold the sweep.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import Role, User, UserRole
from portal.core.db import db
from portal.core.sweep import sweep_task
from portal.core.timeutil import as_utc, utcnow
from portal.feedback import services as feedback
from portal.governance import services as governance
from portal.notifications.services import notify
from portal.surveys import services as surveys
from portal.webhooks.models import (
    DeliveryStatus,
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
EVENT_ID_HEADER = "X-Portal-Event-Id"
EVENT_TYPE_HEADER = "X-Portal-Event"
NAME_MAX = 120
URL_MAX = 2000
SECRET_MIN = 16
SECRET_MAX = 200
ERROR_MAX = 500
DEFAULTS = {
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "WEBHOOK_PAUSE_AFTER_FAILURES": 5,  # consecutive failed attempts before an endpoint pauses
    "WEBHOOK_MAX_ATTEMPTS": 10,  # per delivery, then it is given up
    "WEBHOOK_RETRY_BASE_SECONDS": 60,  # 1, 2, 4, 8 ... minutes
    "WEBHOOK_RETRY_MAX_SECONDS": 6 * 3600,
    "WEBHOOK_BATCH_SIZE": 50,  # deliveries per sweep run
}
CLAIM_SECONDS = 120  # a sweep holds what it took this long; a crashed sweep's claims then expire


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


class WebhookError(ValueError):
    """A rule about webhooks was broken; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Endpoints ---------------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None. Only http(s), with a host, no credentials."""
    url = (url or "").strip()
    if not url:
        return "Give the URL that receives the events."
    if len(url) > URL_MAX:
        return f"A URL has at most {URL_MAX} characters."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "A URL cannot contain spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "That is not a valid URL."
    if parts.scheme not in ("http", "https"):
        return "Only http:// and https:// URLs can receive webhooks."
    if not parts.hostname:
        return "The URL needs a host name, e.g. https://hooks.example.com/portal."
    if parts.username or parts.password:
        return "Put no user name or password in the URL; receivers check the signature instead."
    if port == 0:
        return "That is not a valid port."
    return None


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise WebhookError("Give the endpoint a name people will recognise.", "name")
    if len(name) > NAME_MAX:
        raise WebhookError(f"A name has at most {NAME_MAX} characters.", "name")
    return name


def _clean_events(events: list[str] | tuple[str, ...]) -> list[str]:
    known = {kind.value for kind in EventKind}
    chosen = [kind.value for kind in EventKind if kind.value in set(events or ())]
    if set(events or ()) - known:
        raise WebhookError("Choose events from the list.", "events")
    if not chosen:
        raise WebhookError("Choose at least one event.", "events")
    return chosen


def _clean_secret(secret: str | None) -> str:
    secret = (secret or "").strip()
    if not secret:
        return "whsec_" + secrets.token_urlsafe(32)
    if len(secret) < SECRET_MIN:
        raise WebhookError(f"A secret has at least {SECRET_MIN} characters.", "secret")
    if len(secret) > SECRET_MAX:
        raise WebhookError(f"A secret has at most {SECRET_MAX} characters.", "secret")
    if any(ord(ch) < 33 or ord(ch) > 126 for ch in secret):
        raise WebhookError("Use printable characters without spaces in the secret.", "secret")
    return secret


def _clean_url(url: str) -> str:
    if problem := url_problem(url):
        raise WebhookError(problem, "url")
    return url.strip()


def create_endpoint(
    name: str, url: str, events: list[str], by: User, secret: str | None = None
) -> WebhookEndpoint:
    """Register an endpoint. Without a secret one is generated; the caller shows it once."""
    endpoint = WebhookEndpoint(
        name=_clean_name(name),
        url=_clean_url(url),
        events=_clean_events(events),
        secret=_clean_secret(secret),
        created_by_id=by.id,
        consecutive_failures=0,
        pause_reason="",
    )
    db.session.add(endpoint)
    db.session.flush()
    log.info("webhook endpoint %s registered by user=%s", endpoint.id, by.id)
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, name: str, url: str, events: list[str]) -> None:
    """Change name, URL and events; deliveries already queued still go to the (new) URL."""
    endpoint.name = _clean_name(name)
    endpoint.url = _clean_url(url)
    endpoint.events = _clean_events(events)
    db.session.flush()


def rotate_secret(endpoint: WebhookEndpoint, secret: str | None = None) -> str:
    """A new secret signs every delivery from now on (retries included); returns it to show once."""
    endpoint.secret = _clean_secret(secret)
    db.session.flush()
    return endpoint.secret


def pause_endpoint(endpoint: WebhookEndpoint, reason: str, now: datetime | None = None) -> None:
    if endpoint.is_paused:
        raise WebhookError(f"{endpoint.name} is already paused.")
    endpoint.paused_at = now or utcnow()
    endpoint.pause_reason = reason[:300]
    db.session.flush()


def resume_endpoint(endpoint: WebhookEndpoint, now: datetime | None = None) -> int:
    """Deliver again: the failure count starts over and waiting deliveries are due at once.
    Returns how many deliveries are waiting."""
    if not endpoint.is_paused:
        raise WebhookError(f"{endpoint.name} is not paused.")
    now = now or utcnow()
    endpoint.paused_at = None
    endpoint.pause_reason = ""
    endpoint.consecutive_failures = 0
    waiting = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=now, claimed_until=None)
    ).rowcount
    db.session.flush()
    return waiting


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its queue and log (events other endpoints wait for stay)."""
    db.session.delete(endpoint)
    db.session.flush()


def get_endpoint(endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.get(WebhookEndpoint, endpoint_id)


@dataclass(frozen=True)
class EndpointSummary:
    endpoint: WebhookEndpoint
    waiting: int
    last_attempt: WebhookAttempt | None


def endpoint_overview() -> list[EndpointSummary]:
    """Every endpoint with how many deliveries wait and its latest attempt (three queries)."""
    endpoints = db.session.scalars(
        sa.select(WebhookEndpoint).order_by(sa.func.lower(WebhookEndpoint.name))
    ).all()
    waiting = dict(
        db.session.execute(
            sa.select(WebhookDelivery.endpoint_id, sa.func.count())
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .group_by(WebhookDelivery.endpoint_id)
        ).all()
    )
    latest_ids = sa.select(sa.func.max(WebhookAttempt.id)).group_by(WebhookAttempt.endpoint_id)
    latest = {
        attempt.endpoint_id: attempt
        for attempt in db.session.scalars(
            sa.select(WebhookAttempt).where(WebhookAttempt.id.in_(latest_ids))
        )
    }
    return [EndpointSummary(e, waiting.get(e.id, 0), latest.get(e.id)) for e in endpoints]


def delivery_log(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookAttempt]:
    """The endpoint's latest attempts, newest first, each with its delivery and event."""
    return list(
        db.session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.endpoint_id == endpoint.id)
            .order_by(WebhookAttempt.id.desc())
            .limit(limit)
        )
    )


def waiting_count(endpoint: WebhookEndpoint) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
    )


# --- The outbox --------------------------------------------------------------------------------


def record_event(kind: EventKind, data: dict[str, Any]) -> WebhookEvent | None:
    """Write an event and a delivery for each endpoint that wants it, in the caller's transaction.
    Nothing is stored when no endpoint wants the event. Paused endpoints queue it for later."""
    # Only ids and events: this runs inside the change's write transaction, so it stays light.
    endpoint_ids = [
        endpoint_id
        for endpoint_id, events in db.session.execute(
            sa.select(WebhookEndpoint.id, WebhookEndpoint.events).order_by(WebhookEndpoint.id)
        )
        if WebhookEndpoint.listens_for(events, kind)
    ]
    if not endpoint_ids:
        return None
    now = utcnow()
    event = WebhookEvent(event_id=str(uuid.uuid4()), kind=kind, payload=data, created_at=now)
    db.session.add(event)
    db.session.flush()
    # One INSERT for every endpoint's delivery (as ORM objects SQLite would take one each).
    db.session.execute(
        sa.insert(WebhookDelivery),
        [
            {
                "endpoint_id": endpoint_id,
                "event_id": event.id,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    return event


def _absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _labelled(member) -> dict | None:
    return {"id": member.value, "label": member.label} if member is not None else None


def report_payload(report) -> dict[str, Any]:
    """What a receiver learns about a report: never who filed it (confidential or not) nor anything
    they wrote, which may name them; it follows the link (signed in) for the rest."""
    return {
        "report": {
            "id": report.id,
            "url": _absolute(report.path),
            "agent": {"slug": report.agent.slug, "name": report.agent.name},
            "status": _labelled(report.status),
            "category": _labelled(report.category),
            "severity": _labelled(report.severity),
            "action_kind": _labelled(report.action_kind),
        }
    }


def survey_payload(survey_round) -> dict[str, Any]:
    campaign = survey_round.campaign
    return {
        "survey": {
            "campaign": {"id": campaign.id, "name": campaign.name},
            "round": {
                "id": survey_round.id,
                "number": survey_round.number,
                "period_start": survey_round.period_start.isoformat(),
                "period_end": survey_round.period_end.isoformat(),
                "closed_at": as_utc(survey_round.closed_at).isoformat()
                if survey_round.closed_at
                else None,
            },
            "agents": [{"slug": a.slug, "name": a.name} for a in campaign.agents],
        }
    }


def threshold_payload(agent, figures, line) -> dict[str, Any]:
    return {
        "agent": {
            "slug": agent.slug,
            "name": agent.name,
            "url": _absolute(f"/agents/{agent.slug}"),
        },
        "period": {
            "start": figures.period_start.isoformat(),
            "end": figures.period_end.isoformat(),
        },
        "threshold": {
            "name": line.spec.name,
            "label": line.spec.label,
            "direction": line.spec.direction,
            "value": line.threshold_text,
        },
        "measured": line.measured_text,
        "basis": line.basis,
    }


@feedback.report_filed.connect
def _on_report_filed(report, **_):
    record_event(EventKind.REPORT_CREATED, report_payload(report))


@feedback.report_routed.connect
def _on_report_routed(report, **_):
    record_event(EventKind.REPORT_ROUTED, report_payload(report))


@feedback.report_acted_on.connect
def _on_report_acted_on(report, **_):
    record_event(EventKind.REPORT_ACTED_ON, report_payload(report))


@feedback.report_reopened.connect
def _on_report_reopened(report, **_):
    record_event(EventKind.REPORT_REOPENED, report_payload(report))


@surveys.survey_round_closed.connect
def _on_survey_round_closed(survey_round, **_):
    record_event(EventKind.SURVEY_CLOSED, survey_payload(survey_round))


@governance.threshold_breached.connect
def _on_threshold_breached(agent, *, figures, line, **_):
    record_event(EventKind.THRESHOLD_BREACHED, threshold_payload(agent, figures, line))


# --- Signing and sending -----------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The X-Portal-Signature value: HMAC-SHA256 of the raw body with the endpoint's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_body(event: WebhookEvent, sent_at: int) -> bytes:
    """The JSON sent: the event id and send time are inside the signed body, so a receiver that
    checks the signature can trust them to reject replays (old timestamp, id already seen)."""
    envelope = {
        "id": event.event_id,
        "type": event.kind.value,
        "created_at": as_utc(event.created_at).isoformat(),
        "timestamp": sent_at,
        "data": event.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is an answer, not an instruction: it counts as a failure


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(endpoint: WebhookEndpoint, event: WebhookEvent) -> SendResult:
    """POST one event to the endpoint, signed; never raises for network trouble."""
    if url_problem(endpoint.url):
        return SendResult(None, 0, "The URL is not an http(s) URL.")
    sent_at = int(time.time())
    body = delivery_body(event, sent_at)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "AgentAdoptionPortal-Webhooks/1",
            SIGNATURE_HEADER: sign(endpoint.secret, body),
            TIMESTAMP_HEADER: str(sent_at),
            EVENT_ID_HEADER: event.event_id,
            EVENT_TYPE_HEADER: event.kind.value,
        },
    )
    started = time.monotonic()
    status, error = None, ""
    try:
        with _opener.open(request, timeout=setting("WEBHOOK_TIMEOUT_SECONDS")) as response:
            status = response.status
            response.read(1024)
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = f"HTTP {exc.code} {exc.reason}" if exc.reason else f"HTTP {exc.code}"
        exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"Could not deliver: {reason}"
    duration = int((time.monotonic() - started) * 1000)
    if status is not None and 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed"
    return SendResult(status, duration, error[:ERROR_MAX])


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2 x base, 4 x base ... capped."""
    seconds = setting("WEBHOOK_RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, setting("WEBHOOK_RETRY_MAX_SECONDS")))


def _claim_due(now: datetime) -> list[int]:
    """Take up to a batch of due deliveries of endpoints that are not paused, each with a
    conditional UPDATE, so two sweeps at once never send the same delivery."""
    due = db.session.scalars(
        sa.select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            sa.or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
            WebhookEndpoint.paused_at.is_(None),
        )
        .order_by(WebhookDelivery.id)
        .limit(setting("WEBHOOK_BATCH_SIZE"))
    ).all()
    claimed = []
    for delivery_id in due:
        taken = db.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                sa.or_(
                    WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now
                ),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        ).rowcount
        if taken:
            claimed.append(delivery_id)
    return claimed


def _release(delivery: WebhookDelivery) -> None:
    delivery.claimed_until = None


def _record_attempt(
    delivery: WebhookDelivery, result: SendResult, now: datetime
) -> WebhookEndpoint | None:
    """Log the attempt and move the delivery and endpoint on. Returns the endpoint if it paused."""
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.claimed_until = None
    db.session.add(
        WebhookAttempt(
            endpoint_id=endpoint.id,
            delivery_id=delivery.id,
            attempt_number=delivery.attempts,
            attempted_at=now,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error if not result.ok else "",
            is_success=result.ok,
        )
    )
    if result.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        endpoint.consecutive_failures = 0
        endpoint.last_success_at = now
        return None
    endpoint.consecutive_failures += 1
    endpoint.last_failure_at = now
    if delivery.attempts >= setting("WEBHOOK_MAX_ATTEMPTS"):
        delivery.status = DeliveryStatus.GAVE_UP
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    limit = setting("WEBHOOK_PAUSE_AFTER_FAILURES")
    if endpoint.consecutive_failures >= limit and not endpoint.is_paused:
        endpoint.paused_at = now
        endpoint.pause_reason = (
            f"Paused after {endpoint.consecutive_failures} failed deliveries in a row. "
            f"Last: {result.error or 'no answer'}"
        )[:300]
        return endpoint
    return None


def _tell_admins_of_pause(endpoint: WebhookEndpoint) -> None:
    admins = db.session.scalars(
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.is_active_account.is_(True))
    ).all()
    for admin in admins:
        notify(
            admin,
            "webhook_paused",
            f"Webhook endpoint {endpoint.name} is paused",
            f"{endpoint.pause_reason}\n\nEvents for it are kept. Resume it on its page once the "
            "receiver works again.",
            f"/admin/webhooks/{endpoint.id}",
        )


@sweep_task("webhooks")
def deliver_due_webhooks(now: datetime) -> int:
    """Send every due delivery once; returns how many were delivered.

    Unlike other sweep tasks this one commits as it goes: claims are committed before any request
    leaves, and each attempt after it, so no transaction (and on SQLite no write lock) is held open
    while a receiver takes its time. Safe to run twice at once: a claimed delivery is skipped.
    """
    claimed = _claim_due(now)
    db.session.commit()
    delivered = 0
    failing: set[int] = set()
    for delivery_id in claimed:
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            continue
        endpoint = delivery.endpoint
        if endpoint.is_paused or endpoint.id in failing:
            # Its receiver just failed: try the rest of its queue at the next sweep.
            _release(delivery)
            db.session.commit()
            continue
        result = send(endpoint, delivery.event)
        paused = _record_attempt(delivery, result, now)
        if result.ok:
            delivered += 1
        else:
            failing.add(endpoint.id)
            log.info(
                "webhook delivery %s to endpoint %s failed: %s",
                delivery.id,
                endpoint.id,
                result.error,
            )
        if paused is not None:
            log.warning("webhook endpoint %s paused after repeated failures", endpoint.id)
            _tell_admins_of_pause(paused)
        db.session.commit()
    return delivered
