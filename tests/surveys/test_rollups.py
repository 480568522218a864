"""Survey rollups: the sums of a closed round, written when it closes, equal the answers' own sums."""

import random
import threading
import time
import uuid
from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.agents.models import Agent, Lifecycle
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.surveys import metrics, services
from portal.surveys.models import (
    Cadence,
    SurveyParticipation,
    SurveyParticipationRollup,
    SurveyResponse,
    SurveyRound,
    SurveyScoreRollup,
)
from tests.conftest import base_config
from tests.surveys.conftest import add_answers, at, team_id

TEAMS = ("Claims", "Finance", "Support", None)  # None: people without a team
GROUPINGS = [
    (),
    ("agent",),
    ("team",),
    ("period",),
    ("round",),
    ("agent", "period"),
    ("agent", "team", "period"),
    ("team", "round"),
]


def _expected_tallies(group_by, **filters) -> dict[tuple, tuple]:
    """The answers of closed rounds summed in Python, straight from the rows, per group."""
    rows = db.session.execute(
        sa.select(SurveyResponse, SurveyRound.period_start)
        .join(SurveyRound, SurveyResponse.round_id == SurveyRound.id)
        .where(SurveyRound.closed_at.is_not(None))
    ).all()
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for response, period in rows:
        values = {
            "agent": response.agent_id,
            "team": response.team_id,
            "period": period,
            "round": response.round_id,
        }
        if "agent_id" in filters and response.agent_id != filters["agent_id"]:
            continue
        if "team_id" in filters and response.team_id != filters["team_id"]:
            continue
        if "start" in filters and period < filters["start"]:
            continue
        total = sums[tuple(values[name] for name in group_by)]
        total[0] += 1
        total[1] += response.satisfaction
        total[2] += response.trust
        total[3] += response.nps >= 9
        total[4] += response.nps <= 6
    return {key: tuple(total) for key, total in sums.items()}


def _tallies(group_by, **filters) -> dict[tuple, tuple]:
    return {
        t.key: (t.responses, t.satisfaction_sum, t.trust_sum, t.promoters, t.detractors)
        for t in metrics.score_tallies(group_by=group_by, **filters)
    }


def _rollup_rows() -> list[tuple]:
    scores = db.session.execute(
        sa.select(
            SurveyScoreRollup.round_id,
            SurveyScoreRollup.agent_id,
            SurveyScoreRollup.team_id,
            SurveyScoreRollup.responses,
            SurveyScoreRollup.satisfaction_sum,
            SurveyScoreRollup.trust_sum,
            SurveyScoreRollup.promoters,
            SurveyScoreRollup.detractors,
        )
    ).all()
    people = db.session.execute(
        sa.select(
            SurveyParticipationRollup.round_id,
            SurveyParticipationRollup.team_id,
            SurveyParticipationRollup.participants,
        )
    ).all()
    return sorted(map(tuple, scores), key=repr) + sorted(map(tuple, people), key=repr)


@pytest.fixture
def history(app, make_user, make_agent, make_campaign):
    """Two agents, a monthly campaign from January 2026: January and February closed by the sweep
    (random answers from three teams and people without one), March open with answers."""
    agents = [make_agent(name="A"), make_agent(name="B")]
    people = [make_user(team=TEAMS[n % len(TEAMS)]) for n in range(12)]
    ref = make_campaign(
        agents, cadence=Cadence.MONTHLY, opens_on=date(2026, 1, 1), now=at(2026, 1, 1)
    )
    rng = random.Random(8)
    with app.app_context():
        round_ids = [ref.round_id]
        for month in (2, 3, 4):
            survey_round = db.session.get(SurveyRound, round_ids[-1])
            for agent in agents:
                for team in TEAMS:
                    scores = [
                        (rng.randint(1, 5), rng.randint(1, 5), rng.randint(0, 10))
                        for _ in range(rng.randint(0, 7))
                    ]
                    add_answers(survey_round.id, agent.id, scores, team=team)
            for person in people[: 4 + month]:
                db.session.add(
                    SurveyParticipation(
                        round_id=survey_round.id, user_id=person.id, team_id=person.team_id
                    )
                )
            db.session.commit()
            if month == 4:
                break  # March stays open
            services.advance_survey_rounds(at(2026, month, 1, 0))
            db.session.commit()
            round_ids.append(
                db.session.scalar(sa.select(SurveyRound.id).where(SurveyRound.closed_at.is_(None)))
            )
    return {"agents": [a.id for a in agents], "rounds": round_ids}


def test_the_rollups_equal_the_answers_of_the_closed_rounds(app, history):
    with app.app_context():
        claims = team_id("Claims")
        first_agent = history["agents"][0]
        for group_by in GROUPINGS:
            assert _tallies(group_by) == _expected_tallies(group_by), group_by
        for filters in (
            {"agent_id": first_agent},
            {"team_id": claims},
            {"start": date(2026, 2, 1)},
        ):
            assert _tallies(("agent", "team"), **filters) == _expected_tallies(
                ("agent", "team"), **filters
            ), filters
        # March is open: none of its answers are in any figure, and it has no rollup rows.
        march = history["rounds"][2]
        assert metrics.score_tallies(round_id=march) == []
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(SurveyScoreRollup.round_id == march)
        )
        # The people who answered, per closed round and team, as the participation rows say.
        counted = {
            (r.round_id, r.team_id): r.participants
            for r in db.session.scalars(sa.select(SurveyParticipationRollup))
        }
        expected: dict[tuple, int] = defaultdict(int)
        closed = set(history["rounds"][:2])
        for row in db.session.scalars(sa.select(SurveyParticipation)):
            if row.round_id in closed:
                expected[(row.round_id, row.team_id)] += 1
        assert counted == dict(expected)
        (january,) = metrics.response_rate(round_id=history["rounds"][0])
        assert january.participants == 6


def test_a_rounds_figures_appear_only_once_it_closes(app, make_user, make_agent, make_campaign):
    agent = make_agent()
    people = [make_user(team="Claims") for _ in range(5)]
    ref = make_campaign([agent])
    with app.app_context():
        survey_round = db.session.get(SurveyRound, ref.round_id)
        for n, person in enumerate(people):
            user = db.session.get(User, person.id)
            answer = services.AgentAnswers(agent.id, 1 + n, 5 - n, 2 * n + 2)
            services.submit_answers(survey_round, user, [answer], utcnow())
            db.session.commit()
        assert metrics.overall_scores(agent_id=agent.id).responses == 0
        assert metrics.response_rate(round_id=ref.round_id) == []
        assert _rollup_rows() == []

        services.close_round(db.session.get(SurveyRound, ref.round_id), utcnow())
        db.session.commit()
        scores = metrics.overall_scores(agent_id=agent.id)
        # satisfaction 1..5, trust 5..1, NPS answers 2, 4, 6, 8, 10: one promoter, three detractors
        assert (scores.responses, scores.satisfaction, scores.trust) == (5, 3.0, 3.0)
        assert scores.nps == pytest.approx(100 * (1 - 3) / 5)
        (rate,) = metrics.response_rate(round_id=ref.round_id)
        assert rate.participants == 5
        assert len(_rollup_rows()) == 2  # one score row (agent, Claims), one participation row


def test_a_change_to_a_closed_rounds_answers_is_rolled_up_in_the_same_flush(
    app, make_agent, make_campaign
):
    agent = make_agent()
    ref = make_campaign([agent])
    with app.app_context():
        add_answers(ref.round_id, agent.id, [(4, 4, 9)] * 6)
        services.close_round(db.session.get(SurveyRound, ref.round_id), utcnow())
        db.session.commit()
        assert metrics.response_count(agent_id=agent.id) == 6

        one = db.session.scalars(sa.select(SurveyResponse)).first()
        db.session.delete(one)
        db.session.flush()
        assert metrics.response_count(agent_id=agent.id) == 5
        db.session.rollback()  # undone with the transaction, rollup and all
        assert metrics.response_count(agent_id=agent.id) == 6


def test_the_command_rebuilds_rollups_after_answers_written_in_bulk(app, make_agent, make_campaign):
    """Rows inserted without the ORM (a bulk import) are not in the figures until rolled up."""
    agent = make_agent()
    ref = make_campaign([agent])
    with app.app_context():
        services.close_round(db.session.get(SurveyRound, ref.round_id), utcnow())
        db.session.commit()
        period = db.session.get(SurveyRound, ref.round_id).period_start
        db.session.execute(
            sa.insert(SurveyResponse),
            [
                {
                    "id": uuid.uuid4(),
                    "round_id": ref.round_id,
                    "agent_id": agent.id,
                    "team_id": None,
                    "period_start": period,
                    "satisfaction": 2,
                    "trust": 3,
                    "nps": 10,
                    "change_text": "",
                }
                for _ in range(7)
            ],
        )
        db.session.commit()
        assert metrics.response_count(agent_id=agent.id) == 0

    result = app.test_cli_runner().invoke(args=["portal", "survey-rollups"])
    assert result.exit_code == 0, result.output
    assert "survey_score_rollups: 1 rows" in result.output
    with app.app_context():
        scores = metrics.overall_scores(agent_id=agent.id)
        assert (scores.responses, scores.satisfaction, scores.trust, scores.nps) == (7, 2, 3, 100)


def _one_answer(app, round_id: int, person_id: int, agent_id: int, outcome: dict, wait=None):
    if wait is not None:
        wait.wait(10)
    with app.app_context():
        survey_round = db.session.get(SurveyRound, round_id)
        user = db.session.get(User, person_id)
        try:
            services.submit_answers(
                survey_round, user, [services.AgentAnswers(agent_id, 5, 5, 10)], utcnow()
            )
            if wait is None:
                outcome["flushed"].set()
                time.sleep(0.5)
            db.session.commit()
            outcome["answer"] = "stored"
        except services.SurveyError as exc:
            db.session.rollback()
            outcome["answer"] = exc.status
        db.session.remove()


def _close(app, round_id: int, outcome: dict, wait=None):
    if wait is not None:
        wait.wait(10)
    with app.app_context():
        services.close_round(db.session.get(SurveyRound, round_id), utcnow())
        if wait is None:
            outcome["flushed"].set()
            time.sleep(0.5)
        db.session.commit()
        db.session.remove()


def _race(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_an_answer_being_stored_while_the_round_closes_is_in_its_rollup(
    app, make_user, make_agent, make_campaign
):
    """The answer has been written but not committed when the round closes: closing waits for it
    and counts it."""
    agent, person = make_agent(), make_user()
    ref = make_campaign([agent], threshold=3)
    outcome = {"flushed": threading.Event()}
    _race(
        lambda: _one_answer(app, ref.round_id, person.id, agent.id, outcome),
        lambda: _close(app, ref.round_id, outcome, wait=outcome["flushed"]),
    )
    assert outcome["answer"] == "stored"
    with app.app_context():
        rollup = db.session.scalars(sa.select(SurveyScoreRollup)).one()
        assert (rollup.responses, rollup.promoters) == (1, 1)
        assert db.session.scalars(sa.select(SurveyParticipationRollup.participants)).all() == [1]


def test_an_answer_to_a_round_that_closed_meanwhile_is_refused(
    app, make_user, make_agent, make_campaign
):
    """The page showed the round open, but it closed (not yet committed) before the answer was
    written: the answer waits for the close and is refused, so a closed round's sums stay true."""
    agent, person = make_agent(), make_user()
    ref = make_campaign([agent], threshold=3)
    outcome = {"flushed": threading.Event()}
    _race(
        lambda: _close(app, ref.round_id, outcome),
        lambda: _one_answer(app, ref.round_id, person.id, agent.id, outcome, outcome["flushed"]),
    )
    assert outcome["answer"] == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyParticipation)) == 0
        assert _rollup_rows() == []


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_app(request, tmp_path):
    """An app on a brand-new, empty database of each kind (the migrations are the test's own)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rollups.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"portal_rollups_{uuid.uuid4().hex[:12]}")
    app = create_app(base_config(url, tmp_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_migration_back_fills_closed_rounds_and_downgrade_drops_the_rollups(fresh_app):
    with fresh_app.app_context():
        upgrade()
        agent = Agent(
            slug="a", name="A", description="Helps.", version="1", lifecycle=Lifecycle.PRODUCTION
        )
        db.session.add(agent)
        admin = accounts.create_user("admin@example.com", "Admin", set(), password=None)
        db.session.flush()
        campaign = services.create_campaign(
            services.CampaignSettings(
                name="Pulse",
                description="",
                agents=[agent],
                is_for_everyone=True,
                teams=[],
                roles=set(),
                cadence=Cadence.MONTHLY,
                opens_on=date(2026, 1, 1),
                closes_on=None,
                anonymity_threshold=5,
            ),
            admin,
            date(2026, 1, 1),
        )
        january = services.launch_campaign(campaign, at(2026, 1, 1))
        db.session.commit()
        add_answers(january.id, agent.id, [(5, 4, 9), (3, 3, 3)] * 3, team="Claims")
        add_answers(january.id, agent.id, [(2, 2, 7)] * 2)
        db.session.add(SurveyParticipation(round_id=january.id, user_id=admin.id, team_id=None))
        services.advance_survey_rounds(at(2026, 2, 1, 0))  # January closes, February opens
        db.session.commit()
        february = db.session.scalar(sa.select(SurveyRound).where(SurveyRound.number == 1))
        add_answers(february.id, agent.id, [(1, 1, 0)] * 5)  # open: no rollup
        written_on_close, agent_id = _rollup_rows(), agent.id
        assert len(written_on_close) == 3  # Claims and no team; one participation row
        db.session.remove()

        downgrade(revision="0007_webhooks")
        tables = set(sa.inspect(db.engine).get_table_names())
        assert not tables & {"survey_score_rollups", "survey_participation_rollups"}
        db.session.remove()

        upgrade()
        assert _rollup_rows() == written_on_close
        assert metrics.response_count(agent_id=agent_id) == 8
