"""Webhook endpoints, the outbox of events, one delivery per endpoint and event, and the attempt log."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import LabelledEnum, UTCDateTime, db, enum_type
from portal.core.timeutil import utcnow


class EventKind(LabelledEnum):
    REPORT_CREATED = ("report.created", "A report is filed")
    REPORT_ROUTED = ("report.routed", "A report is routed to an owner")
    REPORT_ACTED_ON = ("report.acted_on", "A report is acted on or declined")
    REPORT_REOPENED = ("report.reopened", "A reporter says 'not fixed'")
    SURVEY_CLOSED = ("survey.closed", "A survey round closes")
    THRESHOLD_BREACHED = ("threshold.breached", "Recorded figures miss a success threshold")


class DeliveryStatus(LabelledEnum):
    PENDING = ("pending", "Waiting")
    DELIVERED = ("delivered", "Delivered")
    GAVE_UP = ("gave_up", "Given up")


class WebhookEndpoint(db.Model):
    """A URL an admin registered for some events. The secret signs every delivery, so it is kept
    as is (it cannot be a digest); it is shown once, when it is made."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(200))
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def event_kinds(self) -> list[EventKind]:
        known = {kind.value: kind for kind in EventKind}
        return [known[name] for name in self.events if name in known]

    def wants(self, kind: EventKind) -> bool:
        return self.listens_for(self.events, kind)

    @staticmethod
    def listens_for(events: list[str], kind: EventKind) -> bool:
        """Whether an endpoint subscribed to `events` wants events of `kind`."""
        return kind.value in events


class WebhookEvent(db.Model):
    """The outbox: one row per event, written in the same transaction as the change it reports."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True)  # a UUID receivers dedupe on
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one endpoint: pending until a 2xx answer, retried with backoff."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_events.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sweep that takes the delivery holds it until then, so a second sweep does not send it too.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship(lazy="joined")


class WebhookAttempt(db.Model):
    """The delivery log: each try, with what the receiver answered (or why it could not)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_endpoint_at", "endpoint_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt_number: Mapped[int] = mapped_column(sa.Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    duration_ms: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    is_success: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    delivery: Mapped[WebhookDelivery] = relationship(lazy="joined")
