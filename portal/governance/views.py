"""Governance pages: quarterly reviews (history, recording, printable record) and run figures."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.agents.models import Agent
from portal.agents.services import get_agent_by_slug, slug_problem
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.core.web import error_response, role_required
from portal.governance import services
from portal.governance.forms import FiguresForm, ReviewForm
from portal.governance.models import FiguresSource
from portal.governance.periods import (
    add_months,
    quarter_label,
    quarter_of,
    quarter_window,
)

bp = Blueprint("governance", __name__, url_prefix="/governance")

READER_ROLES = ("manager", "owner", "admin")
QUARTERS_OFFERED = 8


def _agent_or_404(slug: str) -> Agent:
    agent = get_agent_by_slug(slug) if slug_problem(slug) is None else None
    if agent is None:
        abort(404)
    return agent


def _refuse_reader():
    return error_response(403, "Only managers, admins and this agent's owners see its governance.")


@bp.get("/")
@role_required(*READER_ROLES)
def index():
    return render_template(
        "governance/index.html",
        summaries=services.review_overview(current_user),
        may_record=services.may_record_review(current_user),
    )


@bp.get("/agents/<slug>/reviews")
@role_required(*READER_ROLES)
def agent_reviews(slug: str):
    agent = _agent_or_404(slug)
    if not services.may_read_governance(current_user, agent):
        return _refuse_reader()
    return render_template(
        "governance/agent_reviews.html",
        agent=agent,
        reviews=services.reviews_of(agent),
        may_record=services.may_record_review(current_user),
    )


def _quarter_choices(agent: Agent) -> list[tuple[str, str, bool]]:
    """(value, label, already decided) for the current quarter and the seven before it."""
    decided = {(review.year, review.quarter) for review in services.reviews_of(agent)}
    year, quarter = quarter_of(utcnow().date())
    first_day, _ = quarter_window(year, quarter)
    choices = []
    for back in range(QUARTERS_OFFERED):
        y, q = quarter_of(add_months(first_day, -3 * back))
        choices.append((f"{y}-Q{q}", quarter_label(y, q), (y, q) in decided))
    return choices


def _parse_quarter(text: str | None) -> tuple[int, int] | None:
    try:
        year_text, quarter_text = (text or "").split("-Q")
        return int(year_text), int(quarter_text)
    except ValueError:
        return None


@bp.route("/agents/<slug>/reviews/new", methods=["GET", "POST"])
@role_required("manager")
def new_review(slug: str):
    agent = _agent_or_404(slug)
    choices = _quarter_choices(agent)
    offered = {value for value, _, _ in choices}
    form = ReviewForm()
    chosen = (
        request.form.get("quarter") if request.method == "POST" else request.args.get("quarter")
    )
    quarter_problem = None
    if not chosen:
        # Reviews look back: offer the latest past quarter not decided yet, else the current one.
        chosen = next((value for value, _, done in choices[1:] if not done), choices[0][0])
    elif chosen not in offered:
        quarter_problem = "Choose one of the listed quarters."
        chosen = choices[1][0]
    year, quarter = _parse_quarter(chosen) or quarter_of(utcnow().date())
    form.quarter.data = chosen
    if request.method == "POST" and quarter_problem is None and form.validate_on_submit():
        try:
            review = services.record_review(
                agent,
                services.ReviewInput(year, quarter, form.decision.data, form.notes.data or ""),
                by=current_user,
            )
        except services.GovernanceError as exc:
            if exc.field in ("decision", "notes"):
                form[exc.field].errors.append(exc.message)
            else:
                quarter_problem = exc.message
        else:
            db.session.commit()
            flash(
                f"{review.decision.label} recorded for {agent.name}, {review.quarter_label}.",
                "success",
            )
            return redirect(url_for("governance.review", review_id=review.id))
    start, end = quarter_window(year, quarter)
    failed = request.method == "POST" and bool(form.errors or quarter_problem)
    return render_template(
        "governance/new_review.html",
        agent=agent,
        form=form,
        choices=choices,
        chosen=chosen,
        quarter_text=quarter_label(year, quarter),
        quarter_problem=quarter_problem,
        existing=services.review_for_quarter(agent, year, quarter),
        scorecard=services.scorecard(agent, start, end),
        period=(start, end),
    ), 400 if failed else 200


@bp.get("/reviews/<int:review_id>")
@role_required(*READER_ROLES)
def review(review_id: int):
    found = services.get_review(review_id)
    if found is None:
        abort(404)
    if not found.visible_to(current_user):
        return _refuse_reader()
    return render_template(
        "governance/review.html",
        review=found,
        agent=found.agent,
        lines=services.scorecard_lines(found.measured, found.thresholds),
        headline=found.measured.get("headline", {}),
    )


def _figures_page(agent: Agent, form: FiguresForm, status: int = 200):
    return render_template(
        "governance/figures.html",
        agent=agent,
        form=form,
        rows=services.figures_of(agent),
        may_enter=services.may_enter_figures(current_user, agent),
    ), status


@bp.get("/agents/<slug>/figures")
@role_required(*READER_ROLES)
def figures(slug: str):
    agent = _agent_or_404(slug)
    if not services.may_read_governance(current_user, agent):
        return _refuse_reader()
    form = FiguresForm()
    if not form.period_start.data:
        # Suggest last month, the usual entry.
        this_month = utcnow().date().replace(day=1)
        form.period_start.data = add_months(this_month, -1)
        form.period_end.data = this_month - timedelta(days=1)
    return _figures_page(agent, form)


@bp.post("/agents/<slug>/figures")
@role_required("owner", "admin")
def record_figures(slug: str):
    agent = _agent_or_404(slug)
    if not services.may_enter_figures(current_user, agent):
        return error_response(403, "Only administrators and this agent's owners enter its figures.")
    form = FiguresForm()
    if form.validate_on_submit():
        data = services.FiguresInput(
            period_start=form.period_start.data,
            period_end=form.period_end.data,
            runs=form.runs.data,
            quality_pct=form.quality_pct.data,
            cost_per_unit=form.cost_per_unit.data,
        )
        try:
            row, created = services.record_figures(agent, data, current_user, FiguresSource.FORM)
        except services.GovernanceError as exc:
            form[exc.field if exc.field in form else "period_start"].errors.append(exc.message)
        else:
            db.session.commit()
            period = f"{row.period_start:%d %b %Y} to {row.period_end:%d %b %Y}"
            flash(
                f"Figures for {period} {'recorded' if created else 'replaced'}.",
                "success",
            )
            return redirect(url_for("governance.figures", slug=agent.slug))
    return _figures_page(agent, form, 400)
