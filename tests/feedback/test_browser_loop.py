"""The closed loop in Chromium (CSRF on, scripts running): a report is filed, routed, acted on, and
the reporter reads the answer and confirms it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import sign_in

pytestmark = pytest.mark.browser


def test_file_route_act_and_confirm_in_the_browser(open_page):
    rosa, admin, olivia = open_page(), open_page(), open_page()
    sign_in(rosa, "reporter@example.com")
    sign_in(admin, "admin@example.com")
    sign_in(olivia, "owner@example.com")

    # Rosa reports from the agent's own link, pre-filled with the run reference.
    rosa.goto("/report?agent=support-assistant&run=RUN-2001")
    rosa.get_by_label("What kind of problem", exact=True).select_option(
        label="Wrong or inaccurate output"
    )
    rosa.get_by_label("Summary", exact=True).fill(
        "Reply quotes last year's price for the Basic plan"
    )
    rosa.get_by_role("button", name="Send report").click()
    expect(rosa.get_by_text("Thank you. Your report is #1")).to_be_visible()

    # Admin (acting as triage) routes it to the suggested owner.
    admin.goto("/triage")
    admin.get_by_role("link", name=re.compile("Reply quotes last year")).click()
    route_to = admin.get_by_label("Route to", exact=True)
    expect(route_to.locator("option:checked")).to_have_text("Olivia Owner")  # the suggestion
    route_to.select_option(label="Olivia Owner")
    admin.get_by_role("button", name="Route").click()
    expect(admin.get_by_text("Routed to Olivia Owner; they have been told.")).to_be_visible()

    # Olivia finds it under "Assigned to me" and says what was done.
    olivia.goto("/assigned")
    olivia.get_by_role("link", name=re.compile("Reply quotes last year")).click()
    olivia.get_by_label("What was done", exact=True).select_option(label="Data or integration fix")
    olivia.get_by_label("Note for the reporter", exact=True).fill(
        "The price list now refreshes nightly."
    )
    olivia.get_by_role("button", name="Record action and tell the reporter").click()
    expect(olivia.get_by_text("Action recorded.")).to_be_visible()

    # Rosa reads the answer on "My reports" and confirms the fix.
    rosa.goto("/reports/mine")
    expect(rosa.locator(".outcome-box")).to_contain_text("The price list now refreshes nightly.")
    rosa.get_by_role("link", name="Answer: fixed or not fixed?").click()
    rosa.get_by_label("Yes, it is fixed").check()
    rosa.get_by_role("button", name="Send answer").click()
    expect(rosa.get_by_text("Thank you. The report is closed.")).to_be_visible()
    expect(rosa.get_by_text("You confirmed that it is fixed.")).to_be_visible()
