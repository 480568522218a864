"""The home page card, "You said, we did", and pages that only show things."""

from tests.feedback.conftest import PNG_BYTES


def test_home_card_counts_my_open_reports(cast, browser_as, file_report, advance):
    browser = browser_as(cast.reporter)
    page = browser.get("/").get_data(as_text=True)
    assert "Report a problem" in page and "You have no open reports." in page

    file_report(cast.reporter, cast.agent, summary="One")
    acted = file_report(cast.reporter, cast.agent, summary="Two")
    closed = file_report(cast.reporter, cast.agent, summary="Three")
    file_report(cast.other, cast.agent, summary="Someone else's")
    advance(acted.id, "acted_on", cast)  # still open for Rosa: it waits for her answer
    advance(closed.id, "closed", cast)
    page = browser.get("/").get_data(as_text=True)
    assert ">2 open reports</a>" in page


def test_you_said_we_did_shows_what_was_done_without_names(cast, browser_as, file_report, advance):
    shown = file_report(cast.reporter, cast.agent, summary="Quotes old prices", confidential=True)
    advance(shown.id, "acted_on", cast)
    other = file_report(cast.other, cast.other_agent, summary="Misreads invoices")
    advance(other.id, "closed", cast)
    file_report(cast.reporter, cast.agent, summary="Not acted on yet")

    browser = browser_as(cast.manager)
    page = browser.get("/you-said-we-did").get_data(as_text=True)
    assert "Quotes old prices" in page and "Misreads invoices" in page
    assert "Prompt or configuration change" in page and "We changed the prompt." in page
    assert "Not acted on yet" not in page
    assert "Rosa" not in page and "Oscar" not in page

    page = browser.get("/you-said-we-did?agent=other-agent").get_data(as_text=True)
    assert "Misreads invoices" in page and "Quotes old prices" not in page


def test_report_page_shows_the_facts_to_the_people_working_it(cast, browser_as, file_report):
    filed = file_report(
        cast.reporter,
        cast.agent,
        summary="Wrong refund",
        details="Order 4411 got 12.00 instead of 21.00",
        run_ref="RUN-88",
        files=[("screen.png", PNG_BYTES)],
    )
    page = browser_as(cast.owner).get(f"/reports/{filed.id}").get_data(as_text=True)
    for text in ("Wrong refund", "Order 4411", "RUN-88", "screen.png", "Rosa Reporter"):
        assert text in page, text
    assert "Record what was done" not in page  # a new report is triaged first
    assert "Start work on it" not in page
    triage_page = browser_as(cast.triage).get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "Mark as triaged" in triage_page and "Route to an owner" in triage_page


def test_home_page_tells_an_owner_what_is_assigned_to_them(cast, file_report, advance, browser_as):
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "routed", cast)
    owner_home = browser_as(cast.owner).get("/").get_data(as_text=True)
    assert "Assigned to you" in owner_home
    assert "1</span> open report to act on" in owner_home

    stranger_home = browser_as(cast.stranger_owner).get("/").get_data(as_text=True)
    assert "Nothing assigned to you is open." in stranger_home
    reporter_home = browser_as(cast.reporter).get("/").get_data(as_text=True)
    assert "Assigned to you" not in reporter_home
