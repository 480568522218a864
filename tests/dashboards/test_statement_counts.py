"""A dashboard page runs the same number of SQL statements with 10 or 200 reports and answers."""

from datetime import timedelta

from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback.models import ReportStatus, Severity
from portal.surveys.models import SurveyRound
from tests.dashboards.conftest import WINDOW, add_answers, add_report, at


def grow(app, world, reports: int, answers: int) -> None:
    with app.app_context():
        agent = db.session.get(Agent, world.alpha.id)
        rounds = db.session.scalars(db.select(SurveyRound).order_by(SurveyRound.id)).all()
        categories, severities = list(ReportCategory), list(Severity)
        for n in range(reports):
            filed = at(7 + n % 3, 1 + n % 28, n % 24)
            add_report(
                agent.id,
                None,
                filed,
                category=categories[n % len(categories)],
                severity=severities[n % len(severities)],
                status=ReportStatus.ACTED_ON if n % 2 else ReportStatus.NEW,
                acted=filed + timedelta(hours=1 + n % 50) if n % 2 else None,
                notified=bool(n % 2),
            )
        for n in range(answers):
            add_answers(rounds[n % len(rounds)], agent, None, [(1 + n % 5, 1 + n % 5, n % 11)])
        db.session.commit()


def test_statements_do_not_grow_with_the_data(app, client, login, world, count_statements):
    login(world.manager)
    urls = [
        ("/dashboards/", {**WINDOW}),
        ("/dashboards/agents/alpha", {**WINDOW}),
        ("/dashboards/agents/alpha", {**WINDOW, "team": str(world.support)}),
        ("/dashboards/charts/satisfaction.csv", {**WINDOW, "agent": "alpha"}),
    ]

    def measure() -> list[int]:
        counts = []
        for url, args in urls:
            response, statements = count_statements(lambda: client.get(url, query_string=args))  # noqa: B023
            assert response.status_code == 200
            counts.append(statements)
        return counts

    grow(app, world, reports=10, answers=10)
    small = measure()
    grow(app, world, reports=190, answers=190)
    large = measure()
    assert small == large
    assert max(large) < 150  # and stays modest
