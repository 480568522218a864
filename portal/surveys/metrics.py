"""Survey measures (DESIGN.md "Measures") for pages, dashboards, the API and exports.

- Satisfaction (CSAT): mean of the 1-5 satisfaction answers.
- Trust: mean of the 1-5 answers to "I can rely on this agent's outputs".
- NPS: % promoters (9-10) minus % detractors (0-6) of the 0-10 answers, from -100 to +100.
- Response count: answers (one person's answers about one agent in one round).
- Response rate: people who answered a round / people it asked when it opened.

Every figure is aggregated in the database (one GROUP BY query per call) over CLOSED rounds only:
figures that moved while a round is open would tell who just answered. A closed round's sums never
change, so scores and response rates read the rollup tables written when the round closed
(`round_score_sums` and `round_participant_counts` define what they hold; services.roll_up_round
writes them): the cost of a dashboard follows the number of rounds, agents and teams, not of answers.
The campaign's own questions and the written comments (one campaign's results page) still read the
answers themselves.

Anonymity: a group with fewer answers than its campaign's threshold is WITHHELD (its figures and its
count). Within one call, groups are also protected against subtraction: along each grouped
dimension whose total is shown beside the breakdown, if the withheld groups of a slice hold fewer
answers than the threshold, the smallest shown groups are withheld too, so "total minus the groups
shown" never isolates a small group. Figures from different calls (other groupings, overlapping date
ranges, all agents against one agent) are not protected against each other: a page should publish
one consistent set of breakdowns (see results.py) and offer whole periods.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa

from portal.core.db import db
from portal.surveys.models import (
    SurveyAnswer,
    SurveyCampaign,
    SurveyParticipation,
    SurveyParticipationRollup,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyRoundAudience,
    SurveyScoreRollup,
    survey_campaign_agents,
)

WITHHELD: Literal["withheld"] = "withheld"
Withheld = Literal["withheld"]
Dimension = Literal["agent", "team", "period", "round"]

# Groups of the score rollup; a period is its round's period (the answers carry the same date).
_SCORE_DIMENSIONS = {
    "agent": SurveyScoreRollup.agent_id,
    "team": SurveyScoreRollup.team_id,
    "period": SurveyRound.period_start,
    "round": SurveyScoreRollup.round_id,
}
PROMOTER_MIN = 9  # NPS: 9-10 promote
DETRACTOR_MAX = 6  # 0-6 detract


CHANGE_QUESTION = "What one change would help most?"


# Why a group is withheld: it is too small, or showing it would reveal a small one by subtraction.
TOO_FEW = "too_few"
PROTECTS_ANOTHER = "protects_another"
WithheldReason = Literal["too_few", "protects_another"]


def withheld_text(threshold: int, reason: WithheldReason | None = TOO_FEW) -> str:
    if reason == PROTECTS_ANOTHER:
        return f"withheld: it would reveal a group of fewer than {threshold} answers"
    return f"withheld: fewer than {threshold} answers"


def _reason(count: int, threshold: int, is_hidden: bool) -> WithheldReason | None:
    if not is_hidden:
        return None
    return TOO_FEW if count < threshold else PROTECTS_ANOTHER


# --- Protection of small groups ----------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    key: tuple
    count: int
    threshold: int


def withheld_keys(cells: Sequence[_Cell], axes: Iterable[int]) -> set[tuple]:
    """Keys of the groups to withhold: too small (primary), or needed to hide a small one (secondary).

    `axes` are the positions in the key along which totals are published beside the groups: along
    each, the withheld groups of a slice must together hold at least the threshold, or none.
    """
    axes = list(axes)
    hidden = {cell.key for cell in cells if cell.count < cell.threshold}
    changed = bool(axes)
    while changed:
        changed = False
        for axis in axes:
            slices: dict[tuple, list[_Cell]] = defaultdict(list)
            for cell in cells:
                slices[cell.key[:axis] + cell.key[axis + 1 :]].append(cell)
            for members in slices.values():
                threshold = max(cell.threshold for cell in members)
                while True:
                    hidden_count = sum(c.count for c in members if c.key in hidden)
                    shown = [c for c in members if c.key not in hidden]
                    if hidden_count == 0 or hidden_count >= threshold or not shown:
                        break
                    smallest = min(shown, key=lambda c: (c.count, repr(c.key)))
                    hidden.add(smallest.key)
                    changed = True
    return hidden


# --- Scores: satisfaction, trust, NPS, response count ------------------------------------------


@dataclass(frozen=True)
class ScoreTally:
    """Raw sums of one group. Never shown as they are: see `SurveyScores`."""

    key: tuple
    responses: int
    satisfaction_sum: int
    trust_sum: int
    promoters: int
    detractors: int
    threshold: int

    @classmethod
    def combine(cls, key: tuple, tallies: Iterable["ScoreTally"]) -> "ScoreTally":
        tallies = list(tallies)
        return cls(
            key=key,
            responses=sum(t.responses for t in tallies),
            satisfaction_sum=sum(t.satisfaction_sum for t in tallies),
            trust_sum=sum(t.trust_sum for t in tallies),
            promoters=sum(t.promoters for t in tallies),
            detractors=sum(t.detractors for t in tallies),
            threshold=max((t.threshold for t in tallies), default=0),
        )


@dataclass(frozen=True)
class SurveyScores:
    """The figures of one group: numbers, or WITHHELD for a group below its threshold.

    `satisfaction` and `trust` are means (1-5), `nps` is -100..+100; all None when there are no answers.
    """

    agent_id: int | None
    team_id: int | None
    period: date | None
    round_id: int | None
    responses: int | Withheld
    satisfaction: float | Withheld | None
    trust: float | Withheld | None
    nps: float | Withheld | None
    threshold: int
    withheld_reason: WithheldReason | None = None

    @property
    def withheld(self) -> bool:
        return self.responses == WITHHELD

    @property
    def withheld_text(self) -> str:
        return withheld_text(self.threshold, self.withheld_reason)

    def as_dict(self) -> dict:
        return {
            "responses": self.responses,
            "satisfaction": self.satisfaction,
            "trust": self.trust,
            "nps": self.nps,
            "anonymity_threshold": self.threshold,
        }


def nps_value(promoters: int, detractors: int, answers: int) -> float | None:
    return None if answers == 0 else 100.0 * (promoters - detractors) / answers


def present_scores(
    tally: ScoreTally, group_by: Sequence[Dimension], is_withheld: bool
) -> SurveyScores:
    parts = dict(zip(group_by, tally.key, strict=True))
    common = {
        "agent_id": parts.get("agent"),
        "team_id": parts.get("team"),
        "period": parts.get("period"),
        "round_id": parts.get("round"),
        "threshold": tally.threshold,
    }
    if is_withheld:
        return SurveyScores(
            **common,
            responses=WITHHELD,
            satisfaction=WITHHELD,
            trust=WITHHELD,
            nps=WITHHELD,
            withheld_reason=_reason(tally.responses, tally.threshold, True),
        )
    n = tally.responses
    return SurveyScores(
        **common,
        responses=n,
        satisfaction=tally.satisfaction_sum / n if n else None,
        trust=tally.trust_sum / n if n else None,
        nps=nps_value(tally.promoters, tally.detractors, n),
    )


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _closed_rounds_filter(
    stmt: sa.Select,
    *,
    start: date | datetime | None,
    end: date | datetime | None,
    campaign_id: int | None,
    round_id: int | None,
) -> sa.Select:
    stmt = stmt.where(SurveyRound.closed_at.is_not(None))
    if (start := _as_date(start)) is not None:
        stmt = stmt.where(SurveyRound.period_start >= start)
    if (end := _as_date(end)) is not None:
        stmt = stmt.where(SurveyRound.period_start < end)
    if campaign_id is not None:
        stmt = stmt.where(SurveyRound.campaign_id == campaign_id)
    if round_id is not None:
        stmt = stmt.where(SurveyRound.id == round_id)
    return stmt


def round_score_sums(rounds: sa.ColumnElement[bool]) -> sa.Select:
    """Per (round, agent, team) of the rounds matching `rounds`: answers, the satisfaction and
    trust sums, promoters and detractors; the columns of SurveyScoreRollup, in its order."""
    return (
        sa.select(
            SurveyResponse.round_id,
            SurveyResponse.agent_id,
            SurveyResponse.team_id,
            sa.func.count(),
            sa.func.sum(SurveyResponse.satisfaction),
            sa.func.sum(SurveyResponse.trust),
            sa.func.sum(sa.case((SurveyResponse.nps >= PROMOTER_MIN, 1), else_=0)),
            sa.func.sum(sa.case((SurveyResponse.nps <= DETRACTOR_MAX, 1), else_=0)),
        )
        .join(SurveyRound, SurveyResponse.round_id == SurveyRound.id)
        .where(rounds)
        .group_by(SurveyResponse.round_id, SurveyResponse.agent_id, SurveyResponse.team_id)
    )


SCORE_SUM_COLUMNS = (
    "round_id",
    "agent_id",
    "team_id",
    "responses",
    "satisfaction_sum",
    "trust_sum",
    "promoters",
    "detractors",
)


def score_tallies(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    round_id: int | None = None,
    group_by: Sequence[Dimension] = (),
) -> list[ScoreTally]:
    """Raw sums per group, from one GROUP BY query over the rollups of closed rounds.

    Periods are rounds' periods in [start, end).
    """
    dims = [_SCORE_DIMENSIONS[name] for name in group_by]
    stmt = (
        sa.select(
            *dims,
            sa.func.sum(SurveyScoreRollup.responses),
            sa.func.sum(SurveyScoreRollup.satisfaction_sum),
            sa.func.sum(SurveyScoreRollup.trust_sum),
            sa.func.sum(SurveyScoreRollup.promoters),
            sa.func.sum(SurveyScoreRollup.detractors),
            sa.func.max(SurveyCampaign.anonymity_threshold),
        )
        .select_from(SurveyScoreRollup)
        .join(SurveyRound, SurveyScoreRollup.round_id == SurveyRound.id)
        .join(SurveyCampaign, SurveyRound.campaign_id == SurveyCampaign.id)
    )
    stmt = _closed_rounds_filter(
        stmt, start=start, end=end, campaign_id=campaign_id, round_id=round_id
    )
    if agent_id is not None:
        stmt = stmt.where(SurveyScoreRollup.agent_id == agent_id)
    if team_id is not None:
        stmt = stmt.where(SurveyScoreRollup.team_id == team_id)
    if dims:
        stmt = stmt.group_by(*dims)
    tallies = []
    for row in db.session.execute(stmt):
        key = tuple(row[: len(dims)])
        responses, sat, trust, promoters, detractors, threshold = row[len(dims) :]
        if not responses:
            continue  # an aggregate without GROUP BY over no rows
        tallies.append(
            ScoreTally(
                key=key,
                responses=int(responses),
                satisfaction_sum=int(sat),
                trust_sum=int(trust),
                promoters=int(promoters),
                detractors=int(detractors),
                threshold=int(threshold),
            )
        )
    return tallies


def protect_scores(
    tallies: Sequence[ScoreTally],
    group_by: Sequence[Dimension],
    totals_shown_over: Sequence[Dimension] | None = None,
) -> list[SurveyScores]:
    """Present tallies with small groups withheld; see `survey_scores` for `totals_shown_over`."""
    over = group_by if totals_shown_over is None else totals_shown_over
    cells = [_Cell(t.key, t.responses, t.threshold) for t in tallies]
    hidden = withheld_keys(cells, [group_by.index(d) for d in over if d in group_by])
    return [present_scores(t, group_by, t.key in hidden) for t in tallies]


def survey_scores(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    round_id: int | None = None,
    group_by: Sequence[Dimension] = ("agent",),
    totals_shown_over: Sequence[Dimension] | None = None,
) -> list[SurveyScores]:
    """Satisfaction, trust, NPS and response count per group (any of agent, team, period, round).

    Groups without answers are absent. `team_id` None means every team (and people without one).
    `totals_shown_over`: the grouped dimensions whose totals appear beside this breakdown (say
    ("team",) for teams shown under their agent's figure); along them small groups are protected
    from subtraction. Default: every grouped dimension, the safe choice.
    """
    tallies = score_tallies(
        start,
        end,
        agent_id=agent_id,
        team_id=team_id,
        campaign_id=campaign_id,
        round_id=round_id,
        group_by=group_by,
    )
    return protect_scores(tallies, group_by, totals_shown_over)


def overall_scores(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    round_id: int | None = None,
) -> SurveyScores:
    """The figures of one group (the filters' intersection); responses 0 when nobody answered."""
    groups = survey_scores(
        start,
        end,
        agent_id=agent_id,
        team_id=team_id,
        campaign_id=campaign_id,
        round_id=round_id,
        group_by=(),
    )
    if groups:
        return groups[0]
    return SurveyScores(None, None, None, None, 0, None, None, None, threshold=0)


def satisfaction(start=None, end=None, **filters) -> float | Withheld | None:
    """CSAT mean (1-5) for the filters (agent_id, team_id, campaign_id, round_id)."""
    return overall_scores(start, end, **filters).satisfaction


def trust(start=None, end=None, **filters) -> float | Withheld | None:
    """Mean agreement (1-5) with "I can rely on this agent's outputs"."""
    return overall_scores(start, end, **filters).trust


def nps(start=None, end=None, **filters) -> float | Withheld | None:
    """% promoters (9-10) minus % detractors (0-6)."""
    return overall_scores(start, end, **filters).nps


def response_count(start=None, end=None, **filters) -> int | Withheld:
    return overall_scores(start, end, **filters).responses


# --- Response rate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRate:
    """People who answered / people asked, per group; WITHHELD below the threshold."""

    team_id: int | None
    period: date | None
    campaign_id: int | None
    round_id: int | None
    participants: int | Withheld
    audience: int
    rate: float | Withheld | None  # 0..1
    threshold: int
    withheld_reason: WithheldReason | None = None

    @property
    def withheld(self) -> bool:
        return self.participants == WITHHELD

    @property
    def withheld_text(self) -> str:
        return withheld_text(self.threshold, self.withheld_reason)


def round_participant_counts(rounds: sa.ColumnElement[bool]) -> sa.Select:
    """Per (round, team) of the rounds matching `rounds`: people who answered; the columns of
    SurveyParticipationRollup, in its order."""
    return (
        sa.select(SurveyParticipation.round_id, SurveyParticipation.team_id, sa.func.count())
        .join(SurveyRound, SurveyParticipation.round_id == SurveyRound.id)
        .where(rounds)
        .group_by(SurveyParticipation.round_id, SurveyParticipation.team_id)
    )


PARTICIPANT_COUNT_COLUMNS = ("round_id", "team_id", "participants")

_RATE_DIMENSIONS = {
    "team": (SurveyParticipationRollup.team_id, SurveyRoundAudience.team_id),
    "period": (SurveyRound.period_start, SurveyRound.period_start),
    "campaign": (SurveyRound.campaign_id, SurveyRound.campaign_id),
    "round": (SurveyRound.id, SurveyRound.id),
}


@dataclass(frozen=True)
class RateTally:
    """Raw counts of one group's response rate. Never shown as they are: see `protect_rates`."""

    participants: int  # people who answered
    audience: int  # people asked (the snapshot when each round opened)
    threshold: int

    def __add__(self, other: "RateTally") -> "RateTally":
        return RateTally(
            self.participants + other.participants,
            self.audience + other.audience,
            max(self.threshold, other.threshold),
        )


RateDimension = Literal["team", "period", "campaign", "round"]


def rate_tallies(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    round_id: int | None = None,
    group_by: Sequence[RateDimension] = (),
) -> dict[tuple, RateTally]:
    """Raw response-rate counts of closed rounds per group: two GROUP BY queries (over the
    participation rollup and the audience snapshot). Groups add up: see `RateTally.__add__`.

    `agent_id` keeps the rounds of campaigns that ask about that agent. The audience is the snapshot
    taken when each round opened; a person's team is the one they had when they answered.
    """
    answered_dims = [_RATE_DIMENSIONS[name][0] for name in group_by]
    asked_dims = [_RATE_DIMENSIONS[name][1] for name in group_by]

    def scoped(stmt: sa.Select) -> sa.Select:
        stmt = _closed_rounds_filter(
            stmt, start=start, end=end, campaign_id=campaign_id, round_id=round_id
        )
        if agent_id is not None:
            stmt = stmt.where(
                SurveyRound.campaign_id.in_(
                    sa.select(survey_campaign_agents.c.campaign_id).where(
                        survey_campaign_agents.c.agent_id == agent_id
                    )
                )
            )
        return stmt

    answered = (
        sa.select(
            *answered_dims,
            sa.func.sum(SurveyParticipationRollup.participants),
            sa.func.max(SurveyCampaign.anonymity_threshold),
        )
        .select_from(SurveyParticipationRollup)
        .join(SurveyRound, SurveyParticipationRollup.round_id == SurveyRound.id)
        .join(SurveyCampaign, SurveyRound.campaign_id == SurveyCampaign.id)
    )
    answered = scoped(answered)
    asked = (
        sa.select(
            *asked_dims,
            sa.func.sum(SurveyRoundAudience.size),
            sa.func.max(SurveyCampaign.anonymity_threshold),
        )
        .select_from(SurveyRoundAudience)
        .join(SurveyRound, SurveyRoundAudience.round_id == SurveyRound.id)
        .join(SurveyCampaign, SurveyRound.campaign_id == SurveyCampaign.id)
    )
    asked = scoped(asked)
    if team_id is not None:
        answered = answered.where(SurveyParticipationRollup.team_id == team_id)
        asked = asked.where(SurveyRoundAudience.team_id == team_id)
    if group_by:
        answered = answered.group_by(*answered_dims)
        asked = asked.group_by(*asked_dims)

    width = len(group_by)
    tallies: dict[tuple, RateTally] = {}
    for row in db.session.execute(answered):
        if row[width]:
            tallies[tuple(row[:width])] = RateTally(int(row[width]), 0, int(row[width + 1]))
    for row in db.session.execute(asked):
        if row[width]:
            key = tuple(row[:width])
            tallies[key] = tallies.get(key, RateTally(0, 0, 0)) + RateTally(
                0, int(row[width]), int(row[width + 1])
            )
    return tallies


def protect_rates(
    tallies: dict[tuple, RateTally], group_by: Sequence[RateDimension]
) -> list[ResponseRate]:
    """Present rate tallies with small groups withheld (and those that would reveal them)."""
    keys = sorted(tallies, key=repr)
    cells = [_Cell(key, tallies[key].participants, tallies[key].threshold) for key in keys]
    hidden = withheld_keys(cells, range(len(group_by)))
    rates = []
    for cell in cells:
        parts = dict(zip(group_by, cell.key, strict=True))
        audience = tallies[cell.key].audience
        is_hidden = cell.key in hidden
        rate: float | Withheld | None = None
        if is_hidden:
            rate = WITHHELD
        elif audience:
            rate = min(cell.count / audience, 1.0)
        rates.append(
            ResponseRate(
                team_id=parts.get("team"),
                period=parts.get("period"),
                campaign_id=parts.get("campaign"),
                round_id=parts.get("round"),
                participants=WITHHELD if is_hidden else cell.count,
                audience=audience,
                rate=rate,
                threshold=cell.threshold,
                withheld_reason=_reason(cell.count, cell.threshold, is_hidden),
            )
        )
    return rates


def response_rate(
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    round_id: int | None = None,
    group_by: Sequence[RateDimension] = (),
) -> list[ResponseRate]:
    """Response rate of closed rounds per group (team, period, campaign, round), small groups
    withheld: see `rate_tallies` and `protect_rates`."""
    tallies = rate_tallies(
        start,
        end,
        agent_id=agent_id,
        team_id=team_id,
        campaign_id=campaign_id,
        round_id=round_id,
        group_by=group_by,
    )
    return protect_rates(tallies, group_by)


# --- The campaign's own questions --------------------------------------------------------------


@dataclass(frozen=True)
class QuestionTally:
    agent_id: int
    round_id: int
    question_id: int
    answers: int
    score_sum: int


def question_tallies(campaign_id: int, round_id: int | None = None) -> list[QuestionTally]:
    """Sums of the answers to a campaign's 1-5 questions per agent and round (closed rounds)."""
    stmt = (
        sa.select(
            SurveyResponse.agent_id,
            SurveyResponse.round_id,
            SurveyAnswer.question_id,
            sa.func.count(SurveyAnswer.score),
            sa.func.sum(SurveyAnswer.score),
        )
        .select_from(SurveyAnswer)
        .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyRound, SurveyResponse.round_id == SurveyRound.id)
        .join(SurveyQuestion, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(SurveyAnswer.score.is_not(None))
        .group_by(SurveyResponse.agent_id, SurveyResponse.round_id, SurveyAnswer.question_id)
    )
    stmt = _closed_rounds_filter(
        stmt, start=None, end=None, campaign_id=campaign_id, round_id=round_id
    )
    return [
        QuestionTally(agent, round_, question, int(count), int(total or 0))
        for agent, round_, question, count, total in db.session.execute(stmt)
        if count
    ]


def comments(
    campaign_id: int, visible: set[tuple[int, int]], limit: int | None = None
) -> dict[int, list[tuple[str, str]]]:
    """Written answers per agent, only from (agent id, round id) groups in `visible`.

    Each item is (question, text), at most `limit` per agent. Ordered by the answers' random keys,
    never by when they came in.
    """
    if not visible:
        return {}
    pairs = sa.tuple_(SurveyResponse.agent_id, SurveyResponse.round_id).in_(sorted(visible))
    standard = (
        sa.select(
            SurveyResponse.agent_id.label("agent_id"),
            sa.literal(CHANGE_QUESTION).label("question"),
            SurveyResponse.change_text.label("text"),
            SurveyResponse.id.label("sort_key"),
        )
        .join(SurveyRound, SurveyResponse.round_id == SurveyRound.id)
        .where(pairs, SurveyResponse.change_text != "")
    )
    extra = (
        sa.select(
            SurveyResponse.agent_id.label("agent_id"),
            SurveyQuestion.prompt.label("question"),
            SurveyAnswer.text.label("text"),
            SurveyResponse.id.label("sort_key"),
        )
        .select_from(SurveyAnswer)
        .join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyRound, SurveyResponse.round_id == SurveyRound.id)
        .join(SurveyQuestion, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(pairs, SurveyAnswer.text.is_not(None), SurveyAnswer.text != "")
    )
    standard = _closed_rounds_filter(
        standard, start=None, end=None, campaign_id=campaign_id, round_id=None
    )
    extra = _closed_rounds_filter(
        extra, start=None, end=None, campaign_id=campaign_id, round_id=None
    )
    union = sa.union_all(standard, extra).subquery()
    position = (
        sa.func.row_number()
        .over(partition_by=union.c.agent_id, order_by=(union.c.sort_key, union.c.question))
        .label("position")
    )
    numbered = sa.select(union.c.agent_id, union.c.question, union.c.text, position).subquery()
    stmt = sa.select(numbered.c.agent_id, numbered.c.question, numbered.c.text).order_by(
        numbered.c.agent_id, numbered.c.position
    )
    if limit is not None:
        stmt = stmt.where(numbered.c.position <= limit)
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for agent_id, question, text in db.session.execute(stmt):
        found[agent_id].append((question, text))
    return dict(found)
