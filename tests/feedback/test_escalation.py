"""`portal sweep` escalates overdue reports once per level: past the SLA to the assignee and triage,
past twice the SLA to the agent's business owner and the managers."""

from datetime import timedelta

import sqlalchemy as sa

from portal.agents.models import Agent
from portal.core.db import db
from portal.feedback.models import EventKind, Report, ReportEvent
from portal.notifications.models import Notification


def _shift_clock(app, report_id: int, hours: float) -> None:
    """Pretend the report was filed `hours` earlier."""
    with app.app_context():
        report = db.session.get(Report, report_id)
        for column in ("created_at", "sla_started_at", "sla_due_at", "sla_escalation_due_at"):
            setattr(report, column, getattr(report, column) - timedelta(hours=hours))
        db.session.commit()


def sweep(app) -> str:
    # `flask` pushes the app context for app.cli commands; the test runner does not.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "sweep"])
    # Only this package's task is checked here; other packages test their own tasks.
    return result.output


def _escalations(app) -> dict[str, list[str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.user_id, Notification.title).where(
                Notification.kind == "report_escalated"
            )
        ).all()
        events = db.session.scalars(
            sa.select(ReportEvent.detail).where(ReportEvent.kind == EventKind.ESCALATED)
        ).all()
    return {"notified": sorted(str(user_id) for user_id, _ in rows), "events": list(events)}


def test_sweep_escalates_each_level_once(app, cast, make_user, file_report, advance):
    business = make_user("owner", name="Bea Business")
    with app.app_context():
        db.session.get(Agent, cast.agent.id).business_owner_id = business.id
        db.session.commit()
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "routed", cast)  # severity high: 24 hours

    assert "feedback-sla-escalation: 0" in sweep(app)
    assert _escalations(app)["events"] == []

    _shift_clock(app, filed.id, 25)
    assert "feedback-sla-escalation: 1" in sweep(app)
    first = _escalations(app)
    assert first["events"] == ["past its SLA"]
    assert first["notified"] == sorted([str(cast.owner.id), str(cast.triage.id)])

    assert "feedback-sla-escalation: 0" in sweep(app)  # idempotent
    assert _escalations(app) == first

    _shift_clock(app, filed.id, 24)  # now 49 hours: past twice the SLA
    sweep(app)
    second = _escalations(app)
    assert second["events"] == ["past its SLA", "past twice its SLA"]
    assert second["notified"] == sorted(
        [str(cast.owner.id), str(cast.triage.id), str(business.id), str(cast.manager.id)]
    )
    sweep(app)
    assert _escalations(app) == second


def test_finished_reports_are_not_escalated(app, cast, file_report, advance):
    filed = file_report(cast.reporter, cast.agent)
    advance(filed.id, "acted_on", cast)
    _shift_clock(app, filed.id, 24 * 30)
    assert "feedback-sla-escalation: 0" in sweep(app)
    assert _escalations(app)["events"] == []
