"""Admins create, edit, launch and end campaigns; the threshold has a floor and is fixed once open."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.notifications.models import Notification
from portal.surveys import services
from portal.surveys.models import (
    Cadence,
    QuestionKind,
    SurveyCampaign,
    SurveyQuestion,
    SurveyRound,
)


def _form(agent_ids, **fields) -> dict:
    today = utcnow().date()
    data = {
        "name": "Quarterly trust check",
        "description": "Four questions per agent.",
        "agents": [str(i) for i in agent_ids],
        "is_for_everyone": "y",
        "cadence": "quarterly",
        "opens_on": today.isoformat(),
        "closes_on": "",
        "anonymity_threshold": "5",
    }
    data.update(fields)
    return data


def test_admin_creates_a_draft_then_launches_it(app, client, login, make_user, make_agent):
    agent = make_agent(name="Claims Triage")
    member = make_user(team="Claims Operations")
    login(make_user("admin"))
    assert "New survey campaign" in client.get("/surveys/admin/new").get_data(as_text=True)
    response = client.post("/surveys/admin/new", data=_form([agent.id]))
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.scalars(sa.select(SurveyCampaign)).one()
        assert (campaign.name, campaign.cadence, campaign.anonymity_threshold) == (
            "Quarterly trust check",
            Cadence.QUARTERLY,
            5,
        )
        assert campaign.launched_at is None and not campaign.rounds
        campaign_id = campaign.id
    page = client.get(f"/surveys/admin/{campaign_id}").get_data(as_text=True)
    assert "Draft" in page and "Launch" in page

    response = client.post(
        f"/surveys/admin/{campaign_id}/questions",
        data={"kind": "likert", "prompt": "It saves me time."},
    )
    assert response.status_code == 302
    launched = client.post(f"/surveys/admin/{campaign_id}/launch", follow_redirects=True)
    assert launched.status_code == 200
    assert "Campaign launched" in launched.get_data(as_text=True)
    with app.app_context():
        rounds = db.session.scalars(sa.select(SurveyRound)).all()
        assert len(rounds) == 1 and rounds[0].closed_at is None
        told = db.session.scalars(sa.select(Notification.user_id)).all()
        assert member.id in told
    again = client.post(f"/surveys/admin/{campaign_id}/launch")
    assert again.status_code == 409
    assert "already been launched" in again.get_data(as_text=True)


def test_threshold_below_three_is_refused_beside_the_field(
    app, client, login, make_user, make_agent
):
    agent = make_agent()
    login(make_user("admin"))
    response = client.post(
        "/surveys/admin/new", data=_form([agent.id], anonymity_threshold="2", name="Kept name")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="anonymity_threshold-error"' in html and "Use a number from 3 to 100." in html
    assert 'value="Kept name"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyCampaign)) == 0


def test_service_refuses_a_threshold_below_three(app, make_user, make_agent):
    agent = make_agent()
    admin = make_user("admin")
    with app.app_context():
        settings = services.CampaignSettings(
            name="Too small",
            description="",
            agents=[db.session.get(type(agent), agent.id)],
            is_for_everyone=True,
            teams=[],
            roles=set(),
            cadence=Cadence.MONTHLY,
            opens_on=utcnow().date(),
            closes_on=None,
            anonymity_threshold=2,
        )
        with pytest.raises(services.SurveyError) as refused:
            services.create_campaign(
                settings, db.session.get(type(admin), admin.id), utcnow().date()
            )
        assert refused.value.field == "anonymity_threshold"
    # And the database itself refuses it.
    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.insert(SurveyCampaign).values(
                name="x",
                description="",
                cadence="monthly",
                opens_on=utcnow().date(),
                anonymity_threshold=2,
                is_for_everyone=True,
                created_at=utcnow(),
            )
        )
        db.session.commit()


def test_threshold_can_change_before_opening_but_not_after(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    future = make_campaign([agent], opens_on=utcnow().date() + timedelta(days=10), launch=True)
    login(make_user("admin"))
    with app.app_context():
        assert db.session.get(SurveyCampaign, future.id).opened_at is None  # scheduled, not open
    response = client.post(
        f"/surveys/admin/{future.id}/edit",
        data=_form(
            [agent.id],
            cadence="once",
            opens_on=(utcnow().date() + timedelta(days=10)).isoformat(),
            closes_on=(utcnow().date() + timedelta(days=20)).isoformat(),
            anonymity_threshold="7",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SurveyCampaign, future.id).anonymity_threshold == 7

    running = make_campaign([agent], name="Running")
    page = client.get(f"/surveys/admin/{running.id}/edit").get_data(as_text=True)
    assert "anonymity_threshold" not in page and "Fixed since the campaign opened" in page
    response = client.post(
        f"/surveys/admin/{running.id}/edit",
        data={
            "name": "Running, renamed",
            "description": "",
            "closes_on": (utcnow().date() + timedelta(days=30)).isoformat(),
            "anonymity_threshold": "3",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.get(SurveyCampaign, running.id)
        assert (campaign.name, campaign.anonymity_threshold) == ("Running, renamed", 5)
        settings = services.CampaignSettings.of(campaign)
        settings.anonymity_threshold = 3
        with pytest.raises(services.SurveyError) as refused:
            services.update_campaign(campaign, settings, utcnow().date())
        assert (
            refused.value.message
            == "The anonymity threshold is fixed once the campaign has opened."
        )
        db.session.rollback()
        assert db.session.get(SurveyCampaign, running.id).anonymity_threshold == 5


def test_questions_are_fixed_once_open(app, client, login, make_user, make_agent, make_campaign):
    agent = make_agent()
    ref = make_campaign([agent], questions=((QuestionKind.TEXT, "Anything else?"),))
    login(make_user("admin"))
    response = client.post(
        f"/surveys/admin/{ref.id}/questions", data={"kind": "likert", "prompt": "Late question"}
    )
    assert response.status_code == 409
    assert "Questions are fixed once the campaign has opened." in response.get_data(as_text=True)
    with app.app_context():
        question_id = db.session.scalar(sa.select(SurveyQuestion.id))
    assert client.post(f"/surveys/admin/{ref.id}/questions/{question_id}/delete").status_code == 409
    with app.app_context():
        assert db.session.scalars(sa.select(SurveyQuestion.prompt)).all() == ["Anything else?"]


def test_once_campaign_needs_a_close_date(app, client, login, make_user, make_agent):
    agent = make_agent()
    login(make_user("admin"))
    response = client.post("/surveys/admin/new", data=_form([agent.id], cadence="once"))
    assert response.status_code == 400
    assert "A one-off survey needs a close date." in response.get_data(as_text=True)


def test_ending_a_campaign_closes_its_round(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    ref = make_campaign([agent], cadence=Cadence.MONTHLY)
    login(make_user("admin"))
    assert client.post(f"/surveys/admin/{ref.id}/end").status_code == 302
    with app.app_context():
        campaign = db.session.get(SurveyCampaign, ref.id)
        assert campaign.ended_at is not None
        assert all(r.closed_at is not None for r in campaign.rounds)
    assert client.post(f"/surveys/admin/{ref.id}/end").status_code == 409


@pytest.mark.parametrize("role", ["reporter", "manager", "owner", "triage"])
def test_only_admins_change_campaigns(
    app, client, login, make_user, make_agent, make_campaign, role
):
    agent = make_agent()
    draft = make_campaign([agent], launch=False)
    running = make_campaign([agent], name="Running", cadence=Cadence.MONTHLY)
    with app.app_context():
        question = services.add_question(
            db.session.get(SurveyCampaign, draft.id), QuestionKind.TEXT, "Q?"
        )
        db.session.commit()
        question_id = question.id
    login(make_user(role))
    attempts = [
        ("/surveys/admin/new", _form([agent.id])),
        (f"/surveys/admin/{draft.id}/edit", _form([agent.id], name="Hijacked")),
        (f"/surveys/admin/{draft.id}/questions", {"kind": "text", "prompt": "Injected"}),
        (f"/surveys/admin/{draft.id}/questions/{question_id}/delete", {}),
        (f"/surveys/admin/{draft.id}/launch", {}),
        (f"/surveys/admin/{running.id}/end", {}),
    ]
    for url, data in attempts:
        assert client.post(url, data=data).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyCampaign)) == 2
        assert db.session.get(SurveyCampaign, draft.id).name == "Agent pulse"
        assert db.session.get(SurveyCampaign, draft.id).launched_at is None
        assert db.session.get(SurveyCampaign, running.id).ended_at is None
        assert db.session.scalars(sa.select(SurveyQuestion.prompt)).all() == ["Q?"]


def test_an_earlier_close_date_shortens_the_open_round(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    ref = make_campaign([agent])  # once, open for 14 days
    login(make_user("admin"))
    tomorrow = utcnow().date() + timedelta(days=1)
    response = client.post(
        f"/surveys/admin/{ref.id}/edit",
        data={"name": "Agent pulse", "description": "", "closes_on": tomorrow.isoformat()},
    )
    assert response.status_code == 302
    with app.app_context():
        survey_round = db.session.get(SurveyRound, ref.round_id)
        assert survey_round.period_end == tomorrow
        assert survey_round.closes_at == services.midnight_utc(tomorrow + timedelta(days=1))
        assert services.advance_survey_rounds(survey_round.closes_at) == 2  # closed, and ended
