"""Who sees which dashboard: managers and admins every agent, owners their own, nobody else."""

import pytest

from tests.dashboards.conftest import WINDOW

CHART_TITLE = "Closed-loop rate"


@pytest.mark.parametrize("role", [None, "trainee", "triage"])
def test_reporters_trainees_and_triage_are_refused(client, login, make_user, world, role):
    login(make_user(*([role] if role else [])))
    for url in (
        "/dashboards/",
        "/dashboards/agents/alpha",
        "/dashboards/charts/closed_loop.csv?agent=alpha",
        "/dashboards/charts/closed_loop.csv",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Closed-loop rate" not in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/dashboards/agents/alpha")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_owner_sees_their_agent_and_not_another(client, login, world):
    login(world.owner)
    page = client.get("/dashboards/agents/alpha", query_string=WINDOW)
    assert page.status_code == 200
    assert "Alpha Assistant" in page.get_data(as_text=True)
    assert client.get("/dashboards/charts/closed_loop.csv?agent=alpha").status_code == 200

    other = client.get("/dashboards/agents/beta")
    assert other.status_code == 403
    assert "Beta Bot" not in other.get_data(as_text=True)
    assert client.get("/dashboards/charts/closed_loop.csv?agent=beta").status_code == 403
    # Choosing the other agent in the filters, or asking for every agent's numbers, is refused too.
    assert client.get("/dashboards/?agent=beta").status_code == 403
    assert client.get("/dashboards/charts/closed_loop.csv").status_code == 403


def test_an_owners_overview_lists_only_their_agents(client, login, world):
    login(world.owner)
    page = client.get("/dashboards/", query_string=WINDOW).get_data(as_text=True)
    assert "Your agents at a glance" in page
    assert "Alpha Assistant" in page
    assert "Beta Bot" not in page
    # No all-agents charts for an owner: they would include other owners' agents.
    assert 'data-figure="chart-closed_loop-figure"' not in page


def test_choosing_an_agent_opens_its_page_with_the_same_filters(client, login, world):
    login(world.owner)
    response = client.get("/dashboards/", query_string={**WINDOW, "agent": "alpha", "team": ""})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboards/agents/alpha?")
    assert "from=2026-07-01" in response.headers["Location"]


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_managers_and_admins_see_every_agent(client, login, make_user, world, who):
    person = world.manager if who == "manager" else make_user("admin")
    login(person)
    overview = client.get("/dashboards/", query_string=WINDOW).get_data(as_text=True)
    assert "Agents at a glance" in overview
    assert "Alpha Assistant" in overview and "Beta Bot" in overview
    assert 'data-figure="chart-closed_loop-figure"' in overview
    for slug in ("alpha", "beta"):
        assert client.get(f"/dashboards/agents/{slug}", query_string=WINDOW).status_code == 200


def test_unknown_agent_and_chart_are_not_found(client, login, world):
    login(world.manager)
    assert client.get("/dashboards/agents/nobody").status_code == 404
    assert client.get("/dashboards/agents/NOT a slug").status_code == 404
    assert client.get("/dashboards/charts/nothing.csv").status_code == 404
    assert client.get("/dashboards/?agent=nobody").status_code == 404


def test_dashboards_appear_in_the_navigation_for_those_who_may_see_them(client, login, make_user):
    login(make_user("owner"))
    assert 'href="/dashboards/"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(make_user("triage"))
    assert 'href="/dashboards/"' not in client.get("/").get_data(as_text=True)
