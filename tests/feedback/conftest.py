"""Factories for the feedback tests: a cast of people around one agent, reports filed through the
service, and a browser per person."""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback import services
from portal.feedback.attachments import UploadedFile
from portal.feedback.models import ActionKind, Report, Severity
from tests.conftest import sign_in

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def cast(make_user, make_agent):
    """People around one agent: its technical owner, triage, an admin, a manager, two reporters,
    and the owner of another agent."""
    people = SimpleNamespace(
        reporter=make_user(name="Rosa Reporter", email="rosa@example.com"),
        other=make_user(name="Oscar Other", email="oscar@example.com"),
        triage=make_user("triage", name="Tomas Triage", email="tomas@example.com"),
        owner=make_user("owner", name="Olivia Owner", email="olivia@example.com"),
        stranger_owner=make_user("owner", name="Stan Stranger", email="stan@example.com"),
        admin=make_user("admin", name="Ada Admin", email="ada@example.com"),
        manager=make_user("manager", name="Maya Manager", email="maya@example.com"),
    )
    people.agent = make_agent("support-assistant", owner=people.owner, name="Support Assistant")
    people.other_agent = make_agent("other-agent", owner=people.stranger_owner, name="Other Agent")
    return people


@pytest.fixture
def browser_as(app):
    """browser_as(user) -> a fresh test client signed in as `user` (several people in one test)."""

    def make(user):
        client = app.test_client()
        response = sign_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return make


@dataclass
class Filed:
    id: int
    version: int


@pytest.fixture
def file_report(app):
    """file_report(reporter, agent, summary=..., **ReportInput fields, files=[(name, bytes)])."""

    def make(reporter, agent, summary="The agent gave the wrong refund amount", **fields):
        files = [UploadedFile(name, content) for name, content in fields.pop("files", [])]
        fields.setdefault("category", ReportCategory.WRONG_OUTPUT)
        with app.app_context():
            report = services.file_report(
                db.session.get(User, reporter.id),
                services.ReportInput(
                    agent=db.session.get(Agent, agent.id), summary=summary, **fields
                ),
                files,
            )
            db.session.commit()
            return Filed(report.id, report.version)

    return make


@pytest.fixture
def advance(app):
    """advance(report_id, "acted_on", cast) walks a report through the services to a status."""

    def walk(report_id: int, to: str, people) -> None:
        with app.app_context():
            report = db.session.get(Report, report_id)
            triage = db.session.get(User, people.triage.id)
            owner = db.session.get(User, people.owner.id)
            steps = ["triaged", "routed", "in_progress", "acted_on", "closed"]
            for step in steps[: steps.index(to) + 1]:
                if step == "triaged":
                    services.triage_report(report, triage, Severity.HIGH)
                elif step == "routed":
                    services.route_report(report, owner, triage)
                elif step == "in_progress":
                    services.start_work(report, owner)
                elif step == "acted_on":
                    services.mark_acted_on(
                        report, ActionKind.CONFIG_CHANGE, "We changed the prompt.", owner
                    )
                elif step == "closed":
                    services.confirm_fix(report, True, "", db.session.get(User, report.reporter_id))
            db.session.commit()

    return walk


def report_row(app, report_id: int) -> Report:
    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report


def count_reports(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Report))
