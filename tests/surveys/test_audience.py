"""Who is asked: the audience sees the survey on their home page and is notified; nobody else
sees it or can answer it."""

import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.db import db
from portal.notifications.models import Notification
from portal.surveys import services
from portal.surveys.models import SurveyCampaign
from tests.surveys.conftest import participations, responses


def _answers(agent_id: int) -> dict:
    return {f"satisfaction_{agent_id}": "4", f"trust_{agent_id}": "4", f"nps_{agent_id}": "8"}


def test_home_page_lists_the_waiting_survey_until_it_is_answered(
    client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    person = make_user(team="Customer Support")
    ref = make_campaign(
        [agent], name="Monthly agent pulse", teams=("Customer Support",), everyone=False
    )
    login(person)
    home = client.get("/").get_data(as_text=True)
    assert "Surveys waiting for you" in home
    assert "Monthly agent pulse" in home
    assert f"/surveys/rounds/{ref.round_id}" in home

    client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id))
    home = client.get("/").get_data(as_text=True)
    assert "No surveys are waiting for you" in home
    assert f"/surveys/rounds/{ref.round_id}" not in home


def test_person_outside_the_audience_neither_sees_nor_answers(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    make_user(team="Claims Operations")
    outsider = make_user(team="Finance")
    ref = make_campaign([agent], name="Claims pulse", teams=("Claims Operations",), everyone=False)
    login(outsider)
    assert "Claims pulse" not in client.get("/").get_data(as_text=True)
    assert "Claims pulse" not in client.get("/surveys/").get_data(as_text=True)
    assert client.get(f"/surveys/rounds/{ref.round_id}").status_code == 404
    response = client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id))
    assert response.status_code == 404
    with app.app_context():
        assert participations(ref.round_id) == 0 and responses(ref.round_id) == 0


def test_role_audience_includes_role_holders_only(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    manager = make_user("manager")
    reporter = make_user()
    ref = make_campaign([agent], name="Managers' view", roles=("manager",), everyone=False)
    login(reporter)
    assert client.get(f"/surveys/rounds/{ref.round_id}").status_code == 404
    client.post("/logout")
    login(manager)
    assert client.get(f"/surveys/rounds/{ref.round_id}").status_code == 200
    assert (
        client.post(f"/surveys/rounds/{ref.round_id}", data=_answers(agent.id)).status_code == 302
    )


def test_audience_query_matches_the_per_person_rule(app, make_user, make_agent, make_campaign):
    agent = make_agent()
    people = [
        make_user(team="Finance"),
        make_user("owner", team="Finance"),
        make_user("owner", team="Claims Operations"),
        make_user(team="Claims Operations"),
        make_user("triage"),
        make_user(),
    ]
    ref = make_campaign([agent], teams=("Finance",), roles=("owner",), everyone=False, launch=False)
    with app.app_context():
        campaign = db.session.get(SurveyCampaign, ref.id)
        in_sql = {user.id for user in db.session.scalars(services.audience_select(campaign))}
        by_rule = {
            person.id for person in people if campaign.includes(db.session.get(User, person.id))
        }
        assert in_sql == by_rule == {people[0].id, people[1].id, people[2].id}


def test_opening_a_round_notifies_the_audience_by_app_and_email(
    mail_app, make_user, make_agent, make_campaign, smtp_server
):
    agent = make_agent(name="Claims Triage")
    member = make_user(team="Claims Operations", email="member@example.com")
    outsider = make_user(team="Finance", email="outsider@example.com")
    ref = make_campaign([agent], name="Claims pulse", teams=("Claims Operations",), everyone=False)
    with mail_app.app_context():
        notes = db.session.scalars(sa.select(Notification)).all()
        assert [(n.user_id, n.kind) for n in notes] == [(member.id, "survey_open")]
        assert notes[0].link == f"/surveys/rounds/{ref.round_id}"
    assert len(smtp_server.messages_to("member@example.com")) == 1
    assert smtp_server.messages_to(outsider.email) == []
    body = smtp_server.body(smtp_server.messages_to("member@example.com")[0])
    assert "Claims Triage" in body and f"http://portal.test/surveys/rounds/{ref.round_id}" in body
