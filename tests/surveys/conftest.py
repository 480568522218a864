"""Small factories for survey tests: campaigns (draft or launched), closed rounds with answers."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import Role, Team, User
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.surveys import services
from portal.surveys.models import (
    Cadence,
    QuestionKind,
    SurveyAnswer,
    SurveyCampaign,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
)


@dataclass(frozen=True)
class CampaignRef:
    id: int
    round_id: int | None  # the round opened at launch, if any


@pytest.fixture
def make_campaign(app, make_user):
    """make_campaign([agent], everyone=True, ...) -> CampaignRef; `launch=True` opens its first round."""
    creator = {}

    def make(
        agents,
        *,
        name: str = "Agent pulse",
        everyone: bool = True,
        teams: tuple[str, ...] = (),
        roles: tuple[str, ...] = (),
        cadence: Cadence = Cadence.ONCE,
        opens_on: date | None = None,
        closes_on: date | None = None,
        threshold: int = 5,
        questions: tuple[tuple[QuestionKind, str], ...] = (),
        launch: bool = True,
        now: datetime | None = None,
    ) -> CampaignRef:
        if "admin" not in creator:
            creator["admin"] = make_user("admin", email="survey-admin@example.com")
        now = now or utcnow()
        opens_on = opens_on or now.date()
        if closes_on is None and cadence is Cadence.ONCE:
            closes_on = opens_on + timedelta(days=14)
        with app.app_context():
            settings = services.CampaignSettings(
                name=name,
                description="Tell us how the agents work for you.",
                agents=[db.session.get(Agent, agent.id) for agent in agents],
                is_for_everyone=everyone,
                teams=[accounts.get_or_create_team(team) for team in teams],
                roles={Role(role) for role in roles},
                cadence=cadence,
                opens_on=opens_on,
                closes_on=closes_on,
                anonymity_threshold=threshold,
            )
            admin = db.session.get(User, creator["admin"].id)
            campaign = services.create_campaign(settings, admin, min(now.date(), opens_on))
            for kind, prompt in questions:
                services.add_question(campaign, kind, prompt)
            opened = services.launch_campaign(campaign, now) if launch else None
            db.session.commit()
            return CampaignRef(campaign.id, opened.id if opened else None)

    return make


def team_id(name: str) -> int:
    return db.session.scalar(sa.select(Team.id).where(Team.name == name))


def add_answers(
    round_id: int,
    agent_id: int,
    scores: list[tuple[int, int, int]],
    *,
    team: str | None = None,
    comment: str = "",
    extra: dict[int, int | str] | None = None,
) -> None:
    """Store answers straight into the tables (for figures), one SurveyResponse per (sat, trust, nps)."""
    survey_round = db.session.get(SurveyRound, round_id)
    for satisfaction, trust, nps in scores:
        response = SurveyResponse(
            round_id=round_id,
            agent_id=agent_id,
            team_id=accounts.get_or_create_team(team).id if team else None,
            period_start=survey_round.period_start,
            satisfaction=satisfaction,
            trust=trust,
            nps=nps,
            change_text=comment,
        )
        for question_id, value in (extra or {}).items():
            if isinstance(value, int):
                response.answers.append(SurveyAnswer(question_id=question_id, score=value))
            else:
                response.answers.append(SurveyAnswer(question_id=question_id, text=value))
        db.session.add(response)
    db.session.commit()


def close_round(round_id: int, when: datetime | None = None) -> None:
    survey_round = db.session.get(SurveyRound, round_id)
    services.close_round(survey_round, when or utcnow())
    db.session.commit()


def open_round_now(campaign_id: int, now: datetime | None = None) -> int:
    """Open the campaign's current round (as the sweep does) and return its id."""
    campaign = db.session.get(SurveyCampaign, campaign_id)
    opened = services.open_due_round(campaign, now or utcnow())
    db.session.commit()
    assert opened is not None
    return opened.id


def participations(round_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyParticipation)
        .where(SurveyParticipation.round_id == round_id)
    )


def responses(round_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.round_id == round_id)
    )


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)
