"""Telling people things: one call records the in-app notification and sends the email."""

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import User
from portal.core.db import db
from portal.core.mail import send_mail
from portal.core.timeutil import utcnow
from portal.notifications.models import Notification


def notify(
    user: User, kind: str, title: str, body: str = "", link: str = "", email: bool = True
) -> Notification:
    """Record a notification for `user` and, when SMTP is configured, email it.

    Callers must not put a confidential reporter's identity in `title` or `body`.
    """
    note = Notification(user_id=user.id, kind=kind, title=title[:200], body=body, link=link)
    db.session.add(note)
    db.session.flush()
    if email and user.is_active_account:
        url = current_app.config["BASE_URL"].rstrip("/") + link if link else ""
        text = body + (f"\n\nOpen it in the portal: {url}" if url else "")
        send_mail(user.email, title, text)
    return note


def unread_count_query(user_id) -> sa.ScalarSelect:
    """`user_id`: a number, or a column of the statement this is selected in."""
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(unread_count_query(user.id)))


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def notifications_for(user: User, unread_only: bool = False) -> sa.Select:
    """The person's notifications, newest first, as a query the page and the API paginate."""
    stmt = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


def mark_all_read(user: User) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
