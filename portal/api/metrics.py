"""API routes for the dashboards' numbers and an agent's run figures (engineer H's part of the API).

They attach to the API blueprint (bearer tokens, JSON errors, pydantic validation) and call the same
services as the pages: `portal.governance.headline` for the numbers, `portal.governance.services`
for run figures. Imported by the app factory before the blueprint is registered.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import Field, model_validator

from portal.accounts.models import Role, Team
from portal.agents.models import Agent
from portal.api.auth import api_role_required, api_user
from portal.api.errors import ApiError, error_json
from portal.api.openapi import operation
from portal.api.schemas import Line, Payload, Query
from portal.api.views import _agent_or_404, bp, read_json, read_query
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.governance import services as governance
from portal.governance.headline import headline_measures
from portal.governance.models import FiguresSource
from portal.governance.periods import add_months, month_start

DEFAULT_MONTHS = 6
MAX_MONTHS = 36


class PeriodFigures(Payload):
    """POST /agents/{slug}/metrics: one period's figures; the same period again replaces them."""

    period_start: date
    period_end: date = Field(description="Last day of the period, inclusive.")
    runs: int = Field(ge=0, le=governance.MAX_RUNS)
    quality_pct: Decimal | None = Field(None, description="% of outputs meeting the standard.")
    cost_per_unit: Decimal | None = None


class MetricsQuery(Query):
    """GET /metrics: agent slug, team (id or name), from and to (inclusive dates)."""

    agent: Line | None = None
    team: Line | None = None
    start: date | None = Field(None, alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _window(self) -> "MetricsQuery":
        if self.start and self.to:
            if self.to < self.start:
                raise ValueError("'to' is before 'from'.")
            if add_months(self.start, MAX_MONTHS) <= self.to:
                raise ValueError(f"Ask for at most {MAX_MONTHS} months.")
        return self


@bp.errorhandler(governance.GovernanceError)
def _governance_error(exc: governance.GovernanceError):
    db.session.rollback()
    return error_json(exc.status, exc.message, {exc.field: exc.message} if exc.field else {})


@bp.post("/agents/<slug>/metrics")
@operation(body=PeriodFigures, status=201, also_ok=(200,), errors=(409,))
@api_role_required("owner", "admin")
def post_agent_metrics(slug: str):
    """Record an agent's run figures for one period (runs, quality %, cost per unit).

    The agent's owners and admins. 201 when the period is new, 200 when it replaced the same
    period's figures; a period overlapping another is refused (409).
    """
    agent = _agent_or_404(slug)
    if not governance.may_enter_figures(api_user(), agent):
        raise ApiError(403, "Only admins and this agent's owners may record its figures.")
    payload = read_json(PeriodFigures)
    row, created = governance.record_figures(
        agent,
        governance.FiguresInput(**payload.model_dump()),
        api_user(),
        FiguresSource.API,
    )
    db.session.commit()
    return {"agent": agent.slug, **governance.figures_to_dict(row)}, 201 if created else 200


def _team(text: str) -> Team:
    condition = Team.id == int(text) if text.isdigit() and len(text) < 10 else Team.name == text
    team = db.session.scalar(sa.select(Team).where(condition))
    if team is None:
        raise ApiError(422, "There is no such team.", {"team": "Give a team id or its exact name."})
    return team


def _scoped_agent(slug: str | None) -> Agent | None:
    """The agent asked for, if the caller may see its numbers. Owners must name one of theirs."""
    user = api_user()
    sees_all = user.has_any_role(Role.MANAGER, Role.ADMIN)
    if slug is None:
        if not sees_all:
            raise ApiError(403, "Owners see their own agents' numbers: add agent=<slug>.")
        return None
    agent = _agent_or_404(slug)
    if not (sees_all or agent.is_owned_by(user)):
        raise ApiError(403, "Only managers and this agent's owners see its numbers.")
    return agent


@bp.get("/metrics")
@operation(query=MetricsQuery, errors=(404,))
@api_role_required("manager", "owner", "admin")
def get_metrics():
    """The dashboards' numbers for an agent and/or team over a period (default: the last 6 months).

    Managers and admins for any agent or all; owners for their own agents (agent= is required).
    Survey figures of a group below its anonymity threshold read "withheld", as on the pages.
    """
    query = read_query(MetricsQuery)
    agent = _scoped_agent(query.agent)
    team = _team(query.team) if query.team else None
    today = utcnow().date()
    first = query.start or add_months(month_start(query.to or today), -(DEFAULT_MONTHS - 1))
    last = query.to or today
    if last < first:
        raise ApiError(422, "'to' is before 'from'.", {"to": "'to' is before 'from'."})
    numbers: dict[str, Any] = headline_measures(
        first,
        last + timedelta(days=1),
        agent_id=agent.id if agent else None,
        team_id=team.id if team else None,
    ).to_dict()
    return {
        "scope": {
            "agent": agent.slug if agent else None,
            "team": {"id": team.id, "name": team.name} if team else None,
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
        **numbers,
    }
