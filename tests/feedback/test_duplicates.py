"""Duplicates: the duplicate's reporter and followers follow the primary and hear when it is acted on."""

import sqlalchemy as sa

from portal.core.db import db
from portal.feedback.models import ReportStatus
from portal.notifications.models import Notification
from tests.feedback.conftest import report_row
from tests.feedback.test_loop import version_on


def _outcomes(app, user) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notification.title).where(
                    Notification.user_id == user.id, Notification.kind == "report_outcome"
                )
            )
        )


def test_duplicate_reporters_follow_the_primary_and_are_told(
    app, cast, make_user, browser_as, file_report, advance
):
    primary = file_report(cast.other, cast.agent, summary="Reply quotes 2023 prices")
    duplicate = file_report(cast.reporter, cast.agent, summary="Old prices in replies")
    follower = make_user(name="Fay Follower")
    browser_as(follower).post(f"/reports/{duplicate.id}/subscribe")

    triage = browser_as(cast.triage)
    page = triage.get(f"/reports/{duplicate.id}").get_data(as_text=True)
    response = triage.post(
        f"/reports/{duplicate.id}/duplicate",
        data={
            "duplicate-primary": str(primary.id),
            "duplicate-version": version_on(page, "duplicate"),
        },
    )
    assert response.status_code == 302
    marked = report_row(app, duplicate.id)
    assert marked.status is ReportStatus.DUPLICATE and marked.duplicate_of_id == primary.id

    reporter = browser_as(cast.reporter)
    mine = reporter.get("/reports/mine").get_data(as_text=True)
    assert "Someone reported the same problem first" in mine
    assert "Reply quotes 2023 prices" in mine  # the primary, under "Reports you follow"
    assert reporter.get(f"/reports/{primary.id}").status_code == 200

    advance(primary.id, "acted_on", cast)
    assert _outcomes(app, cast.other) == ["Your report about Support Assistant was acted on"]
    for person in (cast.reporter, follower):
        assert _outcomes(app, person) == [
            "A report you follow about Support Assistant was acted on"
        ]
    assert report_row(app, duplicate.id).reporter_notified_at is not None


def test_duplicate_rules(app, cast, browser_as, file_report):
    report = file_report(cast.reporter, cast.agent, summary="First")
    other_agent = file_report(cast.reporter, cast.other_agent, summary="Elsewhere")
    triage = browser_as(cast.triage)
    page = triage.get(f"/reports/{report.id}").get_data(as_text=True)
    version = version_on(page, "duplicate")
    cases = [
        (str(report.id), "A report cannot duplicate itself."),
        (str(other_agent.id), "The primary report must be about the same agent."),
        ("9999", "There is no report with that number."),
    ]
    for primary, message in cases:
        response = triage.post(
            f"/reports/{report.id}/duplicate",
            data={"duplicate-primary": primary, "duplicate-version": version},
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert report_row(app, report.id).status is ReportStatus.NEW
