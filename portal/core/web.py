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


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def wants_json() -> bool:
    return is_api_request() or request.accept_mimetypes.best == "application/json"


def signed_in_user():
    """The signed-in user object itself. Every attribute read through the `current_user` proxy
    looks the user up again, which adds up on pages that ask about the viewer once per row."""
    return current_user._get_current_object()


def role_required(*roles: str):
    """Let through signed-in users holding any of `roles`; others get sign-in (anonymous) or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_any_role(*roles):
                return error_response(403)  # logged by log_refusals
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


# Used when the error page itself cannot be drawn: the layout asks the database who is signed in,
# and the database may be the very thing that failed.
BARE_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Agent Adoption Portal</title>
<link rel="stylesheet" href="{{ url_for('static', filename='vendor/bootstrap/bootstrap.min.css') }}">
</head><body class="bg-body-tertiary"><main class="container text-center py-5">
<h1 class="h3">{{ title }}</h1><p class="lead text-body-secondary">{{ text }}</p>
<p><a class="btn btn-primary" href="/">Go to the home page</a></p>
</main></body></html>"""


def error_response(status: int, message: str | None = None):
    title, text = ERROR_TEXT.get(status, ("Error", "The request could not be completed."))
    if wants_json():
        return jsonify({"error": message or text, "fields": {}}), status
    try:
        page = render_template(
            "errors/error.html", status=status, title=title, text=message or text
        )
    except Exception:
        db.session.rollback()
        log.exception("error page for %s failed; answering with the bare page", status)
        # Straight from the environment: context processors (who is signed in) are skipped.
        template = current_app.jinja_env.from_string(BARE_ERROR_PAGE)
        page = template.render(title=title, text=message or text)
    return page, status


def _handle_http(exc: HTTPException):
    body, status = error_response(exc.code or 500, None)
    # Keep headers the protocol needs (Allow on 405, Retry-After on 429, WWW-Authenticate on 401).
    keep = {"allow", "retry-after", "www-authenticate"}
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() in keep]
    if exc.response is not None:
        headers += [(k, v) for k, v in exc.response.headers.items() if k.lower() in keep]
    return body, status, headers


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


def log_refusals(response):
    """Log every refusal in one place: role checks, per-object checks (403, or 404 for an object the
    person may not see) and API authorisation. The endpoint, not the path, is logged: a path names the
    object, and with the user id it could tie a confidential reporter to their report."""
    status = response.status_code
    hidden_object = status == 404 and request.view_args
    if status in (401, 403) or hidden_object:
        user = current_user.id if current_user and current_user.is_authenticated else None
        log.info(
            "permission refused: status=%s user=%s endpoint=%s method=%s",
            status,
            user,
            request.endpoint,
            request.method,
        )
    return response


def init_app(app: Flask) -> None:
    from portal.core import fragments, headers
    from portal.core.limits import limiter

    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    headers.init_app(app)
    fragments.init_app(app)
    app.after_request(log_refusals)
    app.register_blueprint(health_bp)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
