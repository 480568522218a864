"""The closed loop's measures on a hand-computed example (DESIGN.md, "Measures").

Period: January 2025; "now" is 10 February 2025. Hours to act per severity: critical 4, high 24,
medium 72, low 240.

 #  agent  team     filed      sev       status     acted after  told  answer  SLA due
 1  A      Support  2 Jan 10h  high      acted_on   12 h         yes   -       +24 h   met
 2  A      Support  3 Jan 00h  critical  closed      6 h         yes   fixed   +4 h    missed
 3  A      -        5 Jan      medium    declined   48 h         yes   -       +72 h   met
 4  A      -        6 Jan      low       reopened   -            -     not     20 Feb  in flight
 5  A      -        7 Jan      high      routed     -            -     -       8 Jan   missed (open)
 6  A      -        8 Jan      medium    duplicate  (left out of every measure)
 7  A      -        9 Jan      medium    new        -            -     -       15 Feb  in flight
 8  A      -        3 Feb      high      acted_on   (filed after the period)
 9  B      -       10 Jan      high      acted_on   30 h         yes   -       +24 h   missed
10  A      -       11 Jan      medium    acted_on  100 h         no    -       +72 h   missed

Closed loop: 8 reports count (all but 6 and 8); closed 1, 2, 3, 9 = 4 -> 50 %; in flight 4, 7 = 2.
Confirmed fix: answered 2 and 4, fixed 2 -> 50 %.
Time to act: 6, 12, 30, 48, 100 h -> median 30 h; p90 at rank 3.6 -> 48 + 0.6 x 52 = 79.2 h.
SLA: high met 1 missed 2 (1 / 5, 9); critical 0/1; medium met 1 missed 1 (3 / 10); low none yet.
"""

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.core.db import db
from portal.feedback import metrics
from portal.feedback.models import Report, ReportStatus, Severity

JAN, FEB = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
NOW = datetime(2025, 2, 10, tzinfo=UTC)
HOURS = {Severity.CRITICAL: 4, Severity.HIGH: 24, Severity.MEDIUM: 72, Severity.LOW: 240}


def _day(day: int, hour: int = 0, month: int = 1) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


ROWS = [
    # n, agent, support team, filed, severity, status, acted after h, told, is_fixed, due override
    (1, "A", True, _day(2, 10), Severity.HIGH, ReportStatus.ACTED_ON, 12, True, None, None),
    (2, "A", True, _day(3), Severity.CRITICAL, ReportStatus.CLOSED, 6, True, True, None),
    (3, "A", False, _day(5), Severity.MEDIUM, ReportStatus.DECLINED, 48, True, None, None),
    (
        4,
        "A",
        False,
        _day(6),
        Severity.LOW,
        ReportStatus.REOPENED,
        None,
        False,
        False,
        _day(20, 0, 2),
    ),
    (5, "A", False, _day(7), Severity.HIGH, ReportStatus.ROUTED, None, False, None, None),
    (6, "A", False, _day(8), Severity.MEDIUM, ReportStatus.DUPLICATE, None, False, None, None),
    (7, "A", False, _day(9), Severity.MEDIUM, ReportStatus.NEW, None, False, None, _day(15, 0, 2)),
    (8, "A", False, _day(3, 0, 2), Severity.HIGH, ReportStatus.ACTED_ON, 5, True, None, None),
    (9, "B", False, _day(10), Severity.HIGH, ReportStatus.ACTED_ON, 30, True, None, None),
    (10, "A", False, _day(11), Severity.MEDIUM, ReportStatus.ACTED_ON, 100, False, None, None),
]


@pytest.fixture
def example(app, cast, file_report):
    with app.app_context():
        team = accounts.get_or_create_team("Support")
        db.session.get(User, cast.reporter.id).team = team
        db.session.commit()
        team_id = team.id
    agents = {"A": cast.agent, "B": cast.other_agent}
    for n, agent, support, filed, severity, status, acted, told, fixed, due in ROWS:
        reporter = cast.reporter if support else cast.other
        report_id = file_report(reporter, agents[agent], summary=f"Example report {n}").id
        assert report_id == n
        with app.app_context():
            report = db.session.get(Report, report_id)
            report.created_at = report.sla_started_at = filed
            report.severity = severity
            report.status = status
            report.sla_due_at = due or filed + timedelta(hours=HOURS[severity])
            report.sla_escalation_due_at = report.sla_due_at + timedelta(hours=HOURS[severity])
            report.acted_on_at = filed + timedelta(hours=acted) if acted is not None else None
            report.reporter_notified_at = report.acted_on_at if told else None
            report.is_fixed = fixed
            db.session.commit()
    return {"A": cast.agent.id, "B": cast.other_agent.id, "team": team_id}


def test_closed_loop_rate(app, example):
    with app.app_context():
        loop = metrics.closed_loop_rate(None, JAN, FEB, now=NOW)
        assert (loop.closed, loop.total, loop.in_flight, loop.rate) == (4, 8, 2, 0.5)
        agent_a = metrics.closed_loop_rate(db.session, JAN, FEB, agent_id=example["A"], now=NOW)
        assert (agent_a.closed, agent_a.total, agent_a.in_flight) == (3, 7, 2)
        team = metrics.closed_loop_rate(None, JAN, FEB, team_id=example["team"], now=NOW)
        assert (team.closed, team.total, team.rate) == (2, 2, 1.0)
        empty = metrics.closed_loop_rate(None, FEB, FEB, now=NOW)
        assert (empty.total, empty.rate) == (0, None)


def test_confirmed_fix_rate(app, example):
    with app.app_context():
        fix = metrics.confirmed_fix_rate(None, JAN, FEB)
        assert (fix.fixed, fix.answered, fix.rate) == (1, 2, 0.5)
        assert metrics.confirmed_fix_rate(None, JAN, FEB, agent_id=example["B"]).rate is None


def test_time_to_act_median_and_90th_percentile(app, example):
    with app.app_context():
        result = metrics.time_to_act(None, JAN, FEB)
    assert result.count == 5
    assert result.median_hours == pytest.approx(30.0, abs=1e-6)
    assert result.p90_hours == pytest.approx(79.2, abs=1e-6)


def test_sla_attainment_by_severity(app, example):
    with app.app_context():
        sla = metrics.sla_attainment(None, JAN, FEB, now=NOW)
    assert (sla[Severity.HIGH].met, sla[Severity.HIGH].missed) == (1, 2)
    assert (sla[Severity.CRITICAL].met, sla[Severity.CRITICAL].missed) == (0, 1)
    assert (sla[Severity.MEDIUM].met, sla[Severity.MEDIUM].missed) == (1, 1)
    assert sla[Severity.MEDIUM].rate == 0.5
    assert sla[Severity.LOW].total == 0 and sla[Severity.LOW].rate is None


def test_percentile_interpolates_like_percentile_cont():
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([7.0], 0.9) == 7.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
