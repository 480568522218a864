"""Request plumbing shared by every blueprint: sign-in, CSRF, role checks, error pages, health probes."""

import logging
from functools import wraps
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from portal.core.db import db

log = logging.getLogger(__name__)

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
csrf = CSRFProtect()

health_bp = Blueprint("health", __name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def role_required(*roles: str):
    """Let through signed-in users holding any of `roles`; others get sign-in (anonymous) or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_any_role(*roles):
                log.info("permission refused: user=%s path=%s", current_user.id, request.path)
                return error_response(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


ERROR_TEXT = {
    400: (
        "Bad request",
        "The request could not be understood. Please check what you sent and try again.",
    ),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: (
        "Page not found",
        "We could not find that page. It may have moved, or you may not have access.",
    ),
    405: ("Not allowed", "That action is not available here."),
    409: ("Conflict", "Somebody changed this at the same time. Reload and try again."),
    413: ("Too large", "What you sent is larger than the portal accepts."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: (
        "Something went wrong",
        "The portal hit an unexpected error. It has been logged; please try again.",
    ),
}


def error_response(status: int, message: str | None = None):
    title, text = ERROR_TEXT.get(status, ("Error", "The request could not be completed."))
    if wants_json():
        return jsonify({"error": message or text, "fields": {}}), status
    return render_template(
        "errors/error.html", status=status, title=title, text=message or text
    ), status


def _handle_http(exc: HTTPException):
    return error_response(exc.code or 500, None)


def _handle_csrf(exc: CSRFError):
    log.info("csrf refused: path=%s reason=%s", request.path, exc.description)
    return error_response(
        400, "Your form had expired or came from elsewhere. Go back, reload the page and try again."
    )


def _handle_unexpected(exc: Exception):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)


@health_bp.get("/healthz")
def healthz():
    """Liveness for load balancers and the benchmark: touches no database."""
    return {"status": "ok"}


_heads_cache: dict[str, set[str]] = {}


def migration_heads() -> set[str]:
    directory = current_app.extensions["migrate"].directory
    if directory not in _heads_cache:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(directory)))
        _heads_cache[directory] = set(ScriptDirectory.from_config(cfg).get_heads())
    return _heads_cache[directory]


@health_bp.get("/readyz")
def readyz():
    """Ready only when the database answers and its schema is at the newest migration."""
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "reason": "database unreachable or not migrated"}, 503
    if current != migration_heads():
        return {"status": "unavailable", "reason": "database not migrated to head"}, 503
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(health_bp)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
