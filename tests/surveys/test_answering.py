"""Answering a survey round: one page, once per person, anonymous, refused when closed."""

import re
import threading
import time

import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.surveys import services
from portal.surveys.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
)
from tests.conftest import sign_in
from tests.surveys.conftest import close_round, participations, responses


def _answers(agent_id: int, satisfaction=4, trust=3, nps=9, change="Cite its sources.") -> dict:
    return {
        f"satisfaction_{agent_id}": str(satisfaction),
        f"trust_{agent_id}": str(trust),
        f"nps_{agent_id}": str(nps),
        f"change_{agent_id}": change,
    }


def test_answering_records_participation_and_anonymous_answers(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent(name="Support Assistant")
    person = make_user(team="Customer Support")
    ref = make_campaign([agent])
    login(person)

    page = client.get(f"/surveys/rounds/{ref.round_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Overall, how satisfied are you with Support Assistant?" in html
    assert "<legend" in html and "I can rely on this agent&#39;s outputs." in html
    assert "stored without your name" in html

    response = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id))
    assert response.status_code == 302
    assert "Your answers are recorded" in client.get("/surveys/").get_data(as_text=True)

    with app.app_context():
        assert participations(ref.round_id) == 1
        stored = db.session.scalars(sa.select(SurveyResponse)).one()
        assert (stored.satisfaction, stored.trust, stored.nps) == (4, 3, 9)
        assert stored.change_text == "Cite its sources."
        assert stored.team_id is not None


def test_second_submit_is_refused_with_a_clear_message(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    login(person)
    assert (
        client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id)).status_code == 302
    )

    again = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id, satisfaction=1))
    assert again.status_code == 409
    assert "You have already answered this survey round" in again.get_data(as_text=True)
    page = client.get(f"/surveys/rounds/{ref.round_id}").get_data(as_text=True)
    assert "You have answered this round" in page and "Send my answers" not in page
    with app.app_context():
        assert participations(ref.round_id) == 1
        assert responses(ref.round_id) == 1
        assert db.session.scalar(sa.select(SurveyResponse.satisfaction)) == 4


def test_two_submits_at_once_store_one_answer(app, make_user, make_agent, make_campaign):
    """Two browsers of the same person post at the same moment: exactly one answer is kept."""
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        assert sign_in(browser, person).status_code == 302
    start = threading.Barrier(2)
    statuses = []

    def submit(browser):
        start.wait()
        statuses.append(
            browser.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id)).status_code
        )

    threads = [threading.Thread(target=submit, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [302, 409]
    with app.app_context():
        assert participations(ref.round_id) == 1
        assert responses(ref.round_id) == 1


def test_a_submit_racing_an_uncommitted_one_waits_and_is_refused(
    app, make_user, make_agent, make_campaign
):
    """The first transaction has written its participation row but not committed yet; the second
    passes every check, then waits on the primary key and is refused once the first commits."""
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    first_flushed = threading.Event()
    outcome = {}

    def first():
        with app.app_context():
            survey_round = db.session.get(SurveyRound, ref.round_id)
            user = db.session.get(User, person.id)
            services.submit_answers(
                survey_round, user, [services.AgentAnswers(agent.id, 5, 5, 10)], utcnow()
            )
            first_flushed.set()
            time.sleep(0.5)
            db.session.commit()
            db.session.remove()

    def second():
        first_flushed.wait(10)
        with app.app_context():
            survey_round = db.session.get(SurveyRound, ref.round_id)
            user = db.session.get(User, person.id)
            try:
                services.submit_answers(
                    survey_round, user, [services.AgentAnswers(agent.id, 1, 1, 0)], utcnow()
                )
                db.session.commit()
                outcome["second"] = "stored"
            except services.SurveyError as exc:
                db.session.rollback()
                outcome["second"] = exc.status
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome["second"] == 409
    with app.app_context():
        assert participations(ref.round_id) == 1
        assert db.session.scalars(sa.select(SurveyResponse.nps)).all() == [10]


def test_answers_carry_no_user_id_and_no_time(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    person = make_user(team="Claims Operations")
    ref = make_campaign([agent], questions=((QuestionKind.TEXT, "Anything else?"),))
    login(person)
    with app.app_context():
        question_id = db.session.scalar(sa.select(SurveyQuestion.id))
    data = _answers(agent.id) | {f"q_{agent.id}_{question_id}": "Faster please"}
    assert client.post(f"/surveys/rounds/{ref.round_id}", data=data).status_code == 302

    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in ("survey_responses", "survey_answers"):
            columns = {c["name"]: c for c in inspector.get_columns(table)}
            assert not [name for name in columns if "user" in name], table
            assert not [
                name
                for name, column in columns.items()
                if isinstance(column["type"], sa.DateTime | sa.Time)
            ], f"{table} has a time column"
            referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
            assert "users" not in referred, table
        # The stored answer row holds no value equal to the person's id in any key column,
        # and its key is random rather than a sequence that follows participation.
        row = db.session.execute(sa.select(SurveyResponse.__table__)).mappings().one()
        assert set(row.keys()) == {
            "id",
            "round_id",
            "agent_id",
            "team_id",
            "period_start",
            "satisfaction",
            "trust",
            "nps",
            "change_text",
        }
        assert row["id"].version == 4
        participation = (
            db.session.execute(sa.select(SurveyParticipation.__table__)).mappings().one()
        )
        assert set(participation.keys()) == {"round_id", "user_id", "team_id"}


def test_skipped_agents_are_left_out(app, client, login, make_user, make_agent, make_campaign):
    used, unused = make_agent(name="Claims Triage"), make_agent(name="Invoice Matcher")
    person = make_user()
    ref = make_campaign([used, unused])
    login(person)
    data = _answers(used.id) | {f"skip_{unused.id}": "y", f"nps_{unused.id}": "2"}
    assert client.post(f"/surveys/rounds/{ref.round_id}", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(SurveyResponse.agent_id)).all() == [used.id]


def test_missing_answer_is_shown_beside_the_question_and_nothing_is_saved(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    login(person)
    data = _answers(agent.id, change="Keep what I typed")
    del data[f"trust_{agent.id}"]
    response = client.post(f"/surveys/rounds/{ref.round_id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="trust_{agent.id}-error"' in html and "Choose how much you agree." in html
    assert "Keep what I typed" in html
    kept = re.search(rf'<input[^>]*id="satisfaction_{agent.id}-3"[^>]*>', html).group(0)
    assert "checked" in kept and 'value="4"' in kept
    with app.app_context():
        assert participations(ref.round_id) == 0 and responses(ref.round_id) == 0


def test_out_of_scale_answer_is_refused(app, client, login, make_user, make_agent, make_campaign):
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    login(person)
    response = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id, nps=11))
    assert response.status_code == 400
    assert "Choose a number from 0 to 10." in response.get_data(as_text=True)
    with app.app_context():
        assert participations(ref.round_id) == 0


def test_closed_round_takes_no_answers(app, client, login, make_user, make_agent, make_campaign):
    agent = make_agent()
    person = make_user()
    ref = make_campaign([agent])
    with app.app_context():
        close_round(ref.round_id)
    login(person)
    assert "This round has closed" in client.get(f"/surveys/rounds/{ref.round_id}").get_data(
        as_text=True
    )
    response = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id))
    assert response.status_code == 409
    with app.app_context():
        assert participations(ref.round_id) == 0 and responses(ref.round_id) == 0


def test_campaign_questions_are_asked_per_agent_and_stored(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent(name="Claims Triage")
    person = make_user()
    ref = make_campaign(
        [agent], questions=((QuestionKind.LIKERT, "I know what to do when it is wrong."),)
    )
    login(person)
    with app.app_context():
        question_id = db.session.scalar(sa.select(SurveyQuestion.id))
    html = client.get(f"/surveys/rounds/{ref.round_id}").get_data(as_text=True)
    assert "I know what to do when it is wrong." in html
    missing = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id))
    assert missing.status_code == 400
    data = _answers(agent.id) | {f"q_{agent.id}_{question_id}": "2"}
    assert client.post(f"/surveys/rounds/{ref.round_id}", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(SurveyAnswer.score)) == 2
