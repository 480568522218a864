"""The agent directory and registering an agent, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import AGENT_NAME, sign_in

pytestmark = pytest.mark.browser


def test_agent_directory_lists_the_agents(page):
    sign_in(page, "reporter@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()

    expect(page).to_have_url(re.compile(r"/agents/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    expect(page.get_by_text(AGENT_NAME).first).to_be_visible()


def test_admin_registers_an_agent_through_the_form(page):
    sign_in(page, "admin@example.com")
    page.goto("/agents/")
    page.get_by_role("link", name="Register an agent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an agent")

    page.get_by_label("Name", exact=True).fill("Invoice Matcher")
    slug = page.get_by_label("Slug", exact=True)
    expect(slug).to_have_value("invoice-matcher")  # suggested from the name as one types
    page.get_by_label("What it is for").fill("Matches supplier invoices to purchase orders.")
    page.get_by_label("Current version").fill("1.4.0")
    page.get_by_label("Lifecycle").select_option(label="Pilot")
    page.get_by_label("Technical owner").select_option(label="Olivia Owner (owner@example.com)")
    page.get_by_label("Unsafe or policy violation").select_option(
        label="Ada Admin (admin@example.com)"
    )
    quality = page.get_by_label("Quality (minimum)")
    quality.fill("150")  # a mistake first: more than 100 %
    page.get_by_label("User satisfaction (minimum)").fill("4.2")
    page.get_by_role("button", name="Register agent").click()

    expect(quality).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#quality_min_pct-error")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Invoice Matcher")
    expect(quality).to_have_value("150")

    quality.fill("95")
    page.get_by_role("button", name="Register agent").click()

    expect(page).to_have_url(re.compile(r"/agents/invoice-matcher$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice Matcher")
    expect(page.get_by_text("Invoice Matcher is registered.")).to_be_visible()
    expect(page.get_by_text("Olivia Owner").first).to_be_visible()
    expect(page.get_by_text("Version 1.4.0")).to_be_visible()

    page.get_by_role("link", name="Agents", exact=True).first.click()
    expect(page.get_by_text("Invoice Matcher").first).to_be_visible()
    expect(page.get_by_text(AGENT_NAME).first).to_be_visible()


def test_reporter_is_not_offered_registration_and_is_refused_at_the_form(page):
    sign_in(page, "reporter@example.com")
    page.goto("/agents/")
    expect(page.get_by_text(AGENT_NAME).first).to_be_visible()
    expect(page.get_by_role("link", name="Register an agent")).to_have_count(0)

    response = page.goto("/agents/new")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
