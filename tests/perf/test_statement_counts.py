"""Every page of the issue's list runs at most 15 SQL statements, as many with 10 reports as with
1,000 (and 50 or 5,000 survey answers, 15 or 1,500 training attempts): no query per row."""

import json
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.core.db import db
from portal.feedback.models import Report
from portal.training.models import Attempt
from tests.perf.conftest import LARGE, SMALL, World

LIMIT = 15


@dataclass
class Page:
    role: str | None  # who asks (None: nobody signed in; "api": the manager's API token)
    method: str
    status: int
    text: str  # something the person sees on the answer


PAGES = {
    "sign_in_page": Page(None, "GET", 200, "Sign in"),
    "report_form": Page("reporter", "GET", 200, "Send report"),
    "report_post": Page("reporter", "POST", 302, "/reports/"),
    "my_reports": Page("reporter", "GET", 200, "My reports"),
    "triage_queue": Page("triage", "GET", 200, "Triage"),
    "report_detail": Page("reporter", "GET", 200, "What happened"),
    "my_training": Page("trainee", "GET", 200, "Working with Bench Agent 01"),
    "knowledge_check_post": Page("trainee", "POST", 302, "/training/attempts/"),
    "dashboard_overview": Page("manager", "GET", 200, "Bench Agent 03"),
    "dashboard_agent": Page("manager", "GET", 200, "Bench Agent 03"),
    "api_report_post": Page("api", "POST", 201, '"summary":"Timed out"'),
    "api_metrics": Page("api", "GET", 200, "closed_loop"),
}


def send(world: World, name: str, app):
    """Send the page's request as its person; returns the response."""
    seeded = world.seeded
    page = PAGES[name]
    client = app.test_client() if page.role in (None, "api") else world.clients[page.role]
    bearer = {"Authorization": f"Bearer {seeded.api_token}"}
    if name == "sign_in_page":
        return client.get("/login")
    if name == "report_form":
        return client.get("/report")
    if name == "report_post":
        words = " ".join(f"Zq{uuid.uuid4().hex[:10]}" for _ in range(3))
        return client.post(
            "/report",
            data={
                "agent": seeded.agent_slugs[2],
                "category": "wrong_output",
                "summary": words,
                "severity": "",
                "details": "Filed by the statement-count test.",
                "submission_key": uuid.uuid4().hex,
            },
        )
    if name == "my_reports":
        return client.get("/reports/mine")
    if name == "triage_queue":
        return client.get("/triage", query_string={"agent": 3, "severity": "high", "sort": "due"})
    if name == "report_detail":
        return client.get("/reports/1")  # the reporter's closed report: the longest timeline
    if name == "my_training":
        return client.get("/training/")
    if name == "knowledge_check_post":
        form = {"version_id": seeded.version_id, "submission_key": uuid.uuid4().hex[:32]}
        form |= {f"q{q}": choices[1] for q, choices in seeded.question_choices.items()}
        return client.post(f"/training/modules/{seeded.module_id}/check", data=form)
    if name == "dashboard_overview":
        return client.get("/dashboards/")
    if name == "dashboard_agent":
        return client.get(f"/dashboards/agents/{seeded.agent_slugs[2]}")
    if name == "api_report_post":
        return client.post(
            "/api/v1/reports",
            data=json.dumps(
                {"agent": seeded.agent_slugs[1], "category": "unavailable", "summary": "Timed out"}
            ),
            headers={**bearer, "Idempotency-Key": uuid.uuid4().hex},
            content_type="application/json",
        )
    if name == "api_metrics":
        return client.get("/api/v1/metrics", headers=bearer)
    raise AssertionError(name)


def measure(app, world: World, name: str, statements_of) -> int:
    page = PAGES[name]
    response, statements = statements_of(lambda: send(world, name, app))
    body = response.get_data(as_text=True)
    assert response.status_code == page.status, body[:500]
    shown = response.headers.get("Location", "") if page.status == 302 else body
    assert page.text in shown, f"{name}: {page.text!r} not in the answer"
    return len(statements)


@pytest.mark.parametrize("name", list(PAGES))
def test_statements_are_few_and_do_not_grow(app, seed_world, statements_of, name):
    small_world = seed_world(SMALL)
    small = measure(app, small_world, name, statements_of)
    large_world = seed_world(LARGE)
    with app.app_context():  # the large data set really is large
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) >= 1000
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) >= 1500
    large = measure(app, large_world, name, statements_of)
    assert (small, large) == (small, small), f"{name}: {small} statements, then {large}"
    assert large <= LIMIT, f"{name}: {large} statements"
