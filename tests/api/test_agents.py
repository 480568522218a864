"""The agent registry through the API: read by everyone, registered by admins, changed by owners."""

import json

import pytest
import sqlalchemy as sa

from portal.agents.models import Agent, RoutingRule
from portal.agents.services import agent_version_changed
from portal.core.db import db

NEW_AGENT = {
    "slug": "refund-helper",
    "name": "Refund Helper",
    "description": "Suggests refunds.\nA person approves each one.",
    "version": "1.0.0",
    "lifecycle": "pilot",
    "business_owner": "biz@example.com",
    "technical_owner": "tech@example.com",
    "governance_owner": None,
    "routing": {"unsafe": "biz@example.com"},
    "thresholds": {
        "quality_min_pct": 95,
        "safety_max_per_1000": "0.5",
        "cost_max_per_unit": 0.25,
        "satisfaction_min": 4,
    },
}


def _agents(app) -> list[Agent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Agent).order_by(Agent.slug)))
        db.session.expunge_all()
        return rows


def _agent_row_text(app, slug: str) -> str:
    """The agent's stored columns and routing, to show that a refused change left nothing behind."""
    with app.app_context():
        agent = db.session.scalar(sa.select(Agent).where(Agent.slug == slug))
        rules = db.session.execute(
            sa.select(RoutingRule.category, RoutingRule.owner_id).where(
                RoutingRule.agent_id == agent.id
            )
        ).all()
        columns = {c.key: getattr(agent, c.key) for c in sa.inspect(Agent).column_attrs}
        columns.pop("updated_at")
        return repr((columns, sorted(rules)))


@pytest.fixture
def people(make_user):
    return {
        "admin": make_user("admin", email="admin@example.com"),
        "biz": make_user("owner", email="biz@example.com", name="Bea Business"),
        "tech": make_user("owner", email="tech@example.com"),
        "reporter": make_user(email="reporter@example.com"),
    }


def test_everyone_with_a_token_lists_and_reads_agents(api, people, make_agent):
    make_agent("support-bot", owner=people["tech"], name="Support Bot", version="2.1")
    make_agent("claims-bot", name="Claims Bot")
    client = api(people["reporter"])

    response = client.get("/api/v1/agents")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert [item["slug"] for item in body["items"]] == ["claims-bot", "support-bot"]

    one = client.get("/api/v1/agents/support-bot").get_json()
    assert one["name"] == "Support Bot" and one["version"] == "2.1"
    assert one["technical_owner"] == "tech@example.com"
    assert one["lifecycle"] == "production"
    assert set(one["thresholds"]) == {
        "quality_min_pct",
        "safety_max_per_1000",
        "cost_max_per_unit",
        "satisfaction_min",
    }

    filtered = client.get("/api/v1/agents?lifecycle=production&search=support").get_json()
    assert [item["slug"] for item in filtered["items"]] == ["support-bot"]
    bad_filter = client.get("/api/v1/agents?lifecycle=sleeping")
    assert bad_filter.status_code == 422 and "lifecycle" in bad_filter.get_json()["fields"]


@pytest.mark.parametrize("slug", ["no-such-agent", "new", "BAD%00SLUG", "x" * 300])
def test_unknown_agent_is_a_json_404(api, people, slug):
    response = api(people["reporter"]).get(f"/api/v1/agents/{slug}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is no agent with this slug.", "fields": {}}


def test_admin_registers_an_agent(app, api, people):
    response = api(people["admin"]).post("/api/v1/agents", json=NEW_AGENT)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == "/api/v1/agents/refund-helper"
    assert body["slug"] == "refund-helper" and body["lifecycle"] == "pilot"
    assert body["business_owner"] == "biz@example.com"
    assert body["governance_owner"] is None
    assert body["routing"] == {"unsafe": "biz@example.com"}
    assert body["thresholds"]["safety_max_per_1000"] == 0.5
    assert body["description"] == NEW_AGENT["description"]
    [agent] = _agents(app)
    assert agent.name == "Refund Helper" and agent.business_owner_id == people["biz"].id


@pytest.mark.parametrize("who", ["reporter", "biz"])
def test_only_admins_register_agents_through_the_api(app, api, people, who):
    response = api(people[who]).post("/api/v1/agents", json=NEW_AGENT)
    assert response.status_code == 403
    assert response.is_json and response.get_json()["error"]
    assert _agents(app) == []


def test_owner_patches_their_agent_and_a_new_version_is_announced(app, api, people, make_agent):
    make_agent("support-bot", owner=people["tech"], version="2.1")
    seen = []

    def remember(agent, **kwargs):
        seen.append((agent.slug, kwargs["old_version"], kwargs["new_version"], kwargs["by"].id))

    agent_version_changed.connect(remember)
    try:
        response = api(people["tech"]).patch(
            "/api/v1/agents/support-bot",
            json={"version": "2.2", "thresholds": {"quality_min_pct": 90}},
        )
    finally:
        agent_version_changed.disconnect(remember)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == "2.2"
    assert body["thresholds"]["quality_min_pct"] == 90.0
    assert body["technical_owner"] == "tech@example.com"  # fields not sent stay
    assert seen == [("support-bot", "2.1", "2.2", people["tech"].id)]
    assert _agents(app)[0].version == "2.2"


def test_admin_patches_any_agent_and_can_clear_an_owner(app, api, people, make_agent):
    make_agent("support-bot", owner=people["tech"])
    response = api(people["admin"]).patch(
        "/api/v1/agents/support-bot", json={"technical_owner": None, "lifecycle": "paused"}
    )
    assert response.status_code == 200
    assert response.get_json()["technical_owner"] is None
    agent = _agents(app)[0]
    assert agent.technical_owner_id is None and agent.lifecycle.value == "paused"


@pytest.mark.parametrize("who", ["reporter", "biz"])
def test_others_cannot_patch_an_agent(app, api, people, make_agent, who):
    make_agent("support-bot", owner=people["tech"], version="2.1")
    before = _agent_row_text(app, "support-bot")
    response = api(people[who]).patch("/api/v1/agents/support-bot", json={"version": "9"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "Only admins and this agent's owners may change it."
    assert _agent_row_text(app, "support-bot") == before


BAD_NEW_AGENTS = [
    # (description, body, status, field named)
    ("unknown field", {**NEW_AGENT, "colour": "blue"}, 422, "colour"),
    ("missing slug", {k: v for k, v in NEW_AGENT.items() if k != "slug"}, 422, "slug"),
    ("number as name", {**NEW_AGENT, "name": 42}, 422, "name"),
    ("unknown lifecycle", {**NEW_AGENT, "lifecycle": "sleeping"}, 422, "lifecycle"),
    ("bad slug", {**NEW_AGENT, "slug": "Refund Helper!"}, 422, "slug"),
    ("too long name", {**NEW_AGENT, "name": "n" * 5000}, 422, "name"),
    ("NUL in name", {**NEW_AGENT, "name": "Refund\u0000Helper"}, 422, "name"),
    (
        "NUL in owner email",
        {**NEW_AGENT, "business_owner": "biz\u0000@example.com"},
        422,
        "business_owner",
    ),
    (
        "unknown owner",
        {**NEW_AGENT, "technical_owner": "ghost@example.com"},
        422,
        "technical_owner",
    ),
    ("owner as number", {**NEW_AGENT, "technical_owner": 7}, 422, "technical_owner"),
    (
        "unknown routing category",
        {**NEW_AGENT, "routing": {"weather": "biz@example.com"}},
        422,
        "routing",
    ),
    (
        "unknown routing owner",
        {**NEW_AGENT, "routing": {"unsafe": "ghost@example.com"}},
        422,
        "routing.unsafe",
    ),
    (
        "huge threshold",
        {**NEW_AGENT, "thresholds": {"safety_max_per_1000": 10**40}},
        422,
        "safety_max_per_1000",
    ),
    (
        "quality over 100",
        {**NEW_AGENT, "thresholds": {"quality_min_pct": 101}},
        422,
        "quality_min_pct",
    ),
    (
        "threshold as bool",
        {**NEW_AGENT, "thresholds": {"quality_min_pct": True}},
        422,
        "thresholds.quality_min_pct",
    ),
    (
        "threshold as text",
        {**NEW_AGENT, "thresholds": {"quality_min_pct": "lots"}},
        422,
        "thresholds.quality_min_pct",
    ),
    ("unknown threshold", {**NEW_AGENT, "thresholds": {"speed": 3}}, 422, "thresholds.speed"),
    ("thresholds not an object", {**NEW_AGENT, "thresholds": [1, 2]}, 422, "thresholds"),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [case[1:] for case in BAD_NEW_AGENTS],
    ids=[case[0] for case in BAD_NEW_AGENTS],
)
def test_bad_agent_payloads_name_the_field_and_save_nothing(app, api, people, body, status, field):
    response = api(people["admin"]).post("/api/v1/agents", json=body)
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["error"]
    assert field in answer["fields"], answer
    assert _agents(app) == []


BAD_BODIES = [
    ("malformed JSON", b'{"slug": "x",', "application/json", "not valid JSON"),
    ("not an object", b"[1, 2, 3]", "application/json", "must be a JSON object"),
    ("empty body", b"", "application/json", "not valid JSON"),
    ("bad UTF-8", b'{"slug": "\xff\xfe"}', "application/json", "not valid JSON"),
    ("lone surrogate", b'{"slug": "\\ud800"}', "application/json", "not valid JSON"),
    ("form instead of JSON", b"slug=x&name=y", "application/x-www-form-urlencoded", "Content-Type"),
]


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_unreadable_bodies_are_a_json_400(app, api, people, raw, content_type, message):
    response = api(people["admin"]).post(
        "/api/v1/agents", data=raw, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _agents(app) == []


def test_a_refused_patch_changes_nothing(app, api, people, make_agent):
    make_agent("support-bot", owner=people["tech"], version="2.1")
    before = _agent_row_text(app, "support-bot")
    client = api(people["tech"])
    for body, field in (
        ({"version": "3.0", "business_owner": "ghost@example.com"}, "business_owner"),
        ({"slug": "renamed"}, "slug"),
        ({"name": "", "version": "3.0"}, "name"),
        ({"routing": {"unsafe": "ghost@example.com"}, "version": "3.0"}, "routing.unsafe"),
        ({"thresholds": {"satisfaction_min": 9}, "version": "3.0"}, "satisfaction_min"),
    ):
        response = client.patch("/api/v1/agents/support-bot", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["fields"]
    assert _agent_row_text(app, "support-bot") == before


def test_duplicate_slug_is_refused(app, api, people, make_agent):
    make_agent("refund-helper")
    response = api(people["admin"]).post("/api/v1/agents", json=NEW_AGENT)
    assert response.status_code == 422
    assert "already exists" in response.get_json()["fields"]["slug"]
    assert len(_agents(app)) == 1


def test_wrong_method_and_unknown_path_answer_json(api, people):
    client = api(people["admin"])
    deleted = client.open("/api/v1/agents", "DELETE")
    assert deleted.status_code == 405 and deleted.is_json and deleted.get_json()["error"]
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.is_json


def test_too_large_body_is_a_json_413(app, api, people):
    big = json.dumps({**NEW_AGENT, "description": "x" * (2 * 1024 * 1024)})
    response = api(people["admin"]).post(
        "/api/v1/agents", data=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "The request body is too large."
    assert _agents(app) == []
