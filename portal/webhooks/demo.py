"""Demo webhooks: an endpoint that has been failing (paused, with its delivery log) and a healthy one."""

from datetime import timedelta

from portal.accounts.models import User
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.webhooks import services
from portal.webhooks.models import (
    DeliveryStatus,
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)

# Port 9 (discard) on loopback: nothing answers, so a sweep in the demo fails honestly.
NOWHERE = "http://127.0.0.1:9/portal-hooks"


def load(people: dict[str, User]) -> None:
    admin = people["admin@example.com"]
    services.create_endpoint(
        "Ops chat (demo)",
        "http://127.0.0.1:9/ops-chat",
        [EventKind.THRESHOLD_BREACHED.value, EventKind.SURVEY_CLOSED.value],
        admin,
    )
    failing = services.create_endpoint(
        "Incident tracker (demo)",
        NOWHERE,
        [kind.value for kind in EventKind if kind.value.startswith("report.")],
        admin,
    )
    now = utcnow()
    event = WebhookEvent(
        event_id="00000000-0000-4000-8000-000000000001",
        kind=EventKind.REPORT_CREATED,
        payload={"report": {"id": 1, "url": "/reports/1"}},
        created_at=now - timedelta(hours=2),
    )
    delivery = WebhookDelivery(
        endpoint_id=failing.id,
        event=event,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=event.created_at,
    )
    db.session.add_all([event, delivery])
    db.session.flush()
    limit = services.DEFAULTS["WEBHOOK_PAUSE_AFTER_FAILURES"]
    for number in range(1, limit + 1):
        delivery.attempts = number
        db.session.add(
            WebhookAttempt(
                endpoint_id=failing.id,
                delivery_id=delivery.id,
                attempt_number=number,
                attempted_at=event.created_at + timedelta(minutes=2**number),
                status_code=None,
                duration_ms=3,
                error="Could not deliver: [Errno 111] Connection refused",
                is_success=False,
            )
        )
    failing.consecutive_failures = limit
    failing.last_failure_at = event.created_at + timedelta(minutes=2**limit)
    failing.paused_at = failing.last_failure_at
    failing.pause_reason = (
        f"Paused after {limit} failed deliveries in a row. "
        "Last: Could not deliver: [Errno 111] Connection refused"
    )
    db.session.flush()
