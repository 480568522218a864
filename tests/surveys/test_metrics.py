"""Survey measures against hand-computed figures (DESIGN.md "Measures"), on closed rounds only."""

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from portal.core.db import db
from portal.surveys import metrics, services
from portal.surveys.metrics import WITHHELD
from portal.surveys.models import Cadence, SurveyParticipation, SurveyRound
from tests.surveys.conftest import add_answers, at, team_id

ALPHA_JAN = [(5, 4, 10), (4, 4, 9), (4, 3, 8), (3, 3, 7), (2, 1, 6), (5, 5, 10)]
BETA_JAN = [(3, 3, 0), (4, 4, 5), (2, 2, 9), (5, 4, 10), (1, 2, 3)]


@contextmanager
def count_statements():
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def figures(app, make_user, make_agent, make_campaign):
    """Agent A: January (Alpha 6, Beta 5 answers) and February (Alpha 5) closed, March open.
    Agent B: January, Alpha, 4 answers. Agent C: January, 11 answers with NPS 0..10."""
    a, b, c = make_agent(name="A"), make_agent(name="B"), make_agent(name="C")
    alpha = [make_user(team="Alpha") for _ in range(10)]
    beta = [make_user(team="Beta") for _ in range(6)]
    ref = make_campaign(
        [a, b, c], cadence=Cadence.MONTHLY, opens_on=date(2026, 1, 1), now=at(2026, 1, 1)
    )
    with app.app_context():
        jan = ref.round_id
        add_answers(jan, a.id, ALPHA_JAN, team="Alpha")
        add_answers(jan, a.id, BETA_JAN, team="Beta")
        add_answers(jan, b.id, [(2, 2, 2)] * 4, team="Alpha")
        add_answers(jan, c.id, [(3, 3, n) for n in range(11)], team="Alpha")
        for person in alpha[:7] + beta[:5]:
            db.session.add(
                SurveyParticipation(round_id=jan, user_id=person.id, team_id=person.team_id)
            )
        db.session.commit()
        services.advance_survey_rounds(at(2026, 2, 1, 0))
        db.session.commit()
        feb = db.session.scalar(sa.select(SurveyRound.id).where(SurveyRound.number == 1))
        add_answers(feb, a.id, [(4, 4, 8)] * 5, team="Alpha")
        services.advance_survey_rounds(at(2026, 3, 1, 0))
        db.session.commit()
        mar = db.session.scalar(sa.select(SurveyRound.id).where(SurveyRound.number == 2))
        add_answers(mar, a.id, [(1, 1, 0)] * 5, team="Alpha")  # open: must not count
    return {"a": a.id, "b": b.id, "c": c.id, "jan": jan, "feb": feb, "campaign": ref.id}


def test_per_period_scores_for_one_agent(app, figures):
    with app.app_context():
        rows = metrics.survey_scores(agent_id=figures["a"], group_by=("period",))
        by_period = {row.period: row for row in rows}
        assert set(by_period) == {date(2026, 1, 1), date(2026, 2, 1)}  # March is still open
        jan = by_period[date(2026, 1, 1)]
        assert jan.responses == 11
        assert jan.satisfaction == pytest.approx(38 / 11)
        assert jan.trust == pytest.approx(35 / 11)
        assert jan.nps == pytest.approx(
            100 * (5 - 4) / 11
        )  # promoters 10,9,10,9,10; detractors 6,0,5,3
        feb = by_period[date(2026, 2, 1)]
        assert (feb.responses, feb.satisfaction, feb.trust, feb.nps) == (5, 4.0, 4.0, 0.0)


def test_overall_and_named_measures(app, figures):
    with app.app_context():
        agent = figures["a"]
        assert metrics.response_count(agent_id=agent) == 16
        assert metrics.satisfaction(agent_id=agent) == pytest.approx(58 / 16)
        assert metrics.trust(agent_id=agent) == pytest.approx(55 / 16)
        assert metrics.nps(agent_id=agent) == pytest.approx(6.25)
        assert metrics.nps(agent_id=figures["c"]) == pytest.approx(100 * (2 - 7) / 11)  # -45.45
        assert metrics.nps(agent_id=agent, start=date(2026, 2, 1), end=date(2026, 3, 1)) == 0.0
        assert metrics.response_count(agent_id=agent, start=date(2026, 4, 1)) == 0
        assert metrics.satisfaction(agent_id=agent, start=date(2026, 4, 1)) is None


def test_per_team_scores_and_the_threshold(app, figures):
    with app.app_context():
        rows = metrics.survey_scores(
            agent_id=figures["a"], round_id=figures["jan"], group_by=("team",)
        )
        by_team = {row.team_id: row for row in rows}
        alpha, beta = by_team[team_id("Alpha")], by_team[team_id("Beta")]
        assert (alpha.responses, alpha.satisfaction, alpha.trust) == (6, 23 / 6, 20 / 6)
        assert alpha.nps == pytest.approx(100 * (3 - 1) / 6)
        assert (beta.responses, beta.satisfaction, beta.trust, beta.nps) == (5, 3.0, 3.0, -20.0)

        four = metrics.overall_scores(agent_id=figures["b"])
        assert four.withheld
        assert (four.responses, four.satisfaction, four.trust, four.nps) == (WITHHELD,) * 4
        assert four.withheld_text == "withheld: fewer than 5 answers"
        assert metrics.satisfaction(agent_id=figures["b"]) == WITHHELD


def test_a_breakdown_never_reveals_a_withheld_group_by_subtraction(app, figures):
    """B (4 answers) is withheld; beside a total of all agents, the smallest shown agent is withheld
    too, or "all agents minus the others" would give B."""
    with app.app_context():
        guarded = {
            row.agent_id: row
            for row in metrics.survey_scores(round_id=figures["jan"], group_by=("agent",))
        }
        assert guarded[figures["b"]].withheld
        # A and C hold 11 answers each; one of them (the first by key, A) is withheld with B.
        assert guarded[figures["a"]].withheld
        assert guarded[figures["c"]].responses == 11

        plain = {
            row.agent_id: row
            for row in metrics.survey_scores(
                round_id=figures["jan"], group_by=("agent",), totals_shown_over=()
            )
        }
        assert plain[figures["b"]].withheld
        assert plain[figures["a"]].responses == 11 and plain[figures["c"]].responses == 11


def test_response_rate_uses_the_audience_of_each_round(app, figures):
    with app.app_context():
        (january,) = metrics.response_rate(round_id=figures["jan"])
        # Asked: 10 Alpha + 6 Beta + the campaign's creator (no team) = 17; answered 7 + 5.
        assert (january.participants, january.audience) == (12, 17)
        assert january.rate == pytest.approx(12 / 17)
        by_team = {
            r.team_id: r for r in metrics.response_rate(round_id=figures["jan"], group_by=("team",))
        }
        assert (by_team[team_id("Alpha")].participants, by_team[team_id("Alpha")].rate) == (7, 0.7)
        assert by_team[team_id("Beta")].rate == pytest.approx(5 / 6)
        assert by_team[None].rate == WITHHELD and by_team[None].audience == 1
        # February: nobody recorded as answering, so the rate is withheld (fewer than 5 answers).
        (february,) = metrics.response_rate(round_id=figures["feb"])
        assert february.withheld and february.audience == 17


def test_each_measure_is_one_grouped_query_whatever_the_volume(app, figures):
    with app.app_context():
        with count_statements() as before:
            metrics.survey_scores(group_by=("agent", "team", "period"))
        with count_statements() as rates:
            metrics.response_rate(group_by=("team", "period"))
        add_answers(figures["jan"], figures["a"], [(3, 3, 7)] * 200, team="Beta")
        with count_statements() as after:
            rows = metrics.survey_scores(group_by=("agent", "team", "period"))
        assert before["n"] == after["n"] == 1
        assert rates["n"] == 2
        beta_jan = next(
            r
            for r in rows
            if r.agent_id == figures["a"]
            and r.team_id == team_id("Beta")
            and r.period == date(2026, 1, 1)
        )
        assert beta_jan.responses == 205
