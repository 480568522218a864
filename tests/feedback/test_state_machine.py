"""One state machine on the server; stale forms are told the report changed and lose nothing."""

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.db import db
from portal.feedback import services
from portal.feedback.models import ActionKind, Report, ReportStatus, Severity
from portal.feedback.services import TRANSITIONS, ReportError
from tests.feedback.conftest import report_row
from tests.feedback.test_loop import version_on


def test_acting_on_a_closed_report_is_refused(app, cast, browser_as, file_report, advance):
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "closed", cast)
    owner = browser_as(cast.owner)
    page = owner.get(f"/reports/{filed.id}").get_data(as_text=True)
    assert "Record what was done" not in page  # no form offered...
    response = owner.post(  # ...and the server refuses a forged one
        f"/reports/{filed.id}/act",
        data={
            "act-action_kind": "no_change",
            "act-note": "Again.",
            "act-version": str(report_row(app, filed.id).version),
        },
    )
    assert response.status_code == 409
    assert "This report is closed; it cannot be acted on now." in response.get_data(as_text=True)
    assert report_row(app, filed.id).status is ReportStatus.CLOSED


def test_answering_before_anything_was_done_is_refused(app, cast, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent)
    response = browser_as(cast.reporter).post(
        f"/reports/{filed.id}/confirm",
        data={"confirm-fixed": "yes", "confirm-version": str(filed.version)},
    )
    assert response.status_code == 409
    assert "there is no action to answer yet" in response.get_data(as_text=True)
    assert report_row(app, filed.id).status is ReportStatus.NEW


@pytest.mark.parametrize(
    ("status", "attempt"),
    [
        ("new", "start"),
        ("new", "act"),
        ("acted_on", "route"),
        ("acted_on", "decline"),
        ("closed", "triage"),
        ("declined", "route"),
        ("duplicate", "act"),
    ],
)
def test_the_services_refuse_moves_the_table_does_not_allow(app, cast, status, attempt):
    with app.app_context():
        triage = db.session.get(User, cast.triage.id)
        owner = db.session.get(User, cast.owner.id)
        reporter = db.session.get(User, cast.reporter.id)
        agent = db.session.get(type(cast.agent), cast.agent.id)
        new = lambda summary: services.file_report(  # noqa: E731
            reporter,
            services.ReportInput(agent=agent, category=cast_category(), summary=summary),
        )
        report = new("Main report")
        if status == "duplicate":
            services.mark_duplicate(report, new("Primary report"), triage)
        elif status == "declined":
            services.decline_report(report, "Not a fault.", triage)
        elif status in ("acted_on", "closed"):
            services.triage_report(report, triage)
            services.mark_acted_on(report, ActionKind.NO_CHANGE, "Explained.", triage)
            if status == "closed":
                services.confirm_fix(report, True, "", reporter)
        calls = {
            "start": lambda: services.start_work(report, owner),
            "act": lambda: services.mark_acted_on(report, ActionKind.NO_CHANGE, "x", owner),
            "route": lambda: services.route_report(report, owner, triage),
            "decline": lambda: services.decline_report(report, "x", triage),
            "triage": lambda: services.triage_report(report, triage, Severity.LOW),
        }
        before = report.status
        with pytest.raises(ReportError) as refused:
            calls[attempt]()
        assert refused.value.status == 409
        assert report.status is before


def cast_category():
    from portal.agents.models import ReportCategory

    return ReportCategory.WRONG_OUTPUT


def test_every_status_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == set(ReportStatus)
    for finished in (ReportStatus.CLOSED, ReportStatus.DECLINED, ReportStatus.DUPLICATE):
        assert not TRANSITIONS[finished]
    assert TRANSITIONS[ReportStatus.ACTED_ON] == {ReportStatus.CLOSED, ReportStatus.REOPENED}


def test_a_stale_act_form_answers_conflict_and_keeps_the_note(
    app, cast, browser_as, file_report, advance
):
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "routed", cast)
    owner, triage = browser_as(cast.owner), browser_as(cast.triage)
    owner_page = owner.get(f"/reports/{filed.id}").get_data(as_text=True)
    stale_version = version_on(owner_page, "act")

    # Meanwhile triage raises the severity: the report changes under the owner's open page.
    triage_page = triage.get(f"/reports/{filed.id}").get_data(as_text=True)
    triage.post(
        f"/reports/{filed.id}/triage",
        data={"triage-severity": "critical", "triage-version": version_on(triage_page, "triage")},
    )

    note = "We rolled back yesterday's prompt change; replies use this year's prices again."
    response = owner.post(
        f"/reports/{filed.id}/act",
        data={"act-action_kind": "config_change", "act-note": note, "act-version": stale_version},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This report changed since you opened it" in page
    assert note.replace("'", "&#39;") in page  # the typed note is kept
    assert "Critical" in page  # the latest state is shown
    assert report_row(app, filed.id).status is ReportStatus.ROUTED

    # Sending again from the refreshed form works.
    response = owner.post(
        f"/reports/{filed.id}/act",
        data={
            "act-action_kind": "config_change",
            "act-note": note,
            "act-version": version_on(page, "act"),
        },
    )
    assert response.status_code == 302
    assert report_row(app, filed.id).status is ReportStatus.ACTED_ON


def test_two_people_acting_at_the_same_moment_one_wins(app, cast, file_report, advance):
    """The database catches what the form check cannot: a change committed between our read and
    our write (version_id_col makes the UPDATE match no row)."""
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "routed", cast)
    with app.app_context():
        report = db.session.get(Report, filed.id)
        owner = db.session.get(User, cast.owner.id)
        # Another process acts on the same report after we loaded it.
        with db.engine.begin() as other:
            other.execute(
                sa.update(Report.__table__)
                .where(Report.__table__.c.id == filed.id)
                .values(status="acted_on", version=Report.__table__.c.version + 1)
            )
        with pytest.raises(ReportError) as refused:
            services.mark_acted_on(
                report, ActionKind.NO_CHANGE, "Explained.", owner, expected_version=report.version
            )
        assert refused.value.status == 409
        db.session.rollback()
    assert report_row(app, filed.id).action_note == ""
