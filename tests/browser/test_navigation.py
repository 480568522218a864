"""The main navigation by role, on a phone, and by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import PHONE, sign_in

pytestmark = pytest.mark.browser

ADMIN_LINKS = 'nav[aria-label="Main"] a[href^="/admin"]'


def _has_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_admin_sees_admin_links_and_can_follow_them(page):
    sign_in(page, "admin@example.com")
    main_nav = page.get_by_role("navigation", name="Main")
    people = main_nav.get_by_role("link", name="People")
    expect(people).to_be_visible()

    people.click()
    expect(page).to_have_url(re.compile(r"/admin/users"))
    expect(page.get_by_text("Rosa Reporter")).to_be_visible()


def test_reporter_sees_no_admin_links_and_is_refused_at_the_door(page):
    sign_in(page, "reporter@example.com")
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Agents")).to_be_visible()
    expect(main_nav.get_by_role("link", name="People")).to_have_count(0)
    expect(page.locator(ADMIN_LINKS)).to_have_count(0)

    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_phone_sign_in_page_fits_the_screen(open_page):
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/login")
    expect(page.get_by_label("Email", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_in_viewport()
    assert not _has_horizontal_scroll(page)


def test_phone_shows_a_collapsed_menu_that_opens(open_page):
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, "reporter@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rosa Reporter")
    assert not _has_horizontal_scroll(page)

    toggler = page.get_by_role("button", name="Show navigation")
    agents_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(agents_link).to_be_hidden()

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(agents_link).to_be_visible()
    agents_link.click()
    expect(page).to_have_url(re.compile(r"/agents/$"))
    expect(page.get_by_text("Support Assistant").first).to_be_visible()
    assert not _has_horizontal_scroll(page)


def test_desktop_shows_the_menu_without_a_toggler(page):
    sign_in(page, "reporter@example.com")
    expect(page.get_by_role("button", name="Show navigation")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents")
    ).to_be_visible()


@pytest.mark.parametrize("signed_in", [False, True], ids=["sign-in page", "home page"])
def test_first_tab_reaches_the_skip_link_which_skips_the_menu(page, signed_in):
    if signed_in:
        sign_in(page, "admin@example.com")
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada Admin")
    else:
        page.goto("/login")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 10  # shown when focused

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main")).to_be_focused()
    if not signed_in:
        page.keyboard.press("Tab")
        expect(page.get_by_label("Email", exact=True)).to_be_focused()
