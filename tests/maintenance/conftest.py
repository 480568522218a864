"""Factories for data-safety tests."""

import pytest

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback import services as feedback
from tests.api.conftest import api, make_token  # noqa: F401 - fixtures, shared


@pytest.fixture
def file_report(app):
    """file_report(reporter, agent, summary, confidential=False) -> the report's id."""

    def make(reporter, agent, summary: str, *, confidential: bool = False) -> int:
        with app.app_context():
            report = feedback.file_report(
                db.session.get(User, reporter.id),
                feedback.ReportInput(
                    agent=db.session.get(Agent, agent.id),
                    category=ReportCategory.WRONG_OUTPUT,
                    summary=summary,
                    details=f"Details of {summary}",
                    confidential=confidential,
                ),
            )
            db.session.commit()
            return report.id

    return make
