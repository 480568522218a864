"""Dashboards: the overview, one page per agent, each chart's CSV, and plotly.js served locally."""

from pathlib import Path

import plotly
from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from portal.agents.services import get_agent_by_slug, slug_problem
from portal.core.timeutil import utcnow
from portal.core.web import error_response, role_required
from portal.dashboards import services
from portal.dashboards.csv_export import chart_csv
from portal.dashboards.forms import ALL, FilterForm
from portal.governance import services as governance

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
DASHBOARD_ROLES = ("manager", "owner", "admin")


def _filters(agents: list | None = None) -> FilterForm:
    return FilterForm(
        request.args,
        agents=services.visible_agents(current_user) if agents is None else agents,
        teams=services.all_teams(),
        all_agents_label=(
            "All agents" if services.sees_every_agent(current_user) else "All my agents"
        ),
        today=utcnow().date(),
    )


def _filter_args(form: FilterForm, agent_slug: str | None) -> dict[str, str]:
    """The query string that reproduces the page's scope (for CSV links and the agent switch)."""
    args = {"from": form.start.data.isoformat(), "to": form.end.data.isoformat()}
    if form.team.data:
        args["team"] = form.team.data
    if agent_slug:
        args["agent"] = agent_slug
    return args


def _refuse_agent():
    return error_response(403, "Only managers, admins and this agent's owners see its dashboard.")


@bp.get("/")
@role_required(*DASHBOARD_ROLES)
def overview():
    slug = request.args.get("agent", ALL)
    if slug:
        # Choosing an agent in the filters opens that agent's page with the same period and team.
        agent = get_agent_by_slug(slug) if slug_problem(slug) is None else None
        if agent is None:
            abort(404)
        if not services.may_view_agent(current_user, agent):
            return _refuse_agent()
        args = {key: value for key, value in request.args.items() if key != "agent"}
        return redirect(url_for("dashboards.agent", slug=agent.slug, **args))
    form = _filters()
    sees_all = services.sees_every_agent(current_user)
    if not form.validate():
        return render_template(
            "dashboards/overview.html", form=form, scope=None, sees_all=sees_all
        ), 400
    scope = services.make_scope(form.start.data, form.end.data, None, form.chosen_team)
    figures = services.figures_of(scope)
    charts = []
    headline = None
    if sees_all:
        charts = [services.build_chart(key, scope, figures) for key in services.chart_keys(scope)]
        headline = figures.headline()
    return render_template(
        "dashboards/overview.html",
        form=form,
        scope=scope,
        sees_all=sees_all,
        glances=services.agents_at_a_glance(form.visible_agents, scope, figures),
        headline=headline,
        charts=charts,
        csv_args=_filter_args(form, None),
    )


@bp.get("/agents/<slug>")
@role_required(*DASHBOARD_ROLES)
def agent(slug: str):
    visible = services.visible_agents(current_user)
    agent = next((agent for agent in visible if agent.slug == slug), None)
    if agent is None:
        agent = get_agent_by_slug(slug) if slug_problem(slug) is None else None
        if agent is None:
            abort(404)
        return _refuse_agent()  # it exists, but is not one this person may see
    form = _filters(visible)
    form.agent.data = agent.slug
    if not form.validate():
        return render_template("dashboards/agent.html", form=form, agent=agent, scope=None), 400
    scope = services.make_scope(form.start.data, form.end.data, agent, form.chosen_team)
    figures = services.figures_of(scope)
    charts = [services.build_chart(key, scope, figures) for key in services.chart_keys(scope)]
    headline = figures.headline()
    reviews = (
        governance.reviews_of(agent) if governance.may_read_governance(current_user, agent) else []
    )
    return render_template(
        "dashboards/agent.html",
        form=form,
        agent=agent,
        scope=scope,
        scorecard=services.scorecard(agent, scope, figures),
        headline=headline,
        satisfaction_flag=services.satisfaction_flag(agent, headline.survey.satisfaction),
        charts=charts,
        csv_args=_filter_args(form, agent.slug),
        latest_review=reviews[0] if reviews else None,
        may_enter_figures=governance.may_enter_figures(current_user, agent),
        may_record_review=governance.may_record_review(current_user),
    )


@bp.get("/charts/<key>.csv")
@role_required(*DASHBOARD_ROLES)
def chart_csv_download(key: str):
    if key not in services.CHARTS:
        abort(404)
    slug = request.args.get("agent", ALL)
    agent = None
    if slug:
        agent = get_agent_by_slug(slug) if slug_problem(slug) is None else None
        if agent is None:
            abort(404)
        if not services.may_view_agent(current_user, agent):
            return _refuse_agent()
    elif not services.sees_every_agent(current_user):
        return error_response(403, "Choose one of your agents: only managers see all agents.")
    elif key in services.AGENT_ONLY:
        abort(404)
    form = _filters()
    if not form.validate():
        problems = "; ".join(
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        return Response(f"Bad filters: {problems}\n", status=400, mimetype="text/plain")
    scope = services.make_scope(form.start.data, form.end.data, agent, form.chosen_team)
    chart = services.build_chart(key, scope)
    parts = [key.replace("_", "-"), agent.slug if agent else "all-agents"]
    if scope.team is not None:
        parts.append(f"team-{scope.team.id}")
    parts += [scope.start.isoformat(), scope.last_day.isoformat()]
    return Response(
        chart_csv(chart),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{"_".join(parts)}.csv"'},
    )


@bp.get("/assets/plotly.min.js")
def plotly_js():
    """plotly.js from the plotly Python package: served by the portal, never from a CDN."""
    return send_file(
        PLOTLY_JS, mimetype="text/javascript", max_age=365 * 24 * 3600, conditional=True
    )
