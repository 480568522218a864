"""Demo surveys: a monthly pulse over the three demo agents with six closed rounds and one open.

The story in the figures: Claims Triage's trust drops after a bad release three months ago and
recovers as its reports are acted on; Invoice Matcher slides and, once paused, too few people answer
about it to show (withheld). Small teams (AI Operations, the Governance Council) stay withheld.
The demo has only a dozen people, so 40 extra respondents join the demo teams (they cannot sign in).
"""

import random
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.agents.demo import BAD_RELEASE_MONTH_INDEX, STORY_MONTHS, story_months
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.surveys import services
from portal.surveys.models import (
    Cadence,
    QuestionKind,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
    SurveyRoundAudience,
)

CLOSED_ROUNDS = STORY_MONTHS

EXTRA_PEOPLE = {
    "Customer Support": [
        "Alex Morgan", "Bea Lindqvist", "Carlos Mendes", "Dana Whitfield", "Elif Kaya",
        "Femi Adeyemi", "Greta Novak", "Hiro Tanaka", "Isla Grant", "Jonas Berg",
        "Kemi Okafor", "Lena Fischer", "Mateo Rossi", "Nadia Haddad", "Owen Price",
        "Paula Sousa",
    ],
    "Claims Operations": [
        "Quentin Roux", "Rhea Kapoor", "Stefan Ionescu", "Tessa Byrne", "Umar Siddiqui",
        "Vera Petrova", "Will Turner", "Xin Liu", "Yara Saleh", "Zoe Clarke",
        "Aidan Walsh", "Bianca Costa", "Chidi Eze", "Dora Horvath",
    ],
    "Finance": [
        "Emil Nowak", "Farah Aziz", "Gus Olsen", "Hana Sato", "Ivan Kovac",
        "Jade Wilson", "Kofi Mensah", "Lucia Ferrari", "Milo Jensen", "Nora Quinn",
    ],
}  # fmt: skip

# Which agents each team works with, and how likely a member answers a round.
TEAM_AGENTS = {
    "Customer Support": (["support-assistant"], 0.8),
    "Claims Operations": (["claims-triage", "support-assistant?"], 0.75),
    "Finance": (["invoice-matcher"], 0.8),
    "AI Operations": (["support-assistant", "claims-triage", "invoice-matcher"], 0.7),
    "Governance Council": (["support-assistant", "claims-triage", "invoice-matcher"], 0.9),
}

# Mean satisfaction per closed round (oldest first); trust and NPS follow it. Claims Triage drops
# in the round of its bad release (BAD_RELEASE_MONTH_INDEX) and recovers as its reports are acted on.
SATISFACTION_STORY = {
    "support-assistant": [3.9, 4.0, 4.0, 4.1, 4.1, 4.2],
    "claims-triage": [3.8, 3.9, 2.5, 2.9, 3.4, 3.8],
    "invoice-matcher": [3.7, 3.6, 3.4, 2.9, 2.7, 2.6],
}
assert (
    min(SATISFACTION_STORY["claims-triage"])
    == SATISFACTION_STORY["claims-triage"][BAD_RELEASE_MONTH_INDEX]
)
TRUST_OFFSET = {"support-assistant": -0.2, "claims-triage": -0.3, "invoice-matcher": -0.1}
# Once Invoice Matcher is paused, few people still answer about it: at most this many per round
# (the last round falls below the threshold, so the demo shows "withheld").
PAUSED_ANSWERS = {4: 7, 5: 3}

EXTRA_QUESTION = "I know what to do when this agent gets something wrong."

COMMENTS = {
    "support-assistant": [
        "Cite the knowledge-base article it used, so I can check it in one click.",
        "Drafts for refund questions are too long; customers want two sentences.",
        "Let me mark a draft as unusable with a reason, instead of just deleting it.",
        "It should know about the new returns policy sooner after it changes.",
        "Keep the friendly tone but drop the repeated apologies.",
        "Show which parts it is unsure about.",
        "Works well. A shortcut to insert the draft would save a few seconds each time.",
    ],
    "claims-triage": [
        "Since the last release it misreads policy numbers on scanned claims. Please fix that first.",
        "Tell us when a new version goes live and what changed.",
        "The priority it suggests for water damage is often too low.",
        "Show the fields it extracted next to the scan so checking is quicker.",
        "Much better this month: the policy-number problem seems fixed.",
        "Let us flag a wrong extraction straight from the claim screen.",
        "It should say when it could not read a field instead of guessing.",
    ],
    "invoice-matcher": [
        "Fix the currency rounding before switching it back on.",
        "Mismatches under one euro should not be flagged at all.",
        "Explain why it matched an invoice to a purchase order.",
        "We went back to matching by hand while it is paused; tell us when it returns.",
        "Partial deliveries confuse it.",
    ],
}


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _answers_for(rng: random.Random, slug: str, index: int) -> tuple[int, int, int]:
    mean = SATISFACTION_STORY[slug][index]
    satisfaction = _clamp(rng.gauss(mean, 0.75), 1, 5)
    trust = _clamp(rng.gauss(mean + TRUST_OFFSET[slug], 0.8), 1, 5)
    nps = _clamp(rng.gauss(2.1 * mean - 0.6, 1.6), 0, 10)
    return satisfaction, trust, nps


def add_respondents() -> list[User]:
    """The extra members of the demo teams (created once; loaded before training, so team
    assignments include them). Returns all of them, oldest first."""
    everyone = []
    for team_name, names in EXTRA_PEOPLE.items():
        team = accounts.get_or_create_team(team_name)
        for name in names:
            email = name.lower().replace(" ", ".") + "@example.com"
            person = accounts.get_user_by_email(email)
            if person is None:
                # No password: respondents for the figures, not accounts anyone signs in with.
                person = accounts.create_user(email, name, set(), team=team)
            everyone.append(person)
    return everyone


def _agents_used(
    rng: random.Random, team_name: str | None, paused_left: dict[str, int]
) -> list[str]:
    slugs, _ = TEAM_AGENTS.get(team_name or "", ([], 0.0))
    used = []
    for slug in slugs:
        if slug.endswith("?"):
            if rng.random() < 0.3:
                used.append(slug[:-1])
            continue
        if slug in paused_left:
            if paused_left[slug] <= 0:
                continue
            paused_left[slug] -= 1
        used.append(slug)
    return used


def load(people: dict[str, User]) -> None:
    rng = random.Random(20260601)
    extras = add_respondents()
    agents = {
        agent.slug: agent
        for agent in db.session.scalars(
            sa.select(Agent).where(Agent.slug.in_(list(SATISFACTION_STORY)))
        )
    }
    if len(agents) != len(SATISFACTION_STORY):
        return  # the demo agents are missing; nothing sensible to survey
    now = utcnow()
    admin = people["admin@example.com"]

    pulse = services.create_campaign(
        services.CampaignSettings(
            name="Monthly agent pulse",
            description=(
                "Once a month we ask everyone who works beside an agent how it is going. "
                "The answers go to the agents' owners and the governance council, and shape "
                "what gets fixed next."
            ),
            agents=[agents[slug] for slug in SATISFACTION_STORY],
            is_for_everyone=True,
            teams=[],
            roles=set(),
            cadence=Cadence.MONTHLY,
            opens_on=story_months(now.date())[0],
            closes_on=None,
            anonymity_threshold=5,
        ),
        by=admin,
        today=now.date(),
    )
    extra_question = services.add_question(pulse, QuestionKind.LIKERT, EXTRA_QUESTION)
    started = datetime.combine(pulse.opens_on, time(8, 0), tzinfo=UTC)
    pulse.launched_at = started - timedelta(days=3)
    pulse.opened_at = started

    audience = list(db.session.scalars(services.audience_select(pulse).order_by(User.id)))
    team_sizes: dict[int | None, int] = {}
    for person in audience:
        team_sizes[person.team_id] = team_sizes.get(person.team_id, 0) + 1

    for index in range(CLOSED_ROUNDS):
        start, end = services.round_period(pulse, index)
        survey_round = SurveyRound(
            campaign=pulse,
            number=index,
            period_start=start,
            period_end=end - timedelta(days=1),
            opens_at=datetime.combine(start, time.min, tzinfo=UTC),
            closes_at=datetime.combine(end, time.min, tzinfo=UTC),
            opened_at=datetime.combine(start, time.min, tzinfo=UTC),
            closed_at=datetime.combine(end, time.min, tzinfo=UTC),
            audience_size=len(audience),
        )
        for team_id, size in team_sizes.items():
            survey_round.audience.append(SurveyRoundAudience(team_id=team_id, size=size))
        db.session.add(survey_round)
        db.session.flush()
        # Each comment at most once a round, so the results read like real answers.
        unused = {slug: rng.sample(texts, len(texts)) for slug, texts in COMMENTS.items()}
        paused_left = {"invoice-matcher": PAUSED_ANSWERS[index]} if index in PAUSED_ANSWERS else {}
        for person in audience:
            team_name = person.team.name if person.team else None
            rate = TEAM_AGENTS.get(team_name or "", ([], 0.5))[1]
            if rng.random() > rate:
                continue
            db.session.add(
                SurveyParticipation(
                    round_id=survey_round.id, user_id=person.id, team_id=person.team_id
                )
            )
            for slug in _agents_used(rng, team_name, paused_left):
                satisfaction, trust, nps = _answers_for(rng, slug, index)
                pool = unused[slug]
                comment = pool.pop() if pool and rng.random() < 0.25 else ""
                response = SurveyResponse(
                    round_id=survey_round.id,
                    agent_id=agents[slug].id,
                    team_id=person.team_id,
                    period_start=start,
                    satisfaction=satisfaction,
                    trust=trust,
                    nps=nps,
                    change_text=comment,
                )
                known = _clamp(rng.gauss(3.9 if slug != "claims-triage" else 3.2, 0.8), 1, 5)
                response.answers.append(SurveyAnswer(question_id=extra_question.id, score=known))
                db.session.add(response)
    # These rounds are already closed: this flush writes their rollups too (see services).
    db.session.flush()

    # The current month's round opens the way the sweep opens it: everyone asked is notified.
    current = services.open_due_round(pulse, now)
    if current is None:
        return
    # A few of the extra respondents have answered already; the demo accounts have not.
    for person in extras[::3]:
        team_name = person.team.name if person.team else None
        answers = []
        for slug in _agents_used(rng, team_name, {"invoice-matcher": 0}):
            satisfaction, trust, nps = _answers_for(rng, slug, CLOSED_ROUNDS - 1)
            answers.append(
                services.AgentAnswers(
                    agent_id=agents[slug].id,
                    satisfaction=satisfaction,
                    trust=trust,
                    nps=nps,
                    extra={extra_question.id: _clamp(rng.gauss(3.8, 0.7), 1, 5)},
                )
            )
        services.submit_answers(current, person, answers, now)

    # A draft to show the campaign editor: a one-off check before Invoice Matcher returns.
    draft = services.create_campaign(
        services.CampaignSettings(
            name="Invoice Matcher: ready to return?",
            description="Before we switch Invoice Matcher back on, tell us what worries you.",
            agents=[agents["invoice-matcher"]],
            is_for_everyone=False,
            teams=[accounts.get_or_create_team("Finance")],
            roles={Role.MANAGER},
            cadence=Cadence.ONCE,
            opens_on=now.date() + timedelta(days=7),
            closes_on=now.date() + timedelta(days=21),
            anonymity_threshold=5,
        ),
        by=admin,
        today=now.date(),
    )
    services.add_question(draft, QuestionKind.TEXT, "What would you need to trust it again?")
    db.session.flush()
