"""Reporting a problem through the form: required fields, pre-filling, similar reports, one report per
submission."""

import sqlalchemy as sa

from portal.core.db import db
from portal.feedback.models import EventKind, Report, ReportEvent, ReportStatus, Severity
from tests.feedback.conftest import count_reports, report_row


def report_form(**overrides) -> dict:
    data = {
        "agent": "support-assistant",
        "category": "wrong_output",
        "summary": "Suggested reply quotes last year's prices",
        "severity": "",
        "details": "",
        "expected": "",
        "run_ref": "",
        "occurred_at": "",
        "tz_offset": "0",
        "submission_key": "key-1",
        "file_anyway": "",
    }
    data.update(overrides)
    return data


def test_a_report_with_only_the_required_fields_is_filed(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    response = browser.post("/report", data=report_form())
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Suggested reply quotes last year&#39;s prices" in page
    assert "Your report is #1" in page
    assert "Waiting" in browser.get("/reports/mine").get_data(as_text=True)

    report = report_row(app, 1)
    assert report.status is ReportStatus.NEW
    assert report.reporter_id == cast.reporter.id
    assert report.agent_version == "1.0.0"
    assert report.severity is Severity.MEDIUM and report.reported_severity is None
    # Suggested from the routing rules; this agent has none, so its technical owner.
    assert report.suggested_owner_id == cast.owner.id
    with app.app_context():
        kinds = db.session.scalars(sa.select(ReportEvent.kind)).all()
    assert kinds == [EventKind.FILED]


def test_the_form_is_prefilled_from_the_link_an_agent_screen_gives(cast, browser_as):
    page = (
        browser_as(cast.reporter)
        .get("/report?agent=support-assistant&run=RUN-42")
        .get_data(as_text=True)
    )
    assert '<option selected value="support-assistant">' in page
    assert 'value="RUN-42"' in page
    assert "(optional)" in page  # the optional part is visibly secondary


def test_missing_and_too_long_input_is_refused_beside_the_field_and_kept(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    response = browser.post(
        "/report", data=report_form(summary="", details="It quoted 2023 prices.")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Say in one line what went wrong." in page
    assert "It quoted 2023 prices." in page  # what was typed is kept

    response = browser.post("/report", data=report_form(summary="x" * 201))
    assert response.status_code == 400
    assert "Keep the summary to 200 characters." in response.get_data(as_text=True)

    response = browser.post("/report", data=report_form(agent="no-such-agent", category="nope"))
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)

    response = browser.post("/report", data=report_form(occurred_at="2999-01-01T10:00"))
    assert response.status_code == 400
    assert "That time is in the future." in response.get_data(as_text=True)
    assert count_reports(app) == 0


def test_double_submit_files_one_report(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    first = browser.post("/report", data=report_form())
    second = browser.post("/report", data=report_form())
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == "/reports/1"
    assert count_reports(app) == 1


def test_a_reused_page_with_a_new_problem_files_a_second_report(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    browser.post("/report", data=report_form())
    response = browser.post(
        "/report", data=report_form(summary="Replies are signed with the wrong team name")
    )
    assert response.headers["Location"] == "/reports/2"
    assert count_reports(app) == 2


def test_time_it_happened_is_read_in_the_reporters_time_zone(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    # 10:00 in a zone two hours ahead of UTC (the browser reports -120 minutes) is 08:00 UTC.
    browser.post("/report", data=report_form(occurred_at="2024-03-01T10:00", tz_offset="-120"))
    occurred = report_row(app, 1).occurred_at
    assert (occurred.hour, occurred.minute, occurred.utcoffset().total_seconds()) == (8, 0, 0)


def test_similar_open_reports_are_offered_before_filing(app, cast, browser_as, file_report):
    existing = file_report(cast.other, cast.agent, summary="Reply quotes old prices from 2023")
    file_report(cast.other, cast.other_agent, summary="Reply quotes old prices elsewhere")
    browser = browser_as(cast.reporter)

    found = browser.get("/report/similar?agent=support-assistant&q=quotes+old+prices").get_json()
    assert [r["id"] for r in found["reports"]] == [existing.id]
    assert found["reports"][0]["summary"] == "Reply quotes old prices from 2023"
    assert "reporter" not in found["reports"][0]

    response = browser.post("/report", data=report_form(summary="Quotes old prices"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Others have reported something similar" in page
    assert "Reply quotes old prices from 2023" in page
    assert f"/reports/{existing.id}/subscribe" in page
    assert count_reports(app) == 2  # nothing filed yet

    response = browser.post(
        "/report", data=report_form(summary="Quotes old prices", file_anyway="1")
    )
    assert response.status_code == 302
    assert count_reports(app) == 3


def test_me_too_follows_the_existing_report_instead_of_filing(app, cast, browser_as, file_report):
    existing = file_report(cast.other, cast.agent, summary="Reply quotes old prices from 2023")
    browser = browser_as(cast.reporter)
    response = browser.post(f"/reports/{existing.id}/subscribe")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"You now follow report #{existing.id}" in page
    assert "Stop following" in page
    assert "Oscar Other" not in page  # a follower does not learn who filed it
    mine = browser.get("/reports/mine").get_data(as_text=True)
    assert "Reports you follow" in mine and "Reply quotes old prices from 2023" in mine
    assert count_reports(app) == 1

    response = browser.post(f"/reports/{existing.id}/unsubscribe")
    assert response.status_code == 302
    assert "You do not follow any reports." in browser.get("/reports/mine").get_data(as_text=True)


def test_retired_agents_are_not_offered(app, cast, make_agent, browser_as):
    from portal.agents.models import Lifecycle

    make_agent("old-bot", name="Old Bot", lifecycle=Lifecycle.RETIRED)
    browser = browser_as(cast.reporter)
    assert "Old Bot" not in browser.get("/report").get_data(as_text=True)
    response = browser.post("/report", data=report_form(agent="old-bot"))
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
