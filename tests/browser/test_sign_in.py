"""Signing in through the real page, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_through_the_page_reaches_home(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Email", exact=True).fill("admin@example.com")
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Admin")
    expect(page).to_have_url(re.compile(r"/$"))


def test_wrong_password_shows_the_error_beside_the_field_and_keeps_the_email(page):
    sign_in(page, "admin@example.com", "not-the-right-password")

    password = page.get_by_label("Password", exact=True)
    expect(
        page.get_by_text("That email and password do not match an active account.")
    ).to_be_visible()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_value("")
    expect(page.get_by_label("Email", exact=True)).to_have_value("admin@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # still signed out


def test_sign_out_from_the_menu(page):
    sign_in(page, "reporter@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rosa Reporter")

    page.get_by_role("button", name="Rosa Reporter").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
