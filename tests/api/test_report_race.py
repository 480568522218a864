"""An API retry in flight while the first request commits: it answers 200 with the report filed."""

import sqlalchemy as sa

from portal.api.views import scoped_submission_key
from portal.core.db import db
from portal.feedback.models import EventKind, ReportEvent
from tests.feedback.test_filing_race import other_copy_commits_first


def test_a_retry_that_loses_the_race_answers_200_with_the_report(app, make_user, make_agent, api):
    reporter = make_user(email="rosa@example.com")
    agent = make_agent("support-assistant")
    body = {"agent": "support-assistant", "category": "wrong_output", "summary": "Timed out"}
    key = scoped_submission_key(reporter.id, "retry-1")
    with other_copy_commits_first(app, reporter, agent, "Timed out", key) as filed:
        response = api(reporter).post(
            "/api/v1/reports", json=body, headers={"Idempotency-Key": "retry-1"}
        )

    assert filed and filed[0] > 0  # the race really happened
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == filed[0]
    assert response.get_json()["summary"] == "Timed out"
    with app.app_context():  # one report with one "filed" event: nothing doubled or half-saved
        assert db.session.scalars(sa.select(ReportEvent.kind)).all() == [EventKind.FILED]
