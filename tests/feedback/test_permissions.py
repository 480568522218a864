"""Who may see and change what. Every state change is tried by the wrong people."""

import pytest

from portal.feedback.models import ReportStatus
from tests.feedback.conftest import report_row

ACTION_POSTS = {
    "triage": {"triage-severity": "high"},
    "route": {"route-assignee": "{owner}"},
    "start": {},
    "act": {"act-action_kind": "no_change", "act-note": "Explained."},
    "decline": {"decline-reason": "Not a fault."},
    "duplicate": {"duplicate-primary": "{other_report}"},
    "notes": {"note-note": "Internal."},
}


def _post_action(browser, report, action, cast, other_report=0):
    prefix = "note" if action == "notes" else action
    data = {
        key: value.format(owner=cast.owner.id, other_report=other_report)
        for key, value in ACTION_POSTS[action].items()
    }
    data[f"{prefix}-version"] = str(report.version)
    return browser.post(f"/reports/{report.id}/{action}", data=data)


def test_another_reporters_report_is_not_found(cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    other = browser_as(cast.other)
    assert other.get(f"/reports/{filed.id}").status_code == 404
    assert other.get("/reports/999").status_code == 404  # missing looks the same
    assert (
        other.post(f"/reports/{filed.id}/confirm", data={"confirm-fixed": "yes"}).status_code == 404
    )
    assert other.post(f"/reports/{filed.id}/unsubscribe").status_code == 404
    assert "wrong refund amount" not in other.get("/reports/mine").get_data(as_text=True)


def test_an_owner_sees_reports_about_their_agents_only(cast, browser_as, file_report):
    mine = file_report(cast.reporter, cast.agent)
    theirs = file_report(cast.reporter, cast.other_agent, summary="Other agent is slow")
    owner = browser_as(cast.owner)
    assert owner.get(f"/reports/{mine.id}").status_code == 200
    assert owner.get(f"/reports/{theirs.id}").status_code == 404
    # ...and cannot act on another agent's report: it is not found for them.
    assert _post_action(owner, theirs, "act", cast).status_code == 404


@pytest.mark.parametrize("action", sorted(ACTION_POSTS))
def test_reporters_trainees_and_managers_cannot_change_a_report(
    app, cast, make_user, browser_as, file_report, action
):
    filed = file_report(cast.reporter, cast.agent)
    primary = file_report(cast.other, cast.agent, summary="Totally different problem here")
    for person in (cast.reporter, cast.manager, make_user("trainee")):
        response = _post_action(browser_as(person), filed, action, cast, primary.id)
        assert response.status_code == 403, (action, person.email)
    report = report_row(app, filed.id)
    assert report.status is ReportStatus.NEW and report.assignee_id is None
    assert report.version == filed.version


def test_routing_is_for_triage_not_for_owners(app, cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    response = _post_action(browser_as(cast.owner), filed, "route", cast)
    assert response.status_code == 403
    response = _post_action(browser_as(cast.owner), filed, "triage", cast)
    assert response.status_code == 403
    assert report_row(app, filed.id).assignee_id is None


def test_only_the_reporter_answers_for_their_report(app, cast, browser_as, file_report, advance):
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "acted_on", cast)
    version = str(report_row(app, filed.id).version)
    for person in (cast.triage, cast.owner, cast.admin):
        response = browser_as(person).post(
            f"/reports/{filed.id}/confirm",
            data={"confirm-fixed": "yes", "confirm-version": version},
        )
        assert response.status_code == 404, person.email
    assert report_row(app, filed.id).status is ReportStatus.ACTED_ON


def test_queue_and_assigned_pages_need_their_roles(cast, browser_as):
    reporter = browser_as(cast.reporter)
    for url in ("/triage", "/triage/export.csv", "/assigned"):
        assert reporter.get(url).status_code == 403, url
    assert reporter.post("/triage/bulk", data={"report_ids": "1", "route": "1"}).status_code == 403
    owner = browser_as(cast.owner)
    assert owner.get("/triage").status_code == 403
    assert owner.get("/assigned").status_code == 200


def test_followers_see_progress_but_not_the_details(cast, browser_as, file_report):
    filed = file_report(
        cast.other,
        cast.agent,
        summary="Refund amount off by a cent",
        details="Customer 5521, order 99812",
        run_ref="RUN-SECRET-1",
        files=[("order.txt", b"order 99812")],
    )
    follower = browser_as(cast.reporter)
    follower.post(f"/reports/{filed.id}/subscribe")
    page = follower.get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "Refund amount off by a cent" in page
    assert "Customer 5521" not in page and "RUN-SECRET-1" not in page and "order.txt" not in page
    assert follower.get(f"/reports/{filed.id}/attachments/1").status_code == 404
