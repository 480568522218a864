"""The agent directory (everyone signed in) and the registry (admins and owners)."""

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.agents import services
from portal.agents.forms import AgentForm, form_data_for
from portal.agents.models import Agent, Lifecycle, OwnerKind, ReportCategory
from portal.core.db import db
from portal.core.web import error_response, role_required

bp = Blueprint("agents", __name__, url_prefix="/agents")

MAX_SEARCH = 100


@bp.get("/")
@login_required
def directory():
    search = request.args.get("q", "").strip()[:MAX_SEARCH]
    try:
        lifecycle = (
            Lifecycle(request.args.get("lifecycle")) if request.args.get("lifecycle") else None
        )
    except ValueError:
        lifecycle = None  # an unknown filter value shows every lifecycle rather than an error
    agents = services.list_agents(search, lifecycle)
    return render_template(
        "agents/directory.html",
        agents=agents,
        search=search,
        lifecycle=lifecycle,
        lifecycles=list(Lifecycle),
        owner_kinds=list(OwnerKind),
        filtered=bool(search or lifecycle),
        may_register=services.can_register_agents(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("owner", "admin")
def register():
    form = AgentForm()
    form.offer_people(services.owner_candidates())
    if form.validate_on_submit():
        try:
            agent = services.create_agent(form.to_fields(with_slug=True), by=current_user)
        except services.AgentError as exc:
            form.field_for(exc.field).errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"{agent.name} is registered.", "success")
            return redirect(url_for("agents.detail", slug=agent.slug))
    return render_template(
        "agents/form.html",
        form=form,
        agent=None,
        # An owner-role person who is not an admin becomes business owner when they leave it empty.
        becomes_business_owner=not current_user.is_admin,
    ), 400 if form.errors else 200


@bp.get("/<slug>")
@login_required
def detail(slug: str):
    agent = services.get_agent_with_routing(slug)
    if agent is None:
        abort(404)
    rules = {rule.category: rule.owner for rule in agent.routing_rules}
    return render_template(
        "agents/detail.html",
        agent=agent,
        owner_kinds=list(OwnerKind),
        routing=[(category, rules.get(category)) for category in ReportCategory],
        thresholds=_threshold_rows(agent),
        report_url=_report_url(agent),
        may_edit=agent.can_manage(current_user),
    )


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    agent = services.get_agent_with_routing(slug)
    if agent is None:
        abort(404)
    if not agent.can_manage(current_user):
        return error_response(403, "Only administrators and this agent's owners can edit it.")
    form = AgentForm(data=form_data_for(agent))
    del form.slug  # fixed after registration
    in_place = [agent.owner(kind) for kind in OwnerKind] + [r.owner for r in agent.routing_rules]
    form.offer_people(services.owner_candidates(), keep=in_place)
    if form.validate_on_submit():
        try:
            services.update_agent(agent, form.to_fields(with_slug=False), by=current_user)
        except services.AgentError as exc:
            form.field_for(exc.field).errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"{agent.name} is updated.", "success")
            return redirect(url_for("agents.detail", slug=agent.slug))
    return render_template(
        "agents/form.html", form=form, agent=agent, becomes_business_owner=False
    ), 400 if form.errors else 200


def _threshold_rows(agent: Agent) -> list[tuple[services.Threshold, str | None]]:
    """Each threshold with its value as people read it (None: not set)."""
    rows = []
    for spec in services.THRESHOLDS.values():
        value = getattr(agent, spec.name)
        rows.append((spec, None if value is None else services.plain_number(value)))
    return rows


def _report_url(agent: Agent) -> str:
    # The report form belongs to the feedback package; link by path until its endpoint exists.
    if "feedback.new_report" in current_app.view_functions:
        return url_for("feedback.new_report", agent=agent.slug)
    return "/report?" + urlencode({"agent": agent.slug})
