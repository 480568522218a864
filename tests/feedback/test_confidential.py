"""A confidential reporter is known only to admins (and to themself): not on any page, export,
JSON, notification, email or log line that anyone else can reach."""

import logging
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.db import db
from portal.core.sweep import run_sweep
from portal.core.timeutil import utcnow
from portal.feedback import services
from portal.feedback.models import Report
from portal.notifications.models import Notification
from tests.feedback.test_loop import version_on
from tests.feedback.test_report_form import report_form


def test_confidential_identity_reaches_no_one_but_admins(
    mail_app, smtp_server, cast, browser_as, caplog
):
    app = mail_app
    caplog.set_level(logging.DEBUG)
    rosa = cast.reporter
    secrets = ("Rosa Reporter", "rosa@example.com", "Rosa")

    reporter = browser_as(rosa)
    response = reporter.post(
        "/report",
        data=report_form(
            summary="Agent suggests refusing refunds to older customers", confidential="y"
        ),
    )
    assert response.headers["Location"] == "/reports/1"
    triage, owner, admin = (browser_as(p) for p in (cast.triage, cast.owner, cast.admin))
    follower = browser_as(cast.other)
    follower.post("/reports/1/subscribe")

    # The loop runs: route, an internal note, act, "not fixed" (which tells the owner), escalation.
    page = triage.get("/reports/1").get_data(as_text=True)
    triage.post(
        "/reports/1/route",
        data={"route-assignee": str(cast.owner.id), "route-version": version_on(page, "route")},
    )
    triage.post("/reports/1/notes", data={"note-note": "Escalate to governance if confirmed."})
    page = owner.get("/reports/1").get_data(as_text=True)
    owner.post(
        "/reports/1/act",
        data={
            "act-action_kind": "config_change",
            "act-note": "The prompt no longer mentions age.",
            "act-version": version_on(page, "act"),
        },
    )
    page = reporter.get("/reports/1").get_data(as_text=True)
    reporter.post(
        "/reports/1/confirm",
        data={
            "confirm-fixed": "no",
            "confirm-comment": "It still does it for pensioners.",
            "confirm-version": version_on(page, "confirm"),
        },
    )
    with app.app_context():
        run_sweep(utcnow() + timedelta(days=30))

    # Pages, export and JSON that non-admins reach.
    reachable = [
        (triage, "/triage"),
        (triage, "/triage?q=refunds"),
        (triage, "/triage/export.csv"),
        (triage, "/reports/1"),
        (triage, "/assigned"),
        (triage, "/notifications/"),
        (owner, "/reports/1"),
        (owner, "/assigned"),
        (owner, "/notifications/"),
        (follower, "/reports/1"),
        (follower, "/reports/mine"),
        (follower, "/notifications/"),
        (follower, "/you-said-we-did"),
        (follower, "/report/similar?agent=support-assistant&q=refusing+refunds+older"),
        (browser_as(cast.manager), "/notifications/"),
    ]
    for browser, url in reachable:
        response = browser.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in body, (url, secret)
    assert "Confidential reporter" in triage.get("/reports/1").get_data(as_text=True)

    # The one serialisation hides the reporter from everyone but admins and the reporter.
    with app.app_context():
        report = db.session.get(Report, 1)
        for person in (cast.triage, cast.owner, cast.other, cast.manager):
            data = services.report_to_dict(
                report, db.session.get(User, person.id), with_timeline=True
            )
            assert data["reporter"] is None
            assert not any(s in str(data) for s in secrets), person.email
        as_admin = services.report_to_dict(report, db.session.get(User, cast.admin.id))
        assert as_admin["reporter"]["name"] == "Rosa Reporter"
        assert services.report_to_dict(report, db.session.get(User, rosa.id))["reporter"]

        # Notifications of everyone else.
        others = db.session.scalars(
            sa.select(Notification).where(Notification.user_id != rosa.id)
        ).all()
        assert others, "the loop should have notified the owner, triage and the follower"
        for note in others:
            assert not any(s in note.title + note.body for s in secrets)

    # Admins do see who it was.
    assert "Rosa Reporter" in admin.get("/reports/1").get_data(as_text=True)

    # Emails to anyone else.
    to_others = [m for m in smtp_server.messages if rosa.email not in str(m["To"])]
    assert to_others
    for message in to_others:
        text = str(message["Subject"]) + smtp_server.body(message)
        assert not any(s in text for s in secrets)

    # Log lines: no name, no email, and no line about the report names her account. (The test
    # SMTP server's own log, "mail.log", naturally shows her address as a recipient.)
    for record in caplog.records:
        if record.name == "mail.log":
            continue
        line = record.getMessage()
        assert not any(s in line for s in secrets), line
        if "report" in line.lower():
            assert f"user {rosa.id}" not in line and f"user={rosa.id}" not in line, line
