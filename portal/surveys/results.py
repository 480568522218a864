"""A campaign's results as the results page and its CSV exports show them.

One consistent set of figures per page: the per-round figures of each agent are computed once (with
small groups withheld, and the groups needed to hide them), and the chosen round's figures, its
comments and its team breakdown all follow that one decision. So no figure on the page, or in the
export, can be subtracted from another to reveal a withheld group.
"""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.accounts.models import Team
from portal.agents.models import Agent
from portal.core.db import db
from portal.surveys import metrics
from portal.surveys.metrics import WITHHELD, ResponseRate, SurveyScores, Withheld
from portal.surveys.models import QuestionKind, SurveyCampaign, SurveyQuestion, SurveyRound
from portal.surveys.services import participation_count

COMMENTS_ON_PAGE = 40  # per agent; the CSV has them all
OTHER_TEAMS = "Other teams together"


@dataclass
class QuestionResult:
    question: SurveyQuestion
    mean: float | Withheld | None


@dataclass
class AgentResult:
    agent: Agent
    scores: SurveyScores
    # Teams shown on their own; the others only together, so nobody learns which of them answered.
    teams: list[tuple[str, SurveyScores]] = field(default_factory=list)
    other_teams: SurveyScores | None = None
    rounds: list[tuple[SurveyRound, SurveyScores | None]] = field(default_factory=list)
    questions: list[QuestionResult] = field(default_factory=list)
    comments: list[tuple[str, str]] | Withheld = field(default_factory=list)
    more_comments: bool = False


@dataclass
class CampaignResults:
    campaign: SurveyCampaign
    selected_round: SurveyRound | None  # None: every closed round
    closed_rounds: list[SurveyRound]
    open_round: SurveyRound | None
    open_round_answers: int
    agents: list[AgentResult]
    rates: list[tuple[str, ResponseRate]]

    @property
    def threshold(self) -> int:
        return self.campaign.anonymity_threshold

    @property
    def scope_label(self) -> str:
        if self.selected_round is None:
            return "All closed rounds"
        return self.selected_round.label

    @property
    def has_answers(self) -> bool:
        return any(result.scores.responses != 0 for result in self.agents)


def _empty(agent_id: int, threshold: int) -> SurveyScores:
    return SurveyScores(agent_id, None, None, None, 0, None, None, None, threshold)


def _team_names() -> dict[int | None, str]:
    names: dict[int | None, str] = {None: "No team"}
    names.update({team.id: team.name for team in db.session.scalars(sa.select(Team))})
    return names


def campaign_results(
    campaign: SurveyCampaign, selected_round: SurveyRound | None, comment_limit: int | None
) -> CampaignResults:
    """Figures, comments and response rates of one round, or of every closed round together."""
    closed = [r for r in campaign.rounds if r.closed_at is not None]
    open_round = next((r for r in campaign.rounds if r.closed_at is None), None)
    threshold = campaign.anonymity_threshold
    team_names = _team_names()

    by_round = {
        (s.agent_id, s.round_id): s
        for s in metrics.survey_scores(
            campaign_id=campaign.id, group_by=("agent", "round"), totals_shown_over=("round",)
        )
    }
    visible = {key for key, scores in by_round.items() if not scores.withheld}
    if selected_round is not None:
        visible = {
            (agent, round_id) for agent, round_id in visible if round_id == selected_round.id
        }

    if selected_round is None:
        totals = {
            s.agent_id: s
            for s in metrics.survey_scores(
                campaign_id=campaign.id, group_by=("agent",), totals_shown_over=()
            )
        }
    else:
        totals = {
            agent_id: scores
            for (agent_id, round_id), scores in by_round.items()
            if round_id == selected_round.id
        }

    teams: dict[int, list[tuple[str, SurveyScores]]] = defaultdict(list)
    hidden_teams: dict[int, list[metrics.ScoreTally]] = defaultdict(list)
    if selected_round is not None:
        group_by: tuple[metrics.Dimension, ...] = ("agent", "team")
        tallies = metrics.score_tallies(round_id=selected_round.id, group_by=group_by)
        shown = metrics.protect_scores(tallies, group_by, totals_shown_over=("team",))
        for tally, scores in zip(tallies, shown, strict=True):
            parent = totals.get(scores.agent_id)
            if parent is None or parent.withheld:
                continue  # the agent's figure is withheld: so is every part of it
            if scores.withheld:
                hidden_teams[scores.agent_id].append(tally)
            else:
                teams[scores.agent_id].append(
                    (team_names.get(scores.team_id, "Former team"), scores)
                )

    question_means = _question_means(campaign, selected_round, visible)
    found_comments = metrics.comments(
        campaign.id, visible, None if comment_limit is None else comment_limit + 1
    )

    agents = []
    for agent in campaign.agents:
        scores = totals.get(agent.id, _empty(agent.id, threshold))
        result = AgentResult(agent=agent, scores=scores)
        result.teams = sorted(teams.get(agent.id, []), key=lambda item: item[0].lower())
        if result.teams and hidden_teams.get(agent.id):
            together = metrics.ScoreTally.combine((agent.id, None), hidden_teams[agent.id])
            result.other_teams = metrics.present_scores(
                together, ("agent", "team"), together.responses < together.threshold
            )
        result.rounds = [(r, by_round.get((agent.id, r.id))) for r in closed]
        result.questions = [
            QuestionResult(q, question_means.get((agent.id, q.id)))
            for q in campaign.questions
            if q.kind is QuestionKind.LIKERT
        ]
        if scores.withheld:
            result.comments = WITHHELD
        else:
            texts = found_comments.get(agent.id, [])
            if comment_limit is not None and len(texts) > comment_limit:
                texts, result.more_comments = texts[:comment_limit], True
            result.comments = texts
        agents.append(result)

    rates = []
    if selected_round is not None:
        for rate in metrics.response_rate(round_id=selected_round.id, group_by=("team",)):
            rates.append((team_names.get(rate.team_id, "Former team"), rate))
        rates.sort(key=lambda item: item[0].lower())
    else:
        round_labels = {r.id: r.label for r in closed}
        for rate in metrics.response_rate(campaign_id=campaign.id, group_by=("round",)):
            rates.append((round_labels.get(rate.round_id, ""), rate))
        order = {r.id: i for i, r in enumerate(closed)}
        rates.sort(key=lambda item: order.get(item[1].round_id, 0))

    return CampaignResults(
        campaign=campaign,
        selected_round=selected_round,
        closed_rounds=closed,
        open_round=open_round,
        open_round_answers=participation_count(open_round) if open_round else 0,
        agents=agents,
        rates=rates,
    )


def _question_means(
    campaign: SurveyCampaign, selected_round: SurveyRound | None, visible: set[tuple[int, int]]
) -> dict[tuple[int, int], float | Withheld | None]:
    """Means of the campaign's 1-5 questions per agent over the visible rounds only."""
    threshold = campaign.anonymity_threshold
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    answered: set[tuple[int, int]] = set()
    tallies = metrics.question_tallies(
        campaign.id, selected_round.id if selected_round is not None else None
    )
    for tally in tallies:
        answered.add((tally.agent_id, tally.question_id))
        if (tally.agent_id, tally.round_id) in visible:
            entry = sums[(tally.agent_id, tally.question_id)]
            entry[0] += tally.answers
            entry[1] += tally.score_sum
    means: dict[tuple[int, int], float | Withheld | None] = {}
    for key in answered:
        count, total = sums.get(key, (0, 0))
        means[key] = WITHHELD if count < threshold else total / count
    return means


# --- Presentation shared by the page and the CSV -----------------------------------------------


def format_mean(value: float | Withheld | None, withheld: str) -> str:
    if value == WITHHELD:
        return withheld
    return "" if value is None else f"{value:.2f}"


def format_nps(value: float | Withheld | None, withheld: str) -> str:
    if value == WITHHELD:
        return withheld
    if value is None:
        return ""
    return "0" if round(value) == 0 else f"{value:+.0f}"


def format_count(value: int | Withheld, withheld: str) -> str:
    return withheld if value == WITHHELD else str(value)


def format_rate(rate: ResponseRate) -> str:
    if rate.rate == WITHHELD:
        return rate.withheld_text
    return "" if rate.rate is None else f"{rate.rate * 100:.0f}%"


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def spreadsheet_safe(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: make such text plain text."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
    return buffer.getvalue()


def figures_csv(results: CampaignResults) -> str:
    """Every figure on the results page, one row per group; withheld groups say so."""
    likert = [q for q in results.campaign.questions if q.kind is QuestionKind.LIKERT]
    header = [
        "campaign",
        "period",
        "agent",
        "team",
        "responses",
        "satisfaction_mean",
        "trust_mean",
        "nps",
        *[q.prompt for q in likert],
    ]
    rows = [header]

    def row(period: str, agent: Agent, team: str, scores: SurveyScores, extra: list[str]):
        text = scores.withheld_text
        return [
            results.campaign.name,
            period,
            agent.name,
            team,
            format_count(scores.responses, text),
            format_mean(scores.satisfaction, text),
            format_mean(scores.trust, text),
            format_nps(scores.nps, text),
            *extra,
        ]

    blank = [""] * len(likert)
    for result in results.agents:
        text = (
            result.scores.withheld_text
            if result.scores.withheld
            else metrics.withheld_text(results.threshold)
        )
        extra = [format_mean(q.mean, text) for q in result.questions]
        rows.append(row(results.scope_label, result.agent, "All teams", result.scores, extra))
        for team, scores in result.teams:
            rows.append(row(results.scope_label, result.agent, team, scores, blank))
        if result.other_teams is not None:
            rows.append(
                row(results.scope_label, result.agent, OTHER_TEAMS, result.other_teams, blank)
            )
        if results.selected_round is None:
            for survey_round, scores in result.rounds:
                scores = scores or _empty(result.agent.id, results.threshold)
                rows.append(row(survey_round.label, result.agent, "All teams", scores, blank))
    return _csv(rows)


def comments_csv(results: CampaignResults) -> str:
    """Written answers of the groups large enough to show; withheld groups get one row saying so."""
    rows = [["campaign", "period", "agent", "question", "answer"]]
    for result in results.agents:
        if result.comments == WITHHELD:
            rows.append(
                [
                    results.campaign.name,
                    results.scope_label,
                    result.agent.name,
                    "",
                    result.scores.withheld_text,
                ]
            )
            continue
        for question, text in result.comments:
            rows.append(
                [results.campaign.name, results.scope_label, result.agent.name, question, text]
            )
    return _csv(rows)
