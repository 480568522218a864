"""Bad input of every kind gets a clear answer, never a 500 and never a half-saved report."""

from tests.feedback.conftest import count_reports, report_row
from tests.feedback.test_report_form import report_form


def test_odd_input_to_the_report_form(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    cases = [
        (report_form(occurred_at="9999-12-31T23:59", tz_offset="900"), 400),
        (report_form(occurred_at="not a date"), 400),
        (report_form(category="unsafe\x00"), 400),
        (report_form(severity="extreme"), 400),
        (report_form(summary="   "), 400),
    ]
    for data, status in cases:
        response = browser.post("/report", data=data)
        assert response.status_code == status, data
    assert count_reports(app) == 0

    response = browser.post(
        "/report",
        data=report_form(
            summary="Null\x00 byte in the summary",
            details="and\x00 here",
            tz_offset="garbage",
            submission_key="k\x00ey",
        ),
    )
    assert response.status_code == 302
    report = report_row(app, 1)
    assert report.summary == "Null byte in the summary" and report.details == "and here"


def test_odd_queries_and_forged_action_forms(app, cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    triage = browser_as(cast.triage)
    for url in (
        "/triage?q=%00&agent=%00&page=-3&sort=%00&assignee=x&status=all",
        "/triage/export.csv?q=50%25_off",
        "/report/similar?agent=%00&q=%00",
        "/report/similar?agent=support-assistant&q=" + "refund+" * 300,
        "/you-said-we-did?agent=%00",
    ):
        assert triage.get(url).status_code == 200, url

    forged = [
        ("act", {"act-action_kind": "nonsense", "act-note": "x", "act-version": "1"}, 400),
        ("route", {"route-assignee": str(cast.owner.id), "route-version": "abc"}, 409),
        ("act", {"act-action_kind": "no_change", "act-note": "", "act-version": "1"}, 400),
        ("route", {"route-assignee": "999999", "route-version": str(filed.version)}, 400),
        (
            "route",
            {"route-assignee": str(cast.reporter.id), "route-version": str(filed.version)},
            400,
        ),
        ("duplicate", {"duplicate-primary": "abc", "duplicate-version": "1"}, 400),
        ("triage", {"triage-severity": "extreme", "triage-version": "1"}, 400),
        ("decline", {"decline-reason": "x" * 6000, "decline-version": "1"}, 400),
    ]
    for action, data, status in forged:
        response = triage.post(f"/reports/{filed.id}/{action}", data=data)
        assert response.status_code == status, (action, data, response.status_code)
    report = report_row(app, filed.id)
    assert report.version == filed.version and report.assignee_id is None
    assert (
        triage.post(
            "/triage/bulk", data={"report_ids": ["x", "1"], "severity": "nope", "set_severity": "1"}
        ).status_code
        == 302
    )
