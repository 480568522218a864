"""Rate limits (Flask-Limiter): in memory by default, shared through PORTAL_RATELIMIT_STORAGE_URI
(for example redis://host:6379/0) when several processes serve the portal."""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def submitted_email() -> str:
    """Key for per-account limits: the email being tried, whoever tries it."""
    return "account:" + (request.form.get("email") or "").strip().lower()
