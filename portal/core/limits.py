"""Rate limits (Flask-Limiter): in memory by default, shared through PORTAL_RATELIMIT_STORAGE_URI
(for example redis://host:6379/0) when several processes serve the portal."""

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from portal.core.security import token_digest

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def submitted_email() -> str:
    """Key for per-account limits: the email being tried, whoever tries it."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def set_password_link_key() -> str:
    """Key for per-link limits on set-password links: the link's digest, never the link itself."""
    return "set-password:" + token_digest((request.view_args or {}).get("token", ""))


def api_token_key() -> str:
    """Key for API limits: the bearer token's digest (per token), else the caller's address."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "api-token:" + token_digest(token.strip())
    return "api-address:" + (get_remote_address() or "")


def api_rate_limit() -> str:
    """Requests per token (PORTAL_API_RATE_LIMIT, in Flask-Limiter's notation)."""
    return current_app.config["API_RATE_LIMIT"]
