"""JSON API v1 routes. Each one parses, authorises, calls the domain service the pages call, answers JSON."""

import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, current_app, request, url_for
from pydantic import BaseModel
from sqlalchemy.orm import selectinload

from portal.accounts import services as account_services
from portal.agents import services as agent_services
from portal.agents.models import Agent
from portal.api.auth import (
    api_role_required,
    api_user,
    authenticate_request,
    limit_requests_per_token,
)
from portal.api.errors import ApiError, error_json, register_error_handlers
from portal.api.openapi import build_document, operation
from portal.api.schemas import (
    ActOnReport,
    AgentChanges,
    AgentListQuery,
    ConfirmFix,
    NewAgent,
    NewReport,
    NotificationQuery,
    PageQuery,
    ReportListQuery,
    RouteReport,
)
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.core.web import csrf
from portal.feedback import services as feedback
from portal.feedback.models import Report
from portal.notifications import services as notification_services
from portal.notifications.models import Notification

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Only bearer tokens authenticate here (never the session cookie), so there is no CSRF to defend.
csrf.exempt(bp)
register_error_handlers(bp)
limit_requests_per_token(bp)

DEFAULT_MAX_BODY = 1024 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as in the IETF draft
_MAX_ROW_ID = 2**31 - 1
SchemaT = TypeVar("SchemaT", bound=BaseModel)


@bp.before_request
def _authenticate() -> None:
    # Smaller than the site-wide limit, which is sized for page uploads.
    request.max_content_length = current_app.config.get("API_MAX_BODY_BYTES", DEFAULT_MAX_BODY)
    view = current_app.view_functions.get(request.endpoint)
    described = getattr(view, "api_operation", None)
    if described is None or not described.public:
        authenticate_request()


@bp.errorhandler(agent_services.AgentError)
def _agent_error(exc: agent_services.AgentError):
    db.session.rollback()
    return error_json(422, exc.message, {exc.field: exc.message} if exc.field else {})


@bp.errorhandler(feedback.ReportError)
def _report_error(exc: feedback.ReportError):
    db.session.rollback()
    field = IDEMPOTENCY_HEADER if exc.field == "submission_key" else exc.field
    return error_json(exc.status, exc.message, {field: exc.message} if field else {})


def read_json(schema: type[SchemaT]) -> SchemaT:
    """The request body, validated (pydantic errors become a 400/422 with the fields named)."""
    if not request.is_json:
        raise ApiError(400, "Send a JSON body with 'Content-Type: application/json'.")
    return schema.model_validate_json(request.get_data(cache=False))


def read_query(schema: type[SchemaT]) -> SchemaT:
    return schema.model_validate(request.args.to_dict())


def paginated(stmt: sa.Select, query: PageQuery, to_dict: Callable[[Any], dict]) -> dict:
    """One page of `stmt`: items, page, per_page, total, and the URL of the next page (or null)."""
    found = db.paginate(stmt, page=query.page, per_page=query.per_page, error_out=False)
    next_url = None
    if found.has_next:
        args = {**request.args.to_dict(), "page": query.page + 1}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **args)
    return {
        "items": [to_dict(row) for row in found.items],
        "page": query.page,
        "per_page": query.per_page,
        "total": found.total,
        "next": next_url,
    }


# --- Agents ---------------------------------------------------------------------------------------


def _agent_or_404(slug: str) -> Agent:
    # A slug that could never exist is not looked up (and never reaches the database as odd bytes).
    agent = None
    if agent_services.slug_problem(slug) is None:
        agent = agent_services.get_agent_with_routing(slug)
    if agent is None:
        raise ApiError(404, "There is no agent with this slug.")
    return agent


def _agent_fields(payload: AgentChanges) -> dict[str, Any]:
    """The fields the client sent, with owners' emails resolved to people (or null: nobody)."""
    given = payload.model_dump(exclude_unset=True)
    for field in ("business_owner", "technical_owner", "governance_owner"):
        if given.get(field) is not None:
            given[field] = agent_services.resolve_owner_email(given[field], field)
    if given.get("routing"):
        given["routing"] = {
            category: (
                agent_services.resolve_owner_email(email, f"routing.{category}") if email else None
            )
            for category, email in given["routing"].items()
        }
    return given


@bp.get("/openapi.json")
@operation(public=True)
def openapi_document():
    """This API described as OpenAPI 3.1 (no token needed)."""
    return build_document(current_app)


@bp.get("/agents")
@operation(query=AgentListQuery)
def list_agents():
    """The agents in the registry, by name; filter by `search` text and `lifecycle`."""
    query = read_query(AgentListQuery)
    agents = agent_services.list_agents(query.search, query.lifecycle)
    return {
        "items": [agent_services.agent_to_dict(agent) for agent in agents],
        "total": len(agents),
    }


@bp.get("/agents/<slug>")
@operation()
def get_agent(slug: str):
    """One agent: owners by email, routing {category: email}, thresholds."""
    return agent_services.agent_to_dict(_agent_or_404(slug))


@bp.post("/agents")
@operation(body=NewAgent, status=201)
@api_role_required("admin")
def create_agent():
    """Register an agent (a deployment pipeline, for example)."""
    payload = read_json(NewAgent)
    agent = agent_services.create_agent(_agent_fields(payload), by=api_user())
    db.session.commit()
    location = url_for(".get_agent", slug=agent.slug)
    return agent_services.agent_to_dict(agent), 201, {"Location": location}


@bp.patch("/agents/<slug>")
@operation(body=AgentChanges, errors=(403,))
def update_agent(slug: str):
    """Change the fields sent (for example a new `version`). Admins and the agent's owners."""
    agent = _agent_or_404(slug)
    if not agent.can_manage(api_user()):
        raise ApiError(403, "Only admins and this agent's owners may change it.")
    payload = read_json(AgentChanges)
    agent_services.update_agent(agent, _agent_fields(payload), by=api_user())
    db.session.commit()
    return agent_services.agent_to_dict(agent)


# --- Notifications --------------------------------------------------------------------------------


def notification_to_dict(note: Notification) -> dict:
    return {
        "id": note.id,
        "kind": note.kind,
        "title": note.title,
        "body": note.body,
        "url": note.link or None,  # a path on the portal, like every URL the API returns
        "created_at": note.created_at.isoformat(),
        "read_at": note.read_at.isoformat() if note.read_at else None,
    }


@bp.get("/notifications")
@operation(query=NotificationQuery)
def list_notifications():
    """Your notifications, newest first, a page at a time (`unread=true` for unread only)."""
    query = read_query(NotificationQuery)
    stmt = notification_services.notifications_for(api_user(), unread_only=query.unread)
    return paginated(stmt, query, notification_to_dict)


# --- Reports --------------------------------------------------------------------------------------


def _report_or_404(report_id: int) -> Report:
    if not 0 < report_id <= _MAX_ROW_ID:  # beyond the column: cannot exist
        raise ApiError(404, "Report not found.")
    return feedback.get_visible_report(report_id, api_user())


def _agent_for_report(slug: str, field: str = "agent") -> Agent:
    agent = (
        agent_services.get_agent_by_slug(slug) if not agent_services.slug_problem(slug) else None
    )
    if agent is None:
        message = "There is no agent with this slug."
        raise ApiError(422, message, {field: message})
    return agent


def _submission_key() -> str | None:
    """The Idempotency-Key header as the report's submission key, scoped to the caller.

    Scoping keeps one client's keys from ever meeting another's (or the report form's).
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        message = "Use 1 to 200 visible ASCII characters."
        raise ApiError(400, f"{IDEMPOTENCY_HEADER}: {message}", {IDEMPOTENCY_HEADER: message})
    return scoped_submission_key(api_user().id, key)


def scoped_submission_key(user_id: int, key: str) -> str:
    """The submission key an Idempotency-Key `key` of person `user_id` files under."""
    scoped = hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()
    return f"api-{scoped[:60]}"


def _report_answer(report: Report) -> dict:
    return feedback.report_to_dict(report, api_user(), with_timeline=True)


@bp.post("/reports")
@operation(body=NewReport, status=201, also_ok=(200,), errors=(409,))
def file_report():
    """File a report. Send an `Idempotency-Key` header so a retry returns the same report (200)."""
    payload = read_json(NewReport)
    key = _submission_key()
    data = feedback.ReportInput(
        agent=_agent_for_report(payload.agent),
        category=payload.category,
        summary=payload.summary,
        severity=payload.severity,
        details=payload.details,
        expected=payload.expected,
        run_ref=payload.run_ref,
        occurred_at=payload.occurred_at,
        confidential=payload.confidential,
        submission_key=key,
    )
    report, filed_now = feedback.file_or_find_report(api_user(), data)
    # The answer is what the commit stores; written before it, nothing is read back afterwards.
    body = feedback.report_to_dict(report, api_user(), with_timeline=True)
    location = url_for(".get_report", report_id=report.id)
    db.session.commit()
    return body, 201 if filed_now else 200, {"Location": location}


@bp.get("/reports")
@operation(query=ReportListQuery)
def list_reports():
    """The reports you may see, newest first, filtered and a page at a time."""
    query = read_query(ReportListQuery)
    filters = feedback.ReportFilters(
        agent_id=_agent_for_report(query.agent).id if query.agent else None,
        status=query.status,
        category=query.category,
        severity=query.severity,
        sort="newest",
    )
    stmt = feedback.triage_queue(api_user(), filters, utcnow()).options(
        selectinload(Report.reporter),
        selectinload(Report.assignee),
        selectinload(Report.attachments),
        selectinload(Report.subscriptions),
    )
    viewer = api_user()
    return paginated(stmt, query, lambda report: feedback.report_to_dict(report, viewer))


@bp.get("/reports/<int:report_id>")
@operation()
def get_report(report_id: int):
    """One report with its timeline, as you may see it (404 if you may not)."""
    return _report_answer(_report_or_404(report_id))


@bp.post("/reports/<int:report_id>/route")
@operation(body=RouteReport, errors=(409,))
@api_role_required("triage", "admin")
def route_report(report_id: int):
    """Route the report to the person (by email) who will act on it."""
    report = _report_or_404(report_id)
    payload = read_json(RouteReport)
    assignee = account_services.get_user_by_email(payload.assignee)
    if assignee is None:
        message = "No account has this email."
        raise ApiError(422, message, {"assignee": message})
    feedback.route_report(
        report, assignee, api_user(), expected_version=payload.version, note=payload.note
    )
    db.session.commit()
    return _report_answer(report)


@bp.post("/reports/<int:report_id>/act")
@operation(body=ActOnReport, errors=(403, 409))
def act_on_report(report_id: int):
    """Record what was done, in a note for the reporter. Triage, the assignee or the agent's owners."""
    report = _report_or_404(report_id)
    # Authorise before reading the body; the service checks again, so no path skips the rule.
    if not report.can_work(api_user()):
        raise ApiError(403, "Only triage, the assignee or the agent's owners can act on a report.")
    payload = read_json(ActOnReport)
    feedback.mark_acted_on(
        report, payload.action_kind, payload.note, api_user(), expected_version=payload.version
    )
    db.session.commit()
    return _report_answer(report)


@bp.post("/reports/<int:report_id>/confirm")
@operation(body=ConfirmFix, errors=(403, 409))
def confirm_fix(report_id: int):
    """The reporter's answer: fixed closes the report, not fixed reopens it for the owner."""
    report = _report_or_404(report_id)
    if report.reporter_id != api_user().id:  # checked first, as above; confirm_fix checks again
        raise ApiError(403, "Only the person who filed the report can answer.")
    payload = read_json(ConfirmFix)
    feedback.confirm_fix(
        report, payload.fixed, payload.comment, api_user(), expected_version=payload.version
    )
    db.session.commit()
    return _report_answer(report)
