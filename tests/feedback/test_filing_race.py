"""Two copies of one submission in flight at once (a double click, a browser retry): both find the
submission key free, the one that commits first files the report, and the other answers with it."""

from contextlib import contextmanager

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback import services
from portal.feedback.models import EventKind, ReportEvent
from tests.feedback.conftest import count_reports
from tests.feedback.test_report_form import report_form


def inserting_the_report(statement: str) -> bool:
    return statement.startswith("INSERT INTO reports")


def searching_similar_reports(statement: str) -> bool:
    return "lower(reports.summary) LIKE" in statement


@contextmanager
def other_copy_commits_first(
    app, reporter, agent, summary: str, key: str, just_before=inserting_the_report
):
    """Just before this request runs the statement `just_before` picks (by default: INSERTs its
    report), the other copy of the submission is filed and committed on a connection of its own,
    as a second worker would."""
    with app.app_context():
        engine = db.engine
    filed: list[int] = []

    def file_other_copy(conn, cursor, statement, parameters, context, executemany):
        if filed or not just_before(statement):
            return
        filed.append(0)
        with app.app_context():  # a session (and connection) of its own
            report = services.file_report(
                db.session.get(User, reporter.id),
                services.ReportInput(
                    agent=db.session.get(Agent, agent.id),
                    category=ReportCategory.WRONG_OUTPUT,
                    summary=summary,
                    submission_key=key,
                ),
            )
            db.session.commit()
            filed[0] = report.id

    sa.event.listen(engine, "before_cursor_execute", file_other_copy)
    try:
        yield filed
    finally:
        sa.event.remove(engine, "before_cursor_execute", file_other_copy)


def test_the_copy_that_loses_the_race_answers_with_the_report_filed(app, cast, browser_as):
    browser = browser_as(cast.reporter)
    form = report_form(submission_key="double-click-1")
    with other_copy_commits_first(
        app, cast.reporter, cast.agent, form["summary"], "double-click-1"
    ) as filed:
        response = browser.post("/report", data=form)

    assert filed and filed[0] > 0  # the race really happened
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{filed[0]}"
    assert "Suggested reply quotes last year&#39;s prices" in browser.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert count_reports(app) == 1
    with app.app_context():  # one report, one "filed" event: nothing half-saved
        assert db.session.scalars(sa.select(ReportEvent.kind)).all() == [EventKind.FILED]


def test_a_copy_that_finds_its_twin_among_similar_reports_answers_with_it(app, cast, browser_as):
    """The twin committed after this copy checked the key but before it looked for similar open
    reports: the twin is this submission's report, not a "similar report" to choose from."""
    browser = browser_as(cast.reporter)
    form = report_form(submission_key="double-click-2")
    with other_copy_commits_first(
        app,
        cast.reporter,
        cast.agent,
        form["summary"],
        "double-click-2",
        just_before=searching_similar_reports,
    ) as filed:
        response = browser.post("/report", data=form)

    assert filed and filed[0] > 0  # the race really happened
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{filed[0]}"
    assert count_reports(app) == 1
