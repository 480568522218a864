"""The whole closed loop through the pages: file, triage, route, work, act, answer "not fixed",
act again, answer "fixed" — with notifications and a real email along the way."""

import re

import sqlalchemy as sa

from portal.core.db import db
from portal.feedback import metrics
from portal.feedback.models import ReportStatus
from portal.notifications.models import Notification
from tests.feedback.conftest import report_row
from tests.feedback.test_report_form import report_form


def version_on(page: str, form: str) -> str:
    match = re.search(rf'name="{form}-version" type="hidden" value="(\d+)"', page)
    assert match, f"no {form} form on the page"
    return match.group(1)


def notifications_of(app, user) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_the_whole_loop_through_the_pages(mail_app, smtp_server, cast, browser_as):
    app = mail_app
    reporter, triage, owner = (browser_as(p) for p in (cast.reporter, cast.triage, cast.owner))

    # 1. Rosa files a report.
    response = reporter.post("/report", data=report_form(severity="high", run_ref="RUN-7"))
    assert response.headers["Location"] == "/reports/1"

    # 2. Triage sees it in the queue, with the suggested owner, and triages it.
    queue = triage.get("/triage").get_data(as_text=True)
    assert "Suggested reply quotes last year" in queue and "Suggested: Olivia Owner" in queue
    page = triage.get("/reports/1").get_data(as_text=True)
    assert "Mark as triaged" in page
    response = triage.post(
        "/reports/1/triage",
        data={"triage-severity": "critical", "triage-version": version_on(page, "triage")},
    )
    assert response.status_code == 302
    assert report_row(app, 1).status is ReportStatus.TRIAGED

    # 3. Triage confirms the suggested owner; the owner is told (in-app and by email).
    page = triage.get("/reports/1").get_data(as_text=True)
    assert f'<option selected value="{cast.owner.id}">Olivia Owner</option>' in page
    response = triage.post(
        "/reports/1/route",
        data={
            "route-assignee": str(cast.owner.id),
            "route-note": "Customer-facing; please look today.",
            "route-version": version_on(page, "route"),
        },
    )
    assert response.status_code == 302
    assert [n.kind for n in notifications_of(app, cast.owner)] == ["report_routed"]
    routed_mail = smtp_server.messages_to(cast.owner.email)
    assert len(routed_mail) == 1
    assert "Report #1 about Support Assistant is yours to act on" in routed_mail[0]["Subject"]

    # 4. The owner finds it under "Assigned to me", starts work and acts.
    assigned = owner.get("/assigned").get_data(as_text=True)
    assert "Suggested reply quotes last year" in assigned
    page = owner.get("/reports/1").get_data(as_text=True)
    owner.post("/reports/1/start", data={"start-version": version_on(page, "start")})
    page = owner.get("/reports/1").get_data(as_text=True)
    response = owner.post(
        "/reports/1/act",
        data={
            "act-action_kind": "data_fix",
            "act-note": "The price list feed was a year old; it now refreshes nightly.",
            "act-version": version_on(page, "act"),
        },
    )
    assert response.status_code == 302
    assert report_row(app, 1).status is ReportStatus.ACTED_ON

    # 5. Rosa is told: in-app, by email, and on "My reports".
    outcome = [n for n in notifications_of(app, cast.reporter) if n.kind == "report_outcome"]
    assert len(outcome) == 1
    mail = smtp_server.messages_to(cast.reporter.email)
    assert [m["Subject"] for m in mail] == ["Your report about Support Assistant was acted on"]
    assert "it now refreshes nightly" in smtp_server.body(mail[0])
    assert "http://portal.test/reports/1" in smtp_server.body(mail[0])
    mine = reporter.get("/reports/mine").get_data(as_text=True)
    assert "Data or integration fix" in mine and "it now refreshes nightly" in mine
    assert "Answer: fixed or not fixed?" in mine
    with app.app_context():
        assert metrics.closed_loop_rate(None, None, None).closed == 1

    # 6. Not fixed: it reopens for the owner, who is told, and leaves the closed loop.
    page = reporter.get("/reports/1").get_data(as_text=True)
    response = reporter.post(
        "/reports/1/confirm",
        data={
            "confirm-fixed": "no",
            "confirm-comment": "Still shows the 2023 price for the basic plan.",
            "confirm-version": version_on(page, "confirm"),
        },
    )
    assert response.status_code == 302
    assert report_row(app, 1).status is ReportStatus.REOPENED
    reopened = [n for n in notifications_of(app, cast.owner) if n.kind == "report_reopened"]
    assert len(reopened) == 1 and "2023 price for the basic plan" in reopened[0].body
    with app.app_context():
        loop = metrics.closed_loop_rate(None, None, None)
        assert (loop.closed, loop.total, loop.in_flight) == (0, 1, 1)

    # 7. The owner acts again; Rosa answers "fixed" and the report is closed.
    page = owner.get("/reports/1").get_data(as_text=True)
    owner.post(
        "/reports/1/act",
        data={
            "act-action_kind": "data_fix",
            "act-note": "The basic plan had its own stale price table; refreshed too.",
            "act-version": version_on(page, "act"),
        },
    )
    page = reporter.get("/reports/1").get_data(as_text=True)
    response = reporter.post(
        "/reports/1/confirm",
        data={"confirm-fixed": "yes", "confirm-version": version_on(page, "confirm")},
    )
    assert response.status_code == 302
    report = report_row(app, 1)
    assert report.status is ReportStatus.CLOSED and report.is_fixed is True

    # The timeline tells the story in plain words, for Rosa as for triage.
    page = reporter.get("/reports/1").get_data(as_text=True)
    for words in (
        "You</strong> filed this report",
        "Tomas Triage</strong> reviewed it and set the severity to Critical",
        "routed it to Olivia Owner",
        "Olivia Owner</strong> acted on it: Data or integration fix",
        "You</strong> said it is not fixed, so it was reopened",
        "You</strong> confirmed that it is fixed",
    ):
        assert words in page, words
    with app.app_context():
        loop = metrics.closed_loop_rate(None, None, None)
        assert (loop.closed, loop.total) == (1, 1)
        assert metrics.confirmed_fix_rate(None, None, None).rate == 1.0


def test_decline_tells_the_reporter_why_and_counts_as_acted_on(app, cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    triage = browser_as(cast.triage)
    page = triage.get(f"/reports/{filed.id}").get_data(as_text=True)
    response = triage.post(
        f"/reports/{filed.id}/decline",
        data={
            "decline-reason": "This is how refunds are meant to be rounded (policy R-12).",
            "decline-version": version_on(page, "decline"),
        },
    )
    assert response.status_code == 302
    assert report_row(app, filed.id).status is ReportStatus.DECLINED
    told = [n for n in notifications_of(app, cast.reporter) if n.kind == "report_outcome"]
    assert told and "policy R-12" in told[0].body
    page = browser_as(cast.reporter).get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "Declined: the reason" in page and "policy R-12" in page
    with app.app_context():
        assert metrics.closed_loop_rate(None, None, None).closed == 1
        assert metrics.time_to_act(None, None, None).count == 1


def test_internal_notes_stay_with_the_people_working_the_report(app, cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    triage = browser_as(cast.triage)
    response = triage.post(
        f"/reports/{filed.id}/notes", data={"note-note": "Looks like the March feed outage."}
    )
    assert response.status_code == 302
    assert "Looks like the March feed outage." in triage.get(f"/reports/{filed.id}").get_data(
        as_text=True
    )
    owner_page = browser_as(cast.owner).get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "Looks like the March feed outage." in owner_page
    reporter_page = browser_as(cast.reporter).get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "March feed outage" not in reporter_page
    assert "internal note" not in reporter_page


def test_followers_hear_about_action_and_reopening(app, cast, browser_as, file_report, advance):
    filed = file_report(cast.reporter, cast.agent)
    browser_as(cast.other).post(f"/reports/{filed.id}/subscribe")
    advance(filed.id, "acted_on", cast)
    reporter = browser_as(cast.reporter)
    page = reporter.get(f"/reports/{filed.id}").get_data(as_text=True)
    reporter.post(
        f"/reports/{filed.id}/confirm",
        data={"confirm-fixed": "no", "confirm-version": version_on(page, "confirm")},
    )
    titles = [n.title for n in notifications_of(app, cast.other)]
    assert titles == [
        "A report you follow about Support Assistant is with its owner",
        "A report you follow about Support Assistant was acted on",
        "A report you follow about Support Assistant was reopened",
    ]
