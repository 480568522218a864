"""In Chromium: a trainee opens an assigned module, reads it, fails once, passes and prints the
certificate (CSRF on, as in production)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.accounts.services import get_user_by_email
from portal.agents.services import get_agent_by_slug
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.training import services
from tests.browser_support import sign_in
from tests.training.conftest import ALL_RIGHT, add_questions, all_wrong

pytestmark = pytest.mark.browser


def _assigned_module(app) -> None:
    with app.app_context():
        owner = get_user_by_email("owner@example.com")
        module = services.create_module(
            get_agent_by_slug("support-assistant"),
            services.ModuleFields(title="Working with the Support Assistant", pass_mark_pct=75),
            owner,
        )
        add_questions(module)
        services.publish_module(module, owner)
        services.assign_module(
            module,
            services.AssignmentTargets(user_ids=[get_user_by_email("reporter@example.com").id]),
            utcnow().date() + timedelta(days=7),
            get_user_by_email("admin@example.com"),
        )
        db.session.commit()


def _answer(page, picks: dict[int, list[str]]) -> None:
    for texts in picks.values():
        for text in texts:
            page.get_by_label(text, exact=True).check()
    page.get_by_role("button", name="Submit answers").click()


def test_trainee_reads_fails_passes_and_prints_the_certificate(open_page, live_server):
    _assigned_module(live_server.app)
    page = open_page()
    page.add_init_script("window.print = () => { window.__printed = true; };")
    sign_in(page, "reporter@example.com")
    expect(page.get_by_text("1 module to complete")).to_be_visible()

    page.get_by_role("link", name="Open my training").click()
    expect(page.get_by_role("heading", name="Assigned to you")).to_be_visible()
    page.get_by_role("link", name="Start", exact=True).click()
    for position in range(1, 5):
        expect(page.get_by_text(f"Section {position} of 5")).to_be_visible()
        page.get_by_role("link", name="Next section").click()
    expect(page.get_by_role("heading", name="Known limitations", level=1)).to_be_visible()
    page.get_by_role("link", name="Take the knowledge check").click()

    _answer(page, all_wrong())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    expect(
        page.get_by_text("Every draft is reviewed by a person before it is sent.")
    ).to_be_visible()
    page.get_by_role("link", name="Retake the knowledge check").click()

    _answer(page, ALL_RIGHT)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Passed")
    page.get_by_role("link", name="View and print your certificate").click()
    expect(page).to_have_url(re.compile(r"/training/attempts/\d+/certificate$"))
    certificate = page.get_by_role("region", name="Certificate of completion")
    expect(certificate).to_contain_text("Rosa Reporter")
    expect(certificate).to_contain_text("Support Assistant")
    expect(certificate).to_contain_text("100% (pass mark 75%)")

    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(certificate).to_be_visible()

    page.emulate_media(media="screen")
    page.goto("/training/")
    expect(page.get_by_role("heading", name="Completed")).to_be_visible()
    expect(page.get_by_role("link", name="Certificate")).to_be_visible()
