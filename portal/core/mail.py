"""Outgoing email over SMTP. When no SMTP host is configured, mail is logged as skipped, never lost silently."""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def mail_enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; returns False (and logs) when SMTP is off or the server refuses."""
    cfg = current_app.config
    if not mail_enabled():
        log.info("mail not sent (SMTP not configured): subject=%r", subject)
        return False
    message = EmailMessage()
    message["From"] = cfg["SMTP_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to a recipient failed: subject=%r error=%s", subject, exc)
        return False
    return True
