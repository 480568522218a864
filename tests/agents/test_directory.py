"""The agent directory and an agent's page: what every signed-in person sees."""

from decimal import Decimal

import pytest

from portal.agents.models import Lifecycle, ReportCategory, RoutingRule
from portal.core.db import db

ROLES = ("reporter", "trainee", "triage", "owner", "manager", "admin")


@pytest.fixture
def support_bot(make_user, make_agent):
    business = make_user("owner", name="Bea Business")
    technical = make_user("owner", name="Tess Technical")
    governance = make_user("owner", "manager", name="Gil Governance")
    agent = make_agent(
        "support-bot",
        name="Support Bot",
        description="Drafts replies to customer emails.",
        version="2.3.0",
        lifecycle=Lifecycle.PAUSED,
        owner=technical,
        business_owner_id=business.id,
        governance_owner_id=governance.id,
        quality_min_pct=Decimal("92.00"),
        safety_max_per_1000=Decimal("0.5"),
        cost_max_per_unit=Decimal("0.3500"),
    )
    return {"agent": agent, "business": business, "technical": technical, "governance": governance}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_directory_with_lifecycle_version_and_owners(
    client, login, make_user, support_bot, role
):
    login(make_user(role))
    response = client.get("/agents/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Support Bot" in page
    assert "Drafts replies to customer emails." in page
    assert 'class="badge text-white lifecycle-paused">Paused<' in page
    assert "Version 2.3.0" in page
    for name in ("Bea Business", "Tess Technical", "Gil Governance"):
        assert name in page


def test_directory_needs_sign_in(client, support_bot):
    response = client.get("/agents/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_search_and_lifecycle_filter(client, login, make_user, make_agent):
    make_agent("claims", name="Claims Triage", description="Reads insurance claims.")
    make_agent("invoices", name="Invoice Matcher", description="Matches invoices.")
    make_agent("old-faq", name="FAQ Bot", lifecycle=Lifecycle.RETIRED, description="Old FAQ.")
    login(make_user())

    page = client.get("/agents/?q=insurance").get_data(as_text=True)
    assert "Claims Triage" in page and "Invoice Matcher" not in page
    assert "1 agent found" in page

    page = client.get("/agents/?q=MATCH").get_data(as_text=True)
    assert "Invoice Matcher" in page and "Claims Triage" not in page

    page = client.get("/agents/?lifecycle=retired").get_data(as_text=True)
    assert "FAQ Bot" in page and "Claims Triage" not in page
    assert '<option value="retired" selected>' in page

    # LIKE wildcards are searched for literally, an unknown lifecycle shows everything.
    page = client.get("/agents/?q=%25").get_data(as_text=True)
    assert "No agents match" in page
    page = client.get("/agents/?lifecycle=bogus").get_data(as_text=True)
    assert "3 agents" in page


def test_empty_directory_explains_itself(client, login, make_user):
    login(make_user("owner"))
    page = client.get("/agents/").get_data(as_text=True)
    assert "No agents registered yet" in page
    assert 'href="/agents/new"' in page


def test_register_button_only_for_owners_and_admins(app, browser_as, make_user, make_agent):
    make_agent()
    assert "Register an agent" not in browser_as(make_user("triage")).get("/agents/").text
    assert "Register an agent" in browser_as(make_user("owner")).get("/agents/").text
    assert "Register an agent" in browser_as(make_user("admin")).get("/agents/").text


def test_directory_runs_the_same_number_of_statements_for_3_and_30_agents(
    client, login, make_user, make_agent, count_statements
):
    people = [make_user("owner") for _ in range(6)]

    def add_agents(start: int, stop: int) -> None:
        for n in range(start, stop):
            make_agent(
                f"agent-{n:02d}",
                name=f"Agent {n:02d}",
                owner=people[n % 6],
                business_owner_id=people[(n + 1) % 6].id,
                governance_owner_id=people[(n + 2) % 6].id,
                routing_rules=[
                    RoutingRule(category=ReportCategory.UNSAFE, owner_id=people[(n + 3) % 6].id)
                ],
            )

    login(make_user())
    add_agents(0, 3)
    with count_statements() as few:
        assert client.get("/agents/").status_code == 200
    add_agents(3, 30)
    with count_statements() as many:
        page = client.get("/agents/").get_data(as_text=True)
    assert "Agent 29" in page and "30 agents" in page
    assert len(many) == len(few), many
    assert len(few) <= 8, "\n".join(s.split("\n")[0][:90] for s in few)


def test_agent_page_shows_owners_thresholds_with_units_and_routing(
    app, client, login, make_user, support_bot
):
    agent = support_bot["agent"]
    with app.app_context():
        db.session.add(
            RoutingRule(
                agent_id=agent.id,
                category=ReportCategory.UNSAFE,
                owner_id=support_bot["governance"].id,
            )
        )
        db.session.commit()
    login(make_user("reporter"))
    response = client.get("/agents/support-bot")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Drafts replies to customer emails." in page
    assert "Version 2.3.0" in page and "Paused" in page
    assert "Business owner" in page and "Bea Business" in page
    # Thresholds read as people say them, with their units; the missing one is "Not set".
    assert "at least <strong>92</strong>" in page
    assert "% of outputs meeting the accuracy standard" in page
    assert "at most <strong>0.5</strong>" in page
    assert "policy violations or escalations per 1,000 runs" in page
    assert "at most <strong>0.35</strong>" in page and "cost per unit of work" in page
    assert "survey score (1-5)" in page and "Not set" in page
    # Routing: the rule's owner, and the fallback for every other category.
    unsafe_row = page.split("Unsafe or policy violation")[1].split("</tr>")[0]
    assert "Gil Governance" in unsafe_row
    usability_row = page.split("Hard to use")[1].split("</tr>")[0]
    assert "Fallback: technical owner (Tess Technical)" in usability_row
    assert 'href="/report?agent=support-bot"' in page
    assert "/agents/support-bot/edit" not in page  # a reporter may not edit


def test_edit_button_shows_for_the_agents_owner_and_admin_only(browser_as, make_user, support_bot):
    owner_page = browser_as(support_bot["business"]).get("/agents/support-bot").text
    admin_page = browser_as(make_user("admin")).get("/agents/support-bot").text
    other_owner_page = browser_as(make_user("owner")).get("/agents/support-bot").text
    assert "/agents/support-bot/edit" in owner_page
    assert "/agents/support-bot/edit" in admin_page
    assert "/agents/support-bot/edit" not in other_owner_page


def test_unknown_agent_page_is_404(client, login, make_user):
    login(make_user())
    response = client.get("/agents/no-such-agent")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
