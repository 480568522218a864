"""The registry services as the JSON API calls them: partial updates, owners by email, the signal."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents import services
from portal.agents.models import Agent, Lifecycle, ReportCategory, RoutingRule
from portal.agents.services import AgentError, AgentFields
from portal.core.db import db


@pytest.fixture
def people(app, make_user):
    return {
        "admin": make_user("admin", email="admin@reg.example.com"),
        "olivia": make_user("owner", email="olivia@reg.example.com", name="Olivia"),
        "theo": make_user("owner", email="theo@reg.example.com", name="Theo"),
    }


def attached(user: User) -> User:
    return db.session.get(User, user.id)


def test_create_with_owners_by_email_and_the_api_shape(app, people):
    with app.app_context():
        agent = services.create_agent(
            {
                "slug": "ledger-bot",
                "name": "Ledger Bot",
                "version": "0.1",
                "lifecycle": "pilot",
                "technical_owner": services.resolve_owner_email("THEO@reg.example.com "),
                "routing": {"unsafe": services.resolve_owner_email("olivia@reg.example.com")},
                "thresholds": {"quality_min_pct": 97.5, "satisfaction_min": "4.2"},
            },
            by=attached(people["admin"]),
        )
        db.session.commit()
        shown = services.agent_to_dict(agent)
    assert shown["technical_owner"] == "theo@reg.example.com"
    assert shown["business_owner"] is None  # an admin does not become business owner
    assert shown["routing"] == {"unsafe": "olivia@reg.example.com"}
    assert shown["thresholds"] == {
        "quality_min_pct": 97.5,
        "safety_max_per_1000": None,
        "cost_max_per_unit": None,
        "satisfaction_min": 4.2,
    }


def test_resolve_owner_email_refuses_unknown_and_deactivated(app, people):
    with app.app_context():
        with pytest.raises(AgentError, match="No account has the email") as unknown:
            services.resolve_owner_email("nobody@reg.example.com", "technical_owner")
        assert unknown.value.field == "technical_owner"
        attached(people["theo"]).is_active_account = False
        db.session.flush()
        with pytest.raises(AgentError, match="deactivated"):
            services.resolve_owner_email("theo@reg.example.com", "business_owner")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "renamed"}, "slug"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Null\x00byte"}, "name"),
        ({"description": "lone \ud800 surrogate"}, "description"),
        ({"version": 3}, "version"),
        ({"lifecycle": "launched"}, "lifecycle"),
        ({"business_owner": 10**9}, "business_owner"),
        ({"technical_owner": "theo"}, "technical_owner"),
        ({"routing": {"made_up": None}}, "routing"),
        ({"routing": {"unsafe": 10**9}}, "routing.unsafe"),
        ({"quality_min_pct": True}, "quality_min_pct"),
        ({"quality_min_pct": float("inf")}, "quality_min_pct"),
        ({"safety_max_per_1000": "1e9"}, "safety_max_per_1000"),
        ({"thresholds": {"speed": 1}}, "thresholds.speed"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_rule_violations_name_the_field_and_change_nothing(app, people, make_agent, change, field):
    make_agent("ledger-bot", name="Ledger Bot", version="1.0.0", owner=people["theo"])
    with app.app_context():
        agent = services.get_agent_by_slug("ledger-bot")
        with pytest.raises(AgentError) as refused:
            services.update_agent(
                agent, {"version": "9.9.9", **change}, by=attached(people["admin"])
            )
        assert refused.value.field == field
        assert str(refused.value)
        db.session.commit()  # even a commit after the refusal stores nothing
        db.session.expire_all()
        stored = services.get_agent_by_slug("ledger-bot")
        assert (stored.name, stored.version) == ("Ledger Bot", "1.0.0")


def test_partial_update_changes_only_what_is_given(app, people, make_agent):
    make_agent(
        "ledger-bot",
        name="Ledger Bot",
        owner=people["theo"],
        lifecycle=Lifecycle.PILOT,
        quality_min_pct=Decimal("90"),
    )
    with app.app_context():
        agent = services.get_agent_by_slug("ledger-bot")
        services.update_agent(
            agent,
            AgentFields(lifecycle=Lifecycle.PRODUCTION, cost_max_per_unit="0.05"),
            by=attached(people["theo"]),
        )
        db.session.commit()
        db.session.expire_all()
        agent = services.get_agent_by_slug("ledger-bot")
        assert agent.lifecycle is Lifecycle.PRODUCTION
        assert agent.cost_max_per_unit == Decimal("0.05")
        assert agent.quality_min_pct == Decimal("90")  # untouched
        assert agent.technical_owner_id == people["theo"].id
        assert agent.name == "Ledger Bot"


def test_routing_is_replaced_as_a_whole_without_tripping_the_unique_key(app, people, make_agent):
    make_agent("ledger-bot", owner=people["theo"])
    olivia, theo = people["olivia"], people["theo"]
    with app.app_context():
        agent = services.get_agent_by_slug("ledger-bot")
        by = attached(people["admin"])
        services.update_agent(agent, {"routing": {"unsafe": olivia.id, "concern": theo.id}}, by=by)
        db.session.commit()
        services.update_agent(agent, {"routing": {"unsafe": theo.id, "usability": olivia}}, by=by)
        db.session.commit()
        rules = db.session.execute(
            sa.text("SELECT category, owner_id FROM routing_rules ORDER BY category")
        ).all()
        assert [tuple(r) for r in rules] == [("unsafe", theo.id), ("usability", olivia.id)]
        assert services.suggest_owner(agent, ReportCategory.CONCERN).id == theo.id  # fallback


def test_version_change_sends_the_signal_with_old_and_new_versions(app, people, make_agent):
    make_agent("ledger-bot", version="1.0.0", owner=people["theo"])
    received = []

    def on_version_changed(sender, **kwargs):
        # Sent after the flush: the new version is already in the database.
        stored = db.session.scalar(sa.text("SELECT version FROM agents WHERE slug = 'ledger-bot'"))
        received.append((sender.slug, kwargs["old_version"], kwargs["new_version"], stored))
        received.append(kwargs["by"].id)

    services.agent_version_changed.connect(on_version_changed)
    try:
        with app.app_context():
            agent = services.get_agent_by_slug("ledger-bot")
            theo = attached(people["theo"])
            services.update_agent(agent, {"name": "Same version"}, by=theo)
            services.update_agent(agent, {"version": "1.0.0"}, by=theo)
            assert received == []  # no change, no signal
            services.update_agent(agent, {"version": "1.1.0"}, by=theo)
    finally:
        services.agent_version_changed.disconnect(on_version_changed)
    assert received == [("ledger-bot", "1.0.0", "1.1.0", "1.1.0"), people["theo"].id]


def test_version_change_through_the_edit_page_sends_the_signal(
    app, client, login, people, make_agent
):
    from tests.agents.conftest import registry_form

    make_agent("ledger-bot", name="Ledger Bot", version="1.0.0", owner=people["theo"])
    received = []

    def on_version_changed(sender, **kwargs):
        received.append((kwargs["old_version"], kwargs["new_version"], kwargs["by"].id))

    services.agent_version_changed.connect(on_version_changed)
    try:
        login(people["theo"])
        response = client.post(
            "/agents/ledger-bot/edit",
            data=registry_form(
                name="Ledger Bot", version="2.0.0", technical_owner=people["theo"].id
            ),
        )
    finally:
        services.agent_version_changed.disconnect(on_version_changed)
    assert response.status_code == 302
    assert received == [("1.0.0", "2.0.0", people["theo"].id)]


def test_owner_role_creator_becomes_business_owner_through_the_service(app, people):
    with app.app_context():
        agent = services.create_agent(
            AgentFields(slug="olivias-bot", name="Olivia's Bot", version="1"),
            by=attached(people["olivia"]),
        )
        assert agent.business_owner_id == people["olivia"].id
        assert agent.lifecycle is Lifecycle.PILOT
        assert agent.can_manage(attached(people["olivia"]))


def test_create_requires_slug_name_and_version(app, people):
    with app.app_context():
        for missing in ("slug", "name", "version"):
            fields = {"slug": "ok-slug", "name": "OK", "version": "1"}
            del fields[missing]
            with pytest.raises(AgentError) as refused:
                services.create_agent(fields, by=attached(people["admin"]))
            assert refused.value.field == missing
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Agent)) == 0


def test_duplicate_slug_is_refused_by_the_service(app, people, make_agent):
    make_agent("ledger-bot")
    with app.app_context():
        with pytest.raises(AgentError, match="already exists") as refused:
            services.create_agent(
                {"slug": "ledger-bot", "name": "Again", "version": "1"},
                by=attached(people["admin"]),
            )
        assert refused.value.field == "slug"


def test_listing_for_the_api_runs_the_same_statements_for_3_and_30_agents(
    app, people, make_agent, count_statements
):
    def add_agents(start: int, stop: int) -> None:
        for n in range(start, stop):
            make_agent(
                f"agent-{n:02d}",
                owner=people["theo"],
                business_owner_id=people["olivia"].id,
                routing_rules=[
                    RoutingRule(category=ReportCategory.UNSAFE, owner_id=people["admin"].id),
                    RoutingRule(category=ReportCategory.CONCERN, owner_id=people["olivia"].id),
                ],
            )

    counts = []
    for start, stop in ((0, 3), (3, 30)):
        add_agents(start, stop)
        with app.app_context(), count_statements() as statements:
            listed = [services.agent_to_dict(agent) for agent in services.list_agents()]
        assert len(listed) == stop
        assert listed[-1]["routing"] == {
            "concern": "olivia@reg.example.com",
            "unsafe": "admin@reg.example.com",
        }
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 3
