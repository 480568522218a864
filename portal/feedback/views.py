"""Pages of the closed loop: report a problem, my reports, a report's page and its actions, the triage
queue, "assigned to me" and "you said, we did". Thin: parse, authorise, call a service, render."""

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import astuple
from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.agents.services import get_agent_by_slug
from portal.core.db import db
from portal.core.fragments import cached_fragment, cached_page, csrf_slot_context, page_area
from portal.core.paging import KnownTotalPage
from portal.core.security import is_safe_next
from portal.core.timeutil import utcnow
from portal.core.web import error_response, role_required, signed_in_user
from portal.feedback import attachments as attachment_files
from portal.feedback import display, services
from portal.feedback.forms import (
    ActForm,
    BulkForm,
    ConfirmForm,
    DeclineForm,
    DuplicateForm,
    NoteForm,
    ReportForm,
    RouteForm,
    StartForm,
    TriageForm,
)
from portal.feedback.models import (
    OPEN_STATUSES,
    ActionKind,
    Report,
    ReportAttachment,
    ReportStatus,
    Severity,
)
from portal.feedback.services import ReportError

bp = Blueprint("feedback", __name__)
for _name, _helper in display.TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_helper, _name)

PAGE_SIZE = 25
EXPORT_LIMIT = 10_000


@bp.app_context_processor
def _feedback_globals() -> dict:
    def my_open_report_count() -> int:
        return services.open_report_count(current_user) if current_user.is_authenticated else 0

    def my_assigned_counts() -> tuple[int, int]:
        return services.assigned_counts(current_user) if current_user.is_authenticated else (0, 0)

    return {"my_open_report_count": my_open_report_count, "my_assigned_counts": my_assigned_counts}


def _report_or_404(report_id: int, for_page: bool = False) -> Report:
    try:
        return services.get_visible_report(report_id, signed_in_user(), for_page=for_page)
    except ReportError:
        abort(404)


# ---------------------------------------------------------------------------------------------
# Filing a report


def _local_to_utc(form: ReportForm):
    """The form's local time plus the browser's offset (minutes behind UTC) gives UTC."""
    when = form.occurred_at.data
    if when is None:
        return None
    try:
        offset = max(-14 * 60, min(14 * 60, int(form.tz_offset.data or 0)))
    except ValueError:
        offset = 0
    try:
        return (when + timedelta(minutes=offset)).replace(tzinfo=UTC)
    except OverflowError:
        raise ReportError("That date is not valid.", "occurred_at") from None


def _report_input(form: ReportForm, agent: Agent | None) -> services.ReportInput:
    return services.ReportInput(
        agent=agent,
        category=ReportCategory(form.category.data),
        summary=form.summary.data or "",
        severity=Severity(form.severity.data) if form.severity.data else None,
        details=form.details.data or "",
        expected=form.expected.data or "",
        run_ref=form.run_ref.data or "",
        occurred_at=_local_to_utc(form),
        confidential=bool(form.confidential.data),
        submission_key=form.submission_key.data or None,
    )


def _uploads(form: ReportForm) -> list[attachment_files.UploadedFile]:
    files = [f for f in (form.attachments.data or []) if f and getattr(f, "filename", "")]
    return [attachment_files.UploadedFile.from_storage(f) for f in files]


@bp.route("/report", methods=["GET", "POST"])
@login_required
def new_report():
    agents = services.reportable_agents()
    form = ReportForm()
    form.agent.choices = [("", "Choose…")] + [(a.slug, a.name) for a in agents]
    similar: list[Report] = []
    if request.method == "GET":
        if any(a.slug == request.args.get("agent") for a in agents):
            form.agent.data = request.args["agent"]
        form.run_ref.data = (request.args.get("run") or "")[:200]
        form.occurred_at.data = utcnow().replace(tzinfo=None, second=0, microsecond=0)
        form.submission_key.data = secrets.token_urlsafe(24)
    elif form.validate_on_submit():
        # The form only accepts the listed agents' slugs, so the agent is one of those.
        agent = next((a for a in agents if a.slug == form.agent.data), None)
        try:
            data = _report_input(form, agent)
        except ReportError as exc:
            form.occurred_at.errors = [*form.occurred_at.errors, exc.message]
            return _render_report_form(form, [], False), 400
        submission = services.check_submission(current_user, data)
        if submission.earlier is not None:  # a double click or a retry: the report is there
            return redirect(url_for(".report_detail", report_id=submission.earlier.id))
        if submission.key_taken:
            # The same page was used again (Back, then a new report): give it a key of its own.
            data.submission_key = form.submission_key.data = secrets.token_urlsafe(24)
        if form.file_anyway.data != "1" and agent is not None:
            similar = services.similar_open_reports(agent, data.summary)
            twin = services.twin_among(similar, current_user, data)
            if twin is not None:  # the other copy of a double click won the race
                return redirect(url_for(".report_detail", report_id=twin.id))
            form.file_anyway.data = "1"
        if not similar:
            try:
                report = services.file_report(current_user, data, _uploads(form))
            except ReportError as exc:
                db.session.rollback()
                field = getattr(form, exc.field or "", None)
                if field is not None and exc.field != "submission_key":
                    field.errors = [*field.errors, exc.message]
                else:
                    form.form_errors.append(exc.message)
            else:
                report_id = report.id  # read before the commit expires it: no reload
                db.session.commit()
                flash(
                    f"Thank you. Your report is #{report_id}; you will hear what is done about it.",
                    "success",
                )
                return redirect(url_for(".report_detail", report_id=report_id))
    status = 400 if form.errors or form.form_errors else 200
    had_files = any(f.filename for f in request.files.getlist(form.attachments.name))
    return _render_report_form(form, similar, had_files and bool(similar)), status


def _render_report_form(form: ReportForm, similar: list[Report], files_dropped: bool) -> str:
    return render_template(
        "feedback/new_report.html",
        form=form,
        similar=similar,
        had_files=files_dropped,
        accept=attachment_files.ACCEPT,
    )


@bp.get("/report/similar")
@login_required
def similar_reports():
    """JSON for the report form's script: open reports about the agent that sound the same."""
    agent = get_agent_by_slug(services.without_nul(request.args.get("agent"))[:64])
    text = (request.args.get("q") or "")[:200]
    found = services.similar_open_reports(agent, text) if agent else []
    return jsonify(
        {
            "reports": [
                {
                    "id": report.id,
                    "summary": report.summary,
                    "status": report.status.label,
                    "filed": report.created_at.strftime("%d %b %Y"),
                    "url": url_for(".report_detail", report_id=report.id),
                    "subscribe_url": url_for(".subscribe", report_id=report.id),
                    "is_mine": report.reporter_id == current_user.id,
                    "is_following": report.is_follower(current_user),
                }
                for report in found
            ]
        }
    )


@bp.post("/reports/<int:report_id>/subscribe")
@login_required
def subscribe(report_id: int):
    """ "Me too": follow an open report instead of filing it again (any signed-in person)."""
    report = db.session.get(Report, report_id)
    if report is None or not FlaskForm().validate_on_submit():
        abort(404 if report is None else 400)
    try:
        added = services.subscribe(report, current_user)
    except ReportError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for(".new_report"))
    db.session.commit()
    if added:
        flash(f"You now follow report #{report.id}. You will hear when it is acted on.", "success")
    target = report.duplicate_of_id if report.status is ReportStatus.DUPLICATE else report.id
    return redirect(url_for(".report_detail", report_id=target or report.id))


@bp.post("/reports/<int:report_id>/unsubscribe")
@login_required
def unsubscribe(report_id: int):
    report = _report_or_404(report_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.unsubscribe(report, current_user)
    db.session.commit()
    flash(f"You no longer follow report #{report.id}.", "success")
    return redirect(url_for(".my_reports"))


# ---------------------------------------------------------------------------------------------
# My reports


@bp.get("/reports/mine")
@login_required
def my_reports():
    user = signed_in_user()
    filed = KnownTotalPage(
        page=request.args.get("page", 1, type=int),
        per_page=20,
        total=services.filed_count(user),
        fetch=lambda offset, limit: services.filed_reports(user, offset, limit),
    )
    return render_template(
        "feedback/my_reports.html",
        filed=filed,
        followed=services.followed_reports(user),
        timelines={r.id: services.timeline(r, user) for r in filed.items},
        now=utcnow(),
    )


# ---------------------------------------------------------------------------------------------
# A report's page and its actions

FORMS: dict[str, type[FlaskForm]] = {
    "triage": TriageForm,
    "route": RouteForm,
    "start": StartForm,
    "act": ActForm,
    "decline": DeclineForm,
    "duplicate": DuplicateForm,
    "confirm": ConfirmForm,
    "note": NoteForm,
}


def _set_version(form: FlaskForm, version: int) -> None:
    form.version.data = str(version)
    form.version.raw_data = [str(version)]


def _detail_forms(report: Report, posted: str | None = None) -> dict[str, FlaskForm]:
    """One form per action; only the posted one reads the request."""
    forms = {
        name: cls(prefix=name) if name == posted else cls(prefix=name, formdata=None)
        for name, cls in FORMS.items()
    }
    # Read only when the route form is shown or posted (a callable is resolved on first read).
    forms["route"].assignee.choices = services.assignable_choices
    for name, form in forms.items():
        if name == posted:
            continue
        if hasattr(form, "version"):
            _set_version(form, report.version)
    if posted != "triage":
        forms["triage"].severity.data = report.severity.value
    if posted != "route":
        forms["route"].assignee.data = report.assignee_id or report.suggested_owner_id
    return forms


def _allowed_actions(report: Report, user: User) -> dict[str, bool]:
    """Which forms to show. Showing is a courtesy: every action is checked again by its service."""
    works = report.can_work(user)
    triages = user.has_any_role("triage", "admin")
    return {
        "triage": triages and report.is_open,
        "route": triages and services.can_move(report, ReportStatus.ROUTED),
        "start": works and services.can_move(report, ReportStatus.IN_PROGRESS),
        "act": works and services.can_move(report, ReportStatus.ACTED_ON),
        "decline": works and services.can_move(report, ReportStatus.DECLINED),
        "duplicate": works and services.can_move(report, ReportStatus.DUPLICATE),
        "note": works,
        "confirm": report.reporter_id == user.id and report.status is ReportStatus.ACTED_ON,
        "follow": report.reporter_id != user.id
        and not works
        and not report.is_follower(user)
        and report.status in (*OPEN_STATUSES, ReportStatus.ACTED_ON),
        "unfollow": report.is_follower(user),
    }


def _render_detail(report: Report, forms: dict[str, FlaskForm], status: int = 200, error=None):
    user = signed_in_user()
    possible_duplicates = []
    if report.can_work(user) and services.can_move(report, ReportStatus.DUPLICATE):
        possible_duplicates = [
            r for r in services.similar_open_reports(report.agent, report.summary) if r != report
        ]
    return render_template(
        "feedback/report.html",
        report=report,
        forms=forms,
        can=_allowed_actions(report, user),
        entries=services.timeline(report, user),
        reporter=services.reporter_label(report, user),
        show_details=report.shows_details_to(user),
        possible_duplicates=possible_duplicates,
        error=error,
        now=utcnow(),
    ), status


@bp.get("/reports/<int:report_id>")
@login_required
def report_detail(report_id: int):
    report = _report_or_404(report_id, for_page=True)
    return _render_detail(report, _detail_forms(report))


def _change_report(report_id: int, name: str, apply: Callable[[Report, FlaskForm], str]):
    """Validate the posted action form, call its service, commit once, or show why not."""
    report = _report_or_404(report_id)
    forms = _detail_forms(report, posted=name)
    form = forms[name]
    if not form.validate_on_submit():
        return _render_detail(report, forms, 400)
    try:
        message = apply(report, form)
    except ReportError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            return error_response(exc.status, exc.message if exc.status == 403 else None)
        report = _report_or_404(report_id)
        forms = _detail_forms(report, posted=name)
        form = forms[name]
        page_error = None
        if exc.field == "version":
            _set_version(form, report.version)  # the latest, so sending again is a choice
            page_error = exc.message
        elif exc.field and hasattr(form, exc.field):
            field = getattr(form, exc.field)
            field.errors = [*field.errors, exc.message]
        else:
            page_error = exc.message
        return _render_detail(report, forms, 409 if exc.status == 409 else 400, page_error)
    db.session.commit()
    flash(message, "success")
    target = request.form.get("next")
    return redirect(
        target if is_safe_next(target) else url_for(".report_detail", report_id=report.id)
    )


def _version(form: FlaskForm) -> int:
    """The version the form was made from; one that cannot be read matches no version (stale)."""
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return 0


@bp.post("/reports/<int:report_id>/triage")
@role_required("triage", "admin")
def triage(report_id: int):
    def apply(report, form):
        services.triage_report(
            report,
            current_user,
            Severity(form.severity.data),
            expected_version=_version(form),
        )
        return f"Severity is {report.severity.label.lower()}."

    return _change_report(report_id, "triage", apply)


@bp.post("/reports/<int:report_id>/route")
@role_required("triage", "admin")
def route(report_id: int):
    def apply(report, form):
        assignee = db.session.get(User, form.assignee.data)
        services.route_report(
            report, assignee, current_user, expected_version=_version(form), note=form.note.data
        )
        return f"Routed to {assignee.name}; they have been told."

    return _change_report(report_id, "route", apply)


@bp.post("/reports/<int:report_id>/start")
@role_required("owner", "triage", "admin")
def start(report_id: int):
    def apply(report, form):
        services.start_work(report, current_user, expected_version=_version(form))
        return "Marked as in progress."

    return _change_report(report_id, "start", apply)


@bp.post("/reports/<int:report_id>/act")
@role_required("owner", "triage", "admin")
def act(report_id: int):
    def apply(report, form):
        services.mark_acted_on(
            report,
            ActionKind(form.action_kind.data),
            form.note.data,
            current_user,
            expected_version=_version(form),
        )
        return "Action recorded. The reporter and everyone following have been told."

    return _change_report(report_id, "act", apply)


@bp.post("/reports/<int:report_id>/decline")
@role_required("owner", "triage", "admin")
def decline(report_id: int):
    def apply(report, form):
        services.decline_report(
            report, form.reason.data, current_user, expected_version=_version(form)
        )
        return "Declined. The reporter has been told why."

    return _change_report(report_id, "decline", apply)


@bp.post("/reports/<int:report_id>/duplicate")
@role_required("owner", "triage", "admin")
def duplicate(report_id: int):
    def apply(report, form):
        primary = db.session.get(Report, form.primary.data)
        services.mark_duplicate(report, primary, current_user, expected_version=_version(form))
        return f"Marked as a duplicate of #{primary.id}; its reporter now follows that report."

    return _change_report(report_id, "duplicate", apply)


@bp.post("/reports/<int:report_id>/confirm")
@login_required
def confirm(report_id: int):
    # Only the person who filed it answers; for anyone else it is not "your report": 404.
    report = _report_or_404(report_id)
    if report.reporter_id != current_user.id:
        abort(404)

    def apply(report, form):
        fixed = form.fixed.data == "yes"
        services.confirm_fix(
            report, fixed, form.comment.data, current_user, expected_version=_version(form)
        )
        if fixed:
            return "Thank you. The report is closed."
        return "Thank you. The report is reopened and its owner has been told."

    return _change_report(report_id, "confirm", apply)


@bp.post("/reports/<int:report_id>/notes")
@role_required("owner", "triage", "admin")
def add_note(report_id: int):
    def apply(report, form):
        services.add_internal_note(report, form.note.data, current_user)
        return "Internal note added."

    return _change_report(report_id, "note", apply)


@bp.get("/reports/<int:report_id>/attachments/<int:attachment_id>")
@login_required
def attachment(report_id: int, attachment_id: int):
    report = _report_or_404(report_id)
    item = db.session.get(ReportAttachment, attachment_id)
    if item is None or item.report_id != report.id or not report.shows_details_to(current_user):
        abort(404)
    path = attachment_files.stored_path(item.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---------------------------------------------------------------------------------------------
# Triage queue, bulk changes, export


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _enum_arg(name: str, enum_cls):
    try:
        return enum_cls(request.args.get(name, ""))
    except ValueError:
        return None


def _queue_filters() -> services.ReportFilters:
    assignee = request.args.get("assignee", "")
    status = request.args.get("status", "")
    return services.ReportFilters(
        agent_id=_int_arg("agent"),
        status=_enum_arg("status", ReportStatus),
        open_only=status not in ("all", *(s.value for s in ReportStatus)),
        category=_enum_arg("category", ReportCategory),
        severity=_enum_arg("severity", Severity),
        assignee_id=current_user.id if assignee == "me" else _int_arg("assignee"),
        unassigned=assignee == "none",
        overdue=request.args.get("overdue") == "1",
        text=(request.args.get("q") or "")[:200],
        sort=request.args.get("sort") if request.args.get("sort") in services.SORTS else "due",
    )


def _queue_url(**changes) -> str:
    args = {k: v for k, v in request.args.items() if v}
    args.update(changes)
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(".triage_queue", **args)


@bp.get("/triage")
@role_required("triage", "admin")
def triage_queue():
    now = utcnow()
    # Cached per query and minute (overdue marks follow the clock to the minute): the whole page
    # per viewer, and the queue itself once for everyone with the triage role (portal.core.fragments).
    # The page's key is the query as sent; the queue's adds the filters it means ("me" is a person).
    key = ("triage", request.full_path, now.replace(second=0, microsecond=0))

    def page() -> str:
        filters = _queue_filters()
        content = cached_fragment(
            services.QUEUE_AREA,
            (*key, astuple(filters)),
            lambda: _render_queue_content(filters, now),
        )
        content = Markup(content)  # noqa: S704 - rendered by our template, escaped there
        return render_template("feedback/triage_queue.html", content=content, **csrf_slot_context())

    return cached_page(services.QUEUE_AREA, key, page)


page_area("feedback.triage_queue", services.QUEUE_AREA)


def _render_queue_content(filters: services.ReportFilters, now) -> str:
    user = signed_in_user()
    counts = services.status_counts(user, filters, now)
    page = KnownTotalPage(
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
        total=services.matching_total(counts, filters),
        fetch=lambda offset, limit: services.triage_queue_rows(user, filters, now, offset, limit),
    )
    bulk = BulkForm(meta={"csrf": False})  # the token goes into the slot per request
    people = services.assignable_choices()
    bulk.assignee.choices = [(0, "Choose…"), *people]
    return render_template(
        "feedback/_triage_queue_content.html",
        page=page,
        filters=filters,
        counts=counts,
        agents=db.session.execute(sa.select(Agent.id, Agent.name).order_by(Agent.name)).all(),
        people=people,
        bulk=bulk,
        **csrf_slot_context(),
        sorts=services.SORTS,
        queue_url=_queue_url,
        now=now,
        statuses=list(ReportStatus),
        open_statuses=OPEN_STATUSES,
        categories=list(ReportCategory),
        severities=list(Severity),
    )


@bp.post("/triage/bulk")
@role_required("triage", "admin")
def bulk_update():
    form = BulkForm()
    back = request.form.get("next")
    back = back if is_safe_next(back) else url_for(".triage_queue")
    if not form.validate_on_submit():
        flash("Nothing was changed: choose the reports and what to do with them.", "error")
        return redirect(back)
    ids = [int(v) for v in request.form.getlist("report_ids") if v.isdigit()][:200]
    if not ids:
        flash("Tick at least one report first.", "warning")
        return redirect(back)
    if form.route.data:
        assignee = db.session.get(User, form.assignee.data or 0)
        if assignee is None:
            flash("Choose who to route the selected reports to.", "warning")
            return redirect(back)
        result = services.bulk_route(ids, assignee, current_user)
        done = f"Routed {len(result.done)} to {assignee.name}."
    elif form.set_severity.data:
        try:
            severity = Severity(form.severity.data)
        except ValueError:
            flash("Choose the severity to set.", "warning")
            return redirect(back)
        result = services.bulk_set_severity(ids, severity, current_user)
        done = f"Set the severity of {len(result.done)} to {severity.label.lower()}."
    else:
        abort(400)
    db.session.commit()
    flash(done, "success")
    for report_id, reason in result.skipped:
        flash(f"#{report_id} skipped: {reason}", "warning")
    return redirect(back)


def _csv_cell(value) -> str:
    # A leading = + - @ would be read as a formula by spreadsheet programs.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/triage/export.csv")
@role_required("triage", "admin")
def triage_export():
    """The queue as CSV, with the current filters, through the one serialisation."""
    stmt = services.triage_queue(current_user, _queue_filters(), utcnow()).limit(EXPORT_LIMIT)
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [
        "id",
        "filed",
        "agent",
        "category",
        "severity",
        "status",
        "summary",
        "reporter",
        "assignee",
        "sla_due",
        "overdue",
        "action",
        "acted_on",
    ]
    writer.writerow(columns)
    for report in db.session.scalars(stmt.options(selectinload(Report.assignee))):
        data = services.report_to_dict(report, current_user)
        writer.writerow(
            _csv_cell(value)
            for value in (
                data["id"],
                data["created_at"],
                data["agent"]["slug"],
                data["category"]["id"],
                data["severity"]["id"],
                data["status"]["id"],
                data["summary"],
                data["reporter"]["name"]
                if data["reporter"]
                else ("confidential" if data["confidential"] else ""),
                data["assignee"]["name"] if data["assignee"] else "",
                data["sla_due_at"],
                "yes" if data["is_overdue"] else "no",
                data["action"]["kind"]["id"] if data["action"] and data["action"]["kind"] else "",
                data["action"]["acted_on_at"] if data["action"] else "",
            )
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=reports.csv"},
    )


# ---------------------------------------------------------------------------------------------
# Assigned to me; you said, we did


@bp.get("/assigned")
@role_required("owner", "triage", "admin")
def assigned():
    return render_template(
        "feedback/assigned.html",
        assigned=services.assigned_reports(current_user),
        unassigned=services.unassigned_reports_for_owner(current_user),
        recent=services.recently_acted_by(current_user),
        now=utcnow(),
    )


@bp.get("/you-said-we-did")
@login_required
def you_said_we_did():
    agents = db.session.scalars(sa.select(Agent).order_by(Agent.name)).all()
    agent = next((a for a in agents if a.slug == request.args.get("agent")), None)
    return render_template(
        "feedback/you_said_we_did.html",
        agents=agents,
        agent=agent,
        reports=services.you_said_we_did(agent, limit=30),
    )
