"""axe-core (shipped inside axe-playwright-python: nothing is downloaded) on every main page, in
Chromium: no serious or critical violations, on a desktop and on a phone."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from portal.accounts.services import get_user_by_email
from portal.agents.models import ReportCategory
from portal.agents.services import get_agent_by_slug
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback import services as feedback
from portal.surveys import services as surveys
from portal.surveys.models import Cadence
from portal.training import services as training
from tests.browser_support import PHONE, sign_in
from tests.training.conftest import add_questions

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
# The main pages of the portal; {report} and {module} are filled in from the data made below.
PAGES = [
    ("home", "/"),
    ("agents directory", "/agents/"),
    ("agent detail", "/agents/support-assistant"),
    ("report form", "/report"),
    ("my reports", "/reports/mine"),
    ("report detail", "/reports/{report}"),
    ("triage queue", "/triage"),
    ("my training", "/training/"),
    ("module page", "/training/modules/{module}"),
    ("my surveys", "/surveys/"),
    ("dashboards", "/dashboards/"),
    ("agent dashboard", "/dashboards/agents/support-assistant"),
    ("admin people", "/admin/users"),
    ("my account", "/account"),
    ("API reference", "/api/docs"),
]


def _populate(app) -> dict[str, int]:
    """A report, a published training module and a running survey, so no page is an empty state."""
    with app.app_context():
        admin = get_user_by_email("admin@example.com")
        owner = get_user_by_email("owner@example.com")
        agent = get_agent_by_slug("support-assistant")
        report = feedback.file_report(
            admin,
            feedback.ReportInput(
                agent=agent,
                category=ReportCategory.WRONG_OUTPUT,
                summary="Quoted last year's refund policy",
                details="The reply said refunds take 30 days; the policy says 14.",
            ),
        )
        module = training.create_module(
            agent, training.ModuleFields(title="Working with the Support Assistant"), owner
        )
        add_questions(module)
        training.publish_module(module, owner)
        training.assign_module(
            module,
            training.AssignmentTargets(user_ids=[admin.id]),
            utcnow().date() + timedelta(days=7),
            admin,
        )
        today = utcnow().date()
        campaign = surveys.create_campaign(
            surveys.CampaignSettings(
                name="Support Assistant pulse",
                description="How is the assistant working for you?",
                agents=[agent],
                is_for_everyone=True,
                teams=[],
                roles=set(),
                cadence=Cadence.MONTHLY,
                opens_on=today,
                closes_on=None,
                anonymity_threshold=5,
            ),
            admin,
            today,
        )
        surveys.launch_campaign(campaign, utcnow())
        db.session.commit()
        return {"report": report.id, "module": module.id}


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(
            f"{node['target'][0]} [{node.get('failureSummary', '').splitlines()[-1].strip()}]"
            for node in v["nodes"][:3]
        )
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_main_pages_have_no_serious_accessibility_violations(open_page, live_server, viewport):
    ids = _populate(live_server.app)
    page = open_page(PHONE) if viewport == "phone" else open_page()
    problems = []
    page.goto("/login")
    problems += [f"sign-in: {v}" for v in _violations(page)]
    sign_in(page, "admin@example.com")
    for name, path in PAGES:
        response = page.goto(path.format(**ids))
        assert response is not None and response.status == 200, (name, path)
        problems += [f"{name} ({path}): {v}" for v in _violations(page)]
    assert not problems, "\n".join(problems)


def test_axe_finds_a_violation_when_there_is_one(open_page, live_server):
    page = open_page()
    page.goto("/login")
    # An image without alternative text is a critical violation: the check is not blind.
    page.evaluate(
        "document.querySelector('main').appendChild(Object.assign("
        "document.createElement('img'), {src: '/static/favicon.ico'}))"
    )
    assert any(v.startswith("image-alt (critical)") for v in _violations(page))
