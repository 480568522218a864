"""A small world with figures worked out by hand (see `world`), and helpers to grow it in bulk.

Rows go straight into the tables: the dashboards read what the feedback, survey, training and
governance packages store, and the tests state exactly what is stored.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.accounts import services as accounts
from portal.accounts.models import Team, User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback.models import Report, ReportStatus, Severity
from portal.governance.models import AgentPeriodFigures, FiguresSource
from portal.surveys.models import (
    Cadence,
    SurveyCampaign,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
    SurveyRoundAudience,
    survey_campaign_agents,
)
from portal.training.models import Assignment, Attempt, ModuleVersion, TrainingModule
from tests.api.conftest import api, make_token  # noqa: F401 - fixtures, shared

WINDOW = {"from": "2026-07-01", "to": "2026-09-30"}
_serial = itertools.count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def add_report(
    agent_id: int,
    reporter_id: int | None,
    filed: datetime,
    *,
    category: ReportCategory = ReportCategory.WRONG_OUTPUT,
    severity: Severity = Severity.MEDIUM,
    status: ReportStatus = ReportStatus.NEW,
    acted: datetime | None = None,
    notified: bool = False,
    due: datetime | None = None,
    fixed: bool | None = None,
) -> Report:
    report = Report(
        agent_id=agent_id,
        reporter_id=reporter_id,
        category=category,
        severity=severity,
        summary=f"Report {next(_serial)}",
        status=status,
        created_at=filed,
        sla_started_at=filed,
        sla_due_at=due or filed + timedelta(hours=72),
        sla_escalation_due_at=(due or filed + timedelta(hours=72)) + timedelta(hours=24),
        acted_on_at=acted,
        reporter_notified_at=acted if notified else None,
        is_fixed=fixed,
    )
    db.session.add(report)
    return report


def add_person(team: Team | None, label: str) -> User:
    user = User(
        email=f"{label}-{next(_serial)}@people.example.com",
        name=label,
        team=team,
        is_active_account=True,
    )
    db.session.add(user)
    return user


@dataclass
class SurveyKit:
    campaign: SurveyCampaign
    rounds: dict[int, SurveyRound]  # month -> closed round


def add_survey(agents: list[Agent], months: list[int], threshold: int = 5) -> SurveyKit:
    campaign = SurveyCampaign(
        name="Monthly pulse",
        cadence=Cadence.MONTHLY,
        opens_on=date(2026, months[0], 1),
        anonymity_threshold=threshold,
        is_for_everyone=True,
        launched_at=at(months[0], 1, 0),
        opened_at=at(months[0], 1, 0),
    )
    db.session.add(campaign)
    db.session.flush()
    for agent in agents:
        db.session.execute(
            survey_campaign_agents.insert().values(campaign_id=campaign.id, agent_id=agent.id)
        )
    rounds = {}
    for number, month in enumerate(months, start=1):
        first = date(2026, month, 1)
        following = date(2026 + month // 12, month % 12 + 1, 1)
        survey_round = SurveyRound(
            campaign_id=campaign.id,
            number=number,
            period_start=first,
            period_end=following - timedelta(days=1),
            opens_at=at(month, 1, 0),
            closes_at=datetime.combine(following, datetime.min.time(), tzinfo=UTC),
            opened_at=at(month, 1, 0),
            closed_at=datetime.combine(following, datetime.min.time(), tzinfo=UTC),
        )
        db.session.add(survey_round)
        rounds[month] = survey_round
    db.session.flush()
    return SurveyKit(campaign, rounds)


def add_answers(
    survey_round: SurveyRound, agent: Agent, team: Team | None, answers: list[tuple[int, int, int]]
) -> None:
    for satisfaction, trust, nps in answers:
        db.session.add(
            SurveyResponse(
                round_id=survey_round.id,
                agent_id=agent.id,
                team_id=team.id if team else None,
                period_start=survey_round.period_start,
                satisfaction=satisfaction,
                trust=trust,
                nps=nps,
            )
        )


def add_participation(survey_round: SurveyRound, people: list[User]) -> None:
    for person in people:
        db.session.add(
            SurveyParticipation(round_id=survey_round.id, user_id=person.id, team_id=person.team_id)
        )


def add_audience(survey_round: SurveyRound, sizes: dict[Team, int]) -> None:
    for team, size in sizes.items():
        db.session.add(SurveyRoundAudience(round_id=survey_round.id, team_id=team.id, size=size))


def add_module(agent: Agent) -> tuple[TrainingModule, ModuleVersion]:
    module = TrainingModule(
        agent_id=agent.id, is_published=True, live_version_number=1, certification_version_number=1
    )
    db.session.add(module)
    db.session.flush()
    version = ModuleVersion(
        module_id=module.id, number=1, title=f"Working with {agent.name}", published_at=at(6, 1)
    )
    db.session.add(version)
    db.session.flush()
    return module, version


def add_assignment(module: TrainingModule, person: User, due: date, done: bool) -> None:
    db.session.add(
        Assignment(
            user_id=person.id,
            module_id=module.id,
            required_version_number=1,
            due_on=due,
            completed_at=datetime.combine(due, datetime.min.time(), tzinfo=UTC) if done else None,
        )
    )


def add_attempt(module: TrainingModule, version: ModuleVersion, person: User, when, passed):
    db.session.add(
        Attempt(
            user_id=person.id,
            module_id=module.id,
            version_id=version.id,
            attempt_number=1,
            score_pct=Decimal(90 if passed else 40),
            passed=passed,
            submitted_at=when,
        )
    )


def add_figures(agent: Agent, start: date, end: date, runs: int, quality=None, cost=None):
    db.session.add(
        AgentPeriodFigures(
            agent_id=agent.id,
            period_start=start,
            period_end=end,
            runs=runs,
            quality_pct=None if quality is None else Decimal(quality),
            cost_per_unit=None if cost is None else Decimal(cost),
            source=FiguresSource.FORM,
        )
    )


@pytest.fixture
def world(app, make_user, make_agent):
    """Two agents, two teams, July to September 2026, every figure worked out by hand.

    Alpha (thresholds: quality >= 92, safety <= 0.4 per 1,000, cost <= 0.35, satisfaction >= 4.0):
      reports (Support: r1, r2; Claims: r3), with hours from filing to action:
        1 Jul 3  r1 wrong_output high     acted +4h, told, closed, SLA met, confirmed fixed
        2 Jul 10 r3 unsafe       critical acted +10h, told, SLA missed
        3 Jul 20 r1 usability    low      still routed, SLA passed (missed)
        4 Aug 5  r2 wrong_output medium   acted +24h, told, closed, SLA met, confirmed fixed
        5 Aug 6  r2 wrong_output medium   duplicate (left out everywhere)
        6 Aug 15 r3 unsafe       high     declined +6h, told, SLA met
        7 Sep 1  r1 integration  medium   acted +48h, NOT told, SLA met, answered "not fixed"
        8 Sep 30 23:00 UTC r3 concern low new, SLA not due yet (in flight)
      survey answers (threshold 5): Jul 6 (Support 4, Claims 2), Aug 7 (Support), Sep 4 (Support 3,
        Claims 1); run figures Jul 1,000 runs (90 %, 0.30), Aug 3,000 runs (94 %, 0.34).
    Beta: one report (Jul 5) and one training assignment, to show the agent filter works.
    """
    manager = make_user("manager", email="maya@example.com", name="Maya Manager")
    owner = make_user("owner", email="olivia@example.com", name="Olivia Owner")
    beta_owner = make_user("owner", email="bruno@example.com", name="Bruno Owner")
    alpha = make_agent(
        "alpha",
        owner=owner,
        name="Alpha Assistant",
        quality_min_pct=Decimal("92"),
        safety_max_per_1000=Decimal("0.4"),
        cost_max_per_unit=Decimal("0.35"),
        satisfaction_min=Decimal("4.0"),
    )
    beta = make_agent("beta", owner=beta_owner, name="Beta Bot")
    with app.app_context():
        support = accounts.get_or_create_team("Support")
        claims = accounts.get_or_create_team("Claims")
        r1, r2 = add_person(support, "r1"), add_person(support, "r2")
        r3 = add_person(claims, "r3")
        db.session.flush()
        a, b = db.session.get(Agent, alpha.id), db.session.get(Agent, beta.id)
        U, S, C = ReportCategory, ReportStatus, Severity
        add_report(
            a.id,
            r1.id,
            at(7, 3, 10),
            category=U.WRONG_OUTPUT,
            severity=C.HIGH,
            status=S.CLOSED,
            acted=at(7, 3, 14),
            notified=True,
            due=at(7, 4, 10),
            fixed=True,
        )
        add_report(
            a.id,
            r3.id,
            at(7, 10, 9),
            category=U.UNSAFE,
            severity=C.CRITICAL,
            status=S.ACTED_ON,
            acted=at(7, 10, 19),
            notified=True,
            due=at(7, 10, 13),
        )
        add_report(
            a.id,
            r1.id,
            at(7, 20, 8),
            category=U.USABILITY,
            severity=C.LOW,
            status=S.ROUTED,
            due=at(7, 30, 8),
        )
        add_report(
            a.id,
            r2.id,
            at(8, 5, 12),
            category=U.WRONG_OUTPUT,
            severity=C.MEDIUM,
            status=S.CLOSED,
            acted=at(8, 6, 12),
            notified=True,
            due=at(8, 8, 12),
            fixed=True,
        )
        add_report(
            a.id,
            r2.id,
            at(8, 6, 12),
            category=U.WRONG_OUTPUT,
            severity=C.MEDIUM,
            status=S.DUPLICATE,
        )
        add_report(
            a.id,
            r3.id,
            at(8, 15, 0),
            category=U.UNSAFE,
            severity=C.HIGH,
            status=S.DECLINED,
            acted=at(8, 15, 6),
            notified=True,
            due=at(8, 16, 0),
        )
        add_report(
            a.id,
            r1.id,
            at(9, 1, 9),
            category=U.INTEGRATION,
            severity=C.MEDIUM,
            status=S.ACTED_ON,
            acted=at(9, 3, 9),
            notified=False,
            due=at(9, 4, 9),
            fixed=False,
        )
        add_report(
            a.id,
            r3.id,
            at(9, 30, 23),
            category=U.CONCERN,
            severity=C.LOW,
            status=S.NEW,
            due=utcnow() + timedelta(days=10),
        )
        add_report(
            b.id,
            r1.id,
            at(7, 5, 9),
            category=U.WRONG_OUTPUT,
            severity=C.LOW,
            status=S.NEW,
            due=at(7, 15, 9),
        )

        # Survey: respondents (participation is per person; answers carry only the team).
        support_people = [r1, r2] + [add_person(support, f"s{i}") for i in range(5)]
        claims_people = [r3, add_person(claims, "c1")]
        db.session.flush()
        kit = add_survey([a], [7, 8, 9])
        jul, aug, sep = kit.rounds[7], kit.rounds[8], kit.rounds[9]
        add_answers(jul, a, support, [(5, 4, 10), (4, 4, 9), (4, 3, 8), (3, 3, 6)])
        add_answers(jul, a, claims, [(4, 4, 7), (4, 2, 3)])
        add_answers(
            aug,
            a,
            support,
            [(2, 2, 9), (3, 2, 10), (3, 3, 10), (4, 3, 7), (3, 2, 3), (3, 3, 8), (3, 3, 6)],
        )
        add_answers(sep, a, support, [(4, 4, 9), (4, 4, 9), (5, 4, 9)])
        add_answers(sep, a, claims, [(5, 5, 9)])
        add_participation(jul, support_people[:4] + claims_people[:2])
        add_participation(aug, support_people[:7])
        add_participation(sep, support_people[:3] + claims_people[:1])
        for survey_round in kit.rounds.values():
            add_audience(survey_round, {support: 10, claims: 5})

        # Training: Support 3 due (2 done, 1 overdue), Claims 1 due (done); beta: Support 1 due.
        module, version = add_module(a)
        beta_module, _ = add_module(b)
        add_assignment(module, r1, date(2026, 7, 15), True)
        add_assignment(module, r2, date(2026, 8, 10), True)
        add_assignment(module, support_people[2], date(2026, 9, 20), False)
        add_assignment(module, support_people[3], date(2026, 10, 5), False)  # outside the window
        add_assignment(module, r3, date(2026, 8, 1), True)
        add_assignment(beta_module, support_people[4], date(2026, 7, 20), False)
        add_attempt(module, version, r1, at(7, 10), True)
        add_attempt(module, version, r2, at(8, 9), False)
        add_attempt(module, version, r3, at(7, 30), True)

        add_figures(a, date(2026, 7, 1), date(2026, 7, 31), 1000, "90.00", "0.3000")
        add_figures(a, date(2026, 8, 1), date(2026, 8, 31), 3000, "94.00", "0.3400")
        db.session.commit()
        ids = SimpleNamespace(support=support.id, claims=claims.id, campaign=kit.campaign.id)
    return SimpleNamespace(
        manager=manager, owner=owner, beta_owner=beta_owner, alpha=alpha, beta=beta, **vars(ids)
    )


@pytest.fixture
def count_statements(statements_of):
    """count_statements(fn) -> (result, number of SQL statements fn ran)."""

    def count(fn):
        result, statements = statements_of(fn)
        return result, len(statements)

    return count
