"""The overview's "agents at a glance" reads every agent's figures from grouped queries, and shows
exactly what each agent's own scorecard shows."""

from datetime import date

from portal.agents.models import Agent
from portal.core.db import db
from portal.dashboards import services
from portal.governance import services as governance
from tests.dashboards.conftest import WINDOW


def test_each_agents_line_is_its_own_scorecard(app, world):
    with app.app_context():
        agents = list(db.session.scalars(db.select(Agent).order_by(Agent.id)))
        scope = services.make_scope(date(2026, 7, 1), date(2026, 9, 30))
        glances = services.agents_at_a_glance(agents, scope, services.figures_of(scope))
        assert [glance.agent.slug for glance in glances] == [agent.slug for agent in agents]
        for glance in glances:
            own = governance.scorecard(glance.agent, scope.start, scope.end)
            assert [
                (line.spec.name, line.status, line.measured, line.basis) for line in glance.lines
            ] == [(line.spec.name, line.status, line.measured, line.basis) for line in own]
            headline = governance.measure(glance.agent, scope.start, scope.end)["headline"]
            rate = None if glance.closed_loop_rate is None else round(glance.closed_loop_rate, 4)
            assert rate == headline["closed_loop_rate"]
        alpha = glances[0]
        # Alpha (conftest): 7 non-duplicate reports filed, 4 closed loops (r7 was not told).
        assert alpha.closed_loop_rate == 4 / 7
        statuses = {line.spec.name: line.status for line in alpha.lines}
        assert statuses["quality_min_pct"] == governance.Status.MET  # 93 % weighted >= 92


def test_more_agents_cost_no_more_statements(
    app, client, login, world, make_agent, count_statements
):
    login(world.manager)

    def overview_statements() -> int:
        response, statements = count_statements(
            lambda: client.get("/dashboards/", query_string=WINDOW)
        )
        assert response.status_code == 200
        return statements

    before = overview_statements()
    for n in range(12):
        make_agent(f"extra-{n}", name=f"Extra Agent {n:02d}")
    after = overview_statements()
    page = client.get("/dashboards/", query_string=WINDOW).get_data(as_text=True)
    assert "Extra Agent 11" in page
    assert after == before
