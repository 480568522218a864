"""Registering and editing agents through the pages: who may, validation, and the fixed slug."""

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.models import Agent, Lifecycle, ReportCategory
from portal.core.db import db
from tests.agents.conftest import registry_form


def stored_agent(app, slug: str) -> Agent | None:
    with app.app_context():
        agent = db.session.scalar(sa.select(Agent).where(Agent.slug == slug))
        if agent is not None:
            _ = agent.routing_rules  # load before leaving the session
            db.session.expunge_all()
        return agent


def agent_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Agent))


def test_admin_registers_an_agent_with_owners_routing_and_thresholds(app, client, login, make_user):
    admin = make_user("admin")
    business, technical = make_user("owner", name="Bo Business"), make_user("owner")
    login(admin)
    form_page = client.get("/agents/new")
    assert form_page.status_code == 200
    for label in ("Slug", "Name", "Current version", "Lifecycle", "Business owner",
                  "Technical owner", "Governance owner", "Unsafe or policy violation",
                  "Quality (minimum)", "Safety (maximum)", "Efficiency (maximum)",
                  "User satisfaction (minimum)"):  # fmt: skip
        assert f">{label}</label>" in form_page.text, label

    response = client.post(
        "/agents/new",
        data=registry_form(
            lifecycle="production",
            business_owner=business.id,
            technical_owner=technical.id,
            **{"routing-unsafe": business.id},
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/agents/refund-helper"
    page = client.get("/agents/refund-helper").get_data(as_text=True)
    assert "Refund Helper is registered." in page and "Bo Business" in page

    agent = stored_agent(app, "refund-helper")
    assert agent.lifecycle is Lifecycle.PRODUCTION
    assert (agent.business_owner_id, agent.technical_owner_id) == (business.id, technical.id)
    assert agent.governance_owner_id is None
    assert [(r.category, r.owner_id) for r in agent.routing_rules] == [
        (ReportCategory.UNSAFE, business.id)
    ]
    assert str(agent.quality_min_pct.normalize()) == "95"
    assert str(agent.satisfaction_min.normalize()) == "4"


def test_owner_who_leaves_business_owner_empty_becomes_it(app, client, login, make_user):
    owner = make_user("owner")
    login(owner)
    assert "Leave the business owner empty and you become it." in client.get("/agents/new").text
    response = client.post("/agents/new", data=registry_form())
    assert response.status_code == 302
    assert stored_agent(app, "refund-helper").business_owner_id == owner.id
    # ...and so may edit what they registered.
    assert client.get("/agents/refund-helper/edit").status_code == 200


def test_owner_who_names_another_business_owner_keeps_that_choice(app, client, login, make_user):
    colleague = make_user("owner")
    login(make_user("owner"))
    client.post("/agents/new", data=registry_form(business_owner=colleague.id))
    assert stored_agent(app, "refund-helper").business_owner_id == colleague.id


def test_thresholds_are_optional_and_show_as_not_set(app, client, login, make_user):
    login(make_user("admin"))
    blank = dict.fromkeys(
        ("quality_min_pct", "safety_max_per_1000", "cost_max_per_unit", "satisfaction_min"), ""
    )
    assert client.post("/agents/new", data=registry_form(**blank)).status_code == 302
    agent = stored_agent(app, "refund-helper")
    assert agent.quality_min_pct is None and agent.satisfaction_min is None
    page = client.get("/agents/refund-helper").text
    thresholds = page.split('id="thresholds-heading"')[1].split("</table>")[0]
    assert thresholds.count("Not set") == 4


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("slug", "Refund_Helper", "Use lowercase letters, digits and hyphens only"),
        ("slug", "x", "Field must be between 2 and 64 characters long."),
        ("slug", "new", "reserved by the portal"),
        ("name", "", "Give the agent&#39;s name."),
        ("version", "", "Give the current version."),
        ("quality_min_pct", "101", "Quality: give a number from 0 to 100."),
        ("quality_min_pct", "ninety", "Quality: give a number."),
        ("safety_max_per_1000", "-1", "Safety: give a number of 0 or more"),
        ("cost_max_per_unit", "NaN", "Efficiency: give a finite number."),
        ("cost_max_per_unit", "0.123456", "Efficiency: use at most 4 decimal places."),
        ("satisfaction_min", "0.5", "User satisfaction: give a number from 1 to 5."),
        ("lifecycle", "launched", "Not a valid choice."),
        ("technical_owner", "999999", "Not a valid choice."),
        ("routing-unsafe", "999999", "Not a valid choice."),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(
    app, client, login, make_user, field, typed, message
):
    login(make_user("admin"))
    response = client.post("/agents/new", data=registry_form(**{field: typed}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page
    assert message in page.split(f'id="{field}-error"')[1].split("</div>")[0]
    assert "Please correct the problem marked below." in page
    # What was typed is kept: the other fields and the bad one.
    assert "Suggests refund amounts for disputed orders." in page
    if field not in ("lifecycle", "technical_owner", "routing-unsafe") and typed:
        assert f'value="{typed}"' in page
    assert agent_count(app) == 0


def test_slug_must_be_unique(app, client, login, make_user, make_agent):
    make_agent("refund-helper", name="The first one")
    login(make_user("admin"))
    response = client.post("/agents/new", data=registry_form(name="The second one"))
    assert response.status_code == 400
    assert "An agent with the slug &#39;refund-helper&#39; already exists." in response.text
    assert 'value="The second one"' in response.text
    assert agent_count(app) == 1


def test_a_deactivated_person_cannot_be_made_owner(app, client, login, make_user):
    gone = make_user("owner", name="Gone Person")
    with app.app_context():
        db.session.get(User, gone.id).is_active_account = False
        db.session.commit()
    login(make_user("admin"))
    page = client.get("/agents/new").text
    assert "Gone Person" not in page  # not offered
    response = client.post("/agents/new", data=registry_form(technical_owner=gone.id))
    assert response.status_code == 400
    assert agent_count(app) == 0


@pytest.mark.parametrize("role", ("reporter", "trainee", "triage", "manager"))
def test_people_without_owner_or_admin_role_cannot_register(app, client, login, make_user, role):
    login(make_user(role))
    assert client.get("/agents/new").status_code == 403
    response = client.post("/agents/new", data=registry_form())
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert agent_count(app) == 0


@pytest.mark.parametrize("role", ("reporter", "trainee", "triage", "manager", "owner"))
def test_people_who_do_not_own_the_agent_cannot_edit_it(
    app, client, login, make_user, make_agent, role
):
    make_agent("refund-helper", name="Refund Helper", owner=make_user("owner"))
    login(make_user(role))
    assert client.get("/agents/refund-helper/edit").status_code == 403
    response = client.post(
        "/agents/refund-helper/edit", data=registry_form(name="Hijacked", version="6.6.6")
    )
    assert response.status_code == 403
    agent = stored_agent(app, "refund-helper")
    assert (agent.name, agent.version) == ("Refund Helper", "1.0.0")


def test_owner_of_x_can_edit_x_but_not_y(app, browser_as, make_user, make_agent):
    olivia = make_user("owner")
    make_agent("agent-x", name="Agent X", owner=olivia)
    make_agent("agent-y", name="Agent Y", owner=make_user("owner"))
    browser = browser_as(olivia)

    assert browser.get("/agents/agent-y/edit").status_code == 403
    refused = browser.post("/agents/agent-y/edit", data=registry_form(name="Mine now"))
    assert refused.status_code == 403
    assert stored_agent(app, "agent-y").name == "Agent Y"

    edit_page = browser.get("/agents/agent-x/edit")
    assert edit_page.status_code == 200 and 'value="Agent X"' in edit_page.text
    done = browser.post(
        "/agents/agent-x/edit",
        data=registry_form(name="Agent X, renamed", technical_owner=olivia.id),
    )
    assert done.status_code == 302
    assert "Agent X, renamed is updated." in browser.get("/agents/agent-x").text
    assert stored_agent(app, "agent-x").name == "Agent X, renamed"


def test_admin_edits_and_the_slug_stays_fixed(app, client, login, make_user, make_agent):
    make_agent("refund-helper", name="Refund Helper")
    login(make_user("admin"))
    page = client.get("/agents/refund-helper/edit").text
    assert 'name="slug"' not in page and "Fixed after registration" in page
    response = client.post(
        "/agents/refund-helper/edit",
        data=registry_form(slug="sneaky-new-slug", lifecycle="retired"),
    )
    assert response.status_code == 302
    assert stored_agent(app, "sneaky-new-slug") is None
    assert stored_agent(app, "refund-helper").lifecycle is Lifecycle.RETIRED


def test_edit_form_starts_from_the_stored_agent(app, client, login, make_user, make_agent):
    from decimal import Decimal

    owner = make_user("owner", name="Olive Owner")
    make_agent("refund-helper", owner=owner, cost_max_per_unit=Decimal("0.1234"))
    login(owner)
    page = client.get("/agents/refund-helper/edit").text
    assert f'<option selected value="{owner.id}">Olive Owner' in page
    assert 'value="0.1234"' in page  # all four decimals, not rounded for display


def test_edit_errors_keep_the_typed_text_and_change_nothing(
    app, client, login, make_user, make_agent
):
    make_agent("refund-helper", name="Refund Helper", version="1.0.0")
    login(make_user("admin"))
    response = client.post(
        "/agents/refund-helper/edit",
        data=registry_form(name="Better name", version="2.0.0", satisfaction_min="7"),
    )
    assert response.status_code == 400
    assert 'value="Better name"' in response.text and 'value="7"' in response.text
    agent = stored_agent(app, "refund-helper")
    assert (agent.name, agent.version) == ("Refund Helper", "1.0.0")


def test_a_deactivated_owner_can_stay_while_other_fields_change(
    app, client, login, make_user, make_agent
):
    gone = make_user("owner", name="Gone Person")
    make_agent("refund-helper", owner=gone)
    with app.app_context():
        db.session.get(User, gone.id).is_active_account = False
        db.session.commit()
    login(make_user("admin"))
    page = client.get("/agents/refund-helper/edit").text
    assert "Gone Person" in page and "deactivated" in page
    response = client.post(
        "/agents/refund-helper/edit",
        data=registry_form(name="Renamed", technical_owner=gone.id),
    )
    assert response.status_code == 302
    agent = stored_agent(app, "refund-helper")
    assert (agent.name, agent.technical_owner_id) == ("Renamed", gone.id)


def test_editing_a_missing_agent_is_404(client, login, make_user):
    login(make_user("admin"))
    assert client.get("/agents/nothing-here/edit").status_code == 404
    assert client.post("/agents/nothing-here/edit", data=registry_form()).status_code == 404


def test_registry_form_carries_a_csrf_token(app, make_user):
    from tests.conftest import PASSWORD, csrf_token_from

    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    admin = make_user("admin")
    login_page = browser.get("/login").text
    browser.post(
        "/login",
        data={
            "email": admin.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(login_page),
        },
    )
    page = browser.get("/agents/new").text
    token = csrf_token_from(page)
    assert browser.post("/agents/new", data=registry_form()).status_code == 400  # no token
    assert agent_count(app) == 0
    response = browser.post("/agents/new", data={**registry_form(), "csrf_token": token})
    assert response.status_code == 302
