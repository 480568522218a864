"""The headline measures of one scope (agent and/or team, period): what the dashboards' summary, the
metrics API and a quarterly review's frozen snapshot show. Every number comes from the metric function
that defines it (feedback, training, surveys); nothing is computed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any

from portal.feedback import metrics as feedback_metrics
from portal.feedback.models import Severity
from portal.governance import metrics as governance_metrics
from portal.surveys import metrics as survey_metrics
from portal.training import metrics as training_metrics

WITHHELD = survey_metrics.WITHHELD


def day_start(day: date) -> datetime:
    """Midnight UTC: the feedback measures take timestamps."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _number(value: Any, places: int) -> Any:
    if value is None or value == WITHHELD:
        return value
    return round(float(value), places)


def satisfaction_snapshot(survey: survey_metrics.SurveyScores) -> dict[str, Any]:
    """The satisfaction figure as the scorecard reads it (and a review freezes it)."""
    if survey.withheld:
        return {"value": None, "withheld": True, "withheld_text": survey.withheld_text}
    value = survey.satisfaction
    return {
        "value": None if value is None else f"{value:.2f}",
        "withheld": False,
        "answers": survey.responses,
    }


@dataclass(frozen=True)
class Headline:
    closed_loop: feedback_metrics.ClosedLoop
    confirmed_fix: feedback_metrics.ConfirmedFix
    time_to_act: feedback_metrics.TimeToAct
    sla: dict[Severity, feedback_metrics.SlaAttainment]
    survey: survey_metrics.SurveyScores
    response_rate: survey_metrics.ResponseRate | None
    training: training_metrics.TrainingCompletion

    @property
    def sla_met(self) -> int:
        return sum(item.met for item in self.sla.values())

    @property
    def sla_total(self) -> int:
        return sum(item.total for item in self.sla.values())

    @property
    def sla_rate(self) -> float | None:
        return self.sla_met / self.sla_total if self.sla_total else None

    @property
    def withheld_text(self) -> str:
        return self.survey.withheld_text

    def satisfaction_snapshot(self) -> dict[str, Any]:
        return satisfaction_snapshot(self.survey)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the API's answer and a review's frozen headline. Withheld figures read
        "withheld", with `anonymity_threshold` beside them."""
        survey = self.survey
        rate = self.response_rate
        return {
            "closed_loop_rate": _rate(self.closed_loop.rate),
            "closed_loop": {
                "closed": self.closed_loop.closed,
                "filed": self.closed_loop.total,
                "in_flight": self.closed_loop.in_flight,
            },
            "confirmed_fix_rate": _rate(self.confirmed_fix.rate),
            "confirmed_fix": {
                "fixed": self.confirmed_fix.fixed,
                "answered": self.confirmed_fix.answered,
            },
            "time_to_act_hours": {
                "median": _number(self.time_to_act.median_hours, 2),
                "p90": _number(self.time_to_act.p90_hours, 2),
                "acted_on": self.time_to_act.count,
            },
            "sla_attainment": _rate(self.sla_rate),
            "sla_attainment_by_severity": {
                severity.value: {"met": item.met, "missed": item.missed, "rate": _rate(item.rate)}
                for severity, item in self.sla.items()
            },
            "satisfaction": _number(survey.satisfaction, 2),
            "trust": _number(survey.trust, 2),
            "nps": _number(survey.nps, 1),
            "response_count": survey.responses,
            "response_rate": _rate(rate.rate)
            if rate and rate.rate != WITHHELD
            else (WITHHELD if rate else None),
            "anonymity_threshold": survey.threshold or None,
            "training_completion": _rate(self.training.rate),
            "training": {
                "due": self.training.due,
                "completed": self.training.completed,
                "overdue": self.training.overdue,
                "first_attempt_pass_rate": _rate(self.training.first_attempt_pass_rate),
            },
        }


def _by_month(tallies: list[survey_metrics.ScoreTally]) -> list[survey_metrics.ScoreTally]:
    """Round periods summed into calendar months (the first element of each key)."""
    months: dict[tuple, list[survey_metrics.ScoreTally]] = {}
    for tally in tallies:
        months.setdefault((tally.key[0].replace(day=1), *tally.key[1:]), []).append(tally)
    return [survey_metrics.ScoreTally.combine(key, group) for key, group in months.items()]


def _all_agents(
    tallies: list[survey_metrics.ScoreTally], group_by: tuple[str, ...], shown_over: tuple[str, ...]
) -> list[survey_metrics.SurveyScores]:
    """Every agent together, from per-agent tallies. A total is withheld when the agents withheld
    from it hold fewer answers than the threshold: the total minus the agents shown would give
    them away. (Withholding the total keeps each agent's own figure, which matters more.)"""
    axis = group_by.index("agent")
    dims = group_by[:axis] + group_by[axis + 1 :]
    per_agent = survey_metrics.protect_scores(tallies, group_by, totals_shown_over=shown_over)
    hidden: dict[tuple, int] = {}
    groups: dict[tuple, list[survey_metrics.ScoreTally]] = {}
    for tally, scores in zip(tallies, per_agent, strict=True):
        key = tally.key[:axis] + tally.key[axis + 1 :]
        groups.setdefault(key, []).append(tally)
        hidden[key] = hidden.get(key, 0) + (tally.responses if scores.withheld else 0)
    totals = [survey_metrics.ScoreTally.combine(key, group) for key, group in groups.items()]
    protected = survey_metrics.protect_scores(totals, dims, totals_shown_over=shown_over)
    return [
        survey_metrics.present_scores(total, dims, True)
        if not scores.withheld and 0 < hidden[total.key] < total.threshold
        else scores
        for total, scores in zip(totals, protected, strict=True)
    ]


def _survey_from_monthly(
    monthly: list[survey_metrics.ScoreTally], agent_id: int | None, team_id: int | None
) -> dict[date | None, survey_metrics.SurveyScores]:
    """Survey figures of one scope, per calendar month ({month's first day: scores}) and for the
    whole window (key None), with the anonymity rule applied as the dashboards publish them.

    The dashboards show one agent and every agent, one team and every team, month by month and
    for the whole period. So every figure comes from the same GROUP BY query (per month, per
    agent[, per team]; the window is their sum), protected together: a small group is withheld;
    teams are protected against their agent's total (more teams withheld); months against the
    period's total (more months withheld); and the all-agents total is withheld when it would give
    away the agents withheld beside it. Rounds count in the month their period starts.
    """
    teams = ("team",) if team_id is not None else ()
    per_agent = ("agent", *teams)
    if agent_id is not None:
        months = survey_metrics.protect_scores(
            monthly, ("period", *per_agent), totals_shown_over=("period", *teams)
        )
        whole = _agent_windows(monthly, team_id)
    else:
        months = _all_agents(monthly, ("period", *per_agent), ("period", *teams))
        whole = _all_agents(_whole_window(monthly), per_agent, teams)

    def in_scope(scores: survey_metrics.SurveyScores) -> bool:
        return (agent_id is None or scores.agent_id == agent_id) and (
            team_id is None or scores.team_id == team_id
        )

    result: dict[date | None, survey_metrics.SurveyScores] = {
        scores.period: scores for scores in months if in_scope(scores)
    }
    result[None] = next((scores for scores in whole if in_scope(scores)), NO_ANSWERS)
    return result


NO_ANSWERS = survey_metrics.SurveyScores(None, None, None, None, 0, None, None, None, threshold=0)


def _whole_window(monthly: list[survey_metrics.ScoreTally]) -> list[survey_metrics.ScoreTally]:
    """Per-month tallies summed over the window (raw sums add up exactly)."""
    groups: dict[tuple, list[survey_metrics.ScoreTally]] = {}
    for tally in monthly:
        groups.setdefault(tally.key[1:], []).append(tally)
    return [survey_metrics.ScoreTally.combine(key, group) for key, group in groups.items()]


def _agent_windows(
    monthly: list[survey_metrics.ScoreTally], team_id: int | None
) -> list[survey_metrics.SurveyScores]:
    """Each agent's (and team's) figures over the whole window, protected as one agent's page
    publishes them: they do not depend on which agent the page is about."""
    teams = ("team",) if team_id is not None else ()
    return survey_metrics.protect_scores(
        _whole_window(monthly), ("agent", *teams), totals_shown_over=teams
    )


def _monthly_tallies(
    start: date, end: date, team_id: int | None, agent_id: int | None
) -> list[survey_metrics.ScoreTally]:
    """Per month and agent (and team). One agent's groups are protected only against each other
    (every slice `_survey_from_monthly` protects along holds one agent), so with `agent_id` the
    other agents' rows need not be read."""
    teams = ("team",) if team_id is not None else ()
    return _by_month(
        survey_metrics.score_tallies(
            start, end, agent_id=agent_id, group_by=("period", "agent", *teams)
        )
    )


def scope_response_rates(
    start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
) -> tuple[list[survey_metrics.ResponseRate], survey_metrics.ResponseRate | None]:
    """(per round period, whole window) response rates of a scope. A team's rate is picked from
    every team's, protected together, for the same reason as `_survey_from_monthly`. The window's
    counts are the periods' summed (one pair of queries for both)."""
    dims = ("team",) if team_id is not None else ()

    def pick(rates):
        return [rate for rate in rates if team_id is None or rate.team_id == team_id]

    per_period = survey_metrics.rate_tallies(
        start, end, agent_id=agent_id, group_by=("period", *dims)
    )
    window: dict[tuple, survey_metrics.RateTally] = {}
    for key, tally in per_period.items():
        window[key[1:]] = window[key[1:]] + tally if key[1:] in window else tally
    periods = survey_metrics.protect_rates(per_period, ("period", *dims))
    picked = pick(survey_metrics.protect_rates(window, dims))
    return pick(periods), picked[0] if picked else None


class ScopeFigures:
    """Every measure of one scope ([start, end), an agent and/or a team, None: all), each read from
    the database at most once and only when asked for: a dashboard's charts, its headline, the
    overview's agents at a glance and the metrics API share them. A fixed number of SQL statements,
    whatever the number of reports, answers or agents.
    """

    def __init__(
        self, start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
    ):
        self.start, self.end = start, end
        self.agent_id, self.team_id = agent_id, team_id
        self.since, self.until = day_start(start), day_start(end)

    @cached_property
    def report_tallies(self) -> list[feedback_metrics.ReportTally]:
        return feedback_metrics.report_tallies(self.since, self.until, self.agent_id, self.team_id)

    def reports_by_agent(self) -> dict[int, list[feedback_metrics.ReportTally]]:
        grouped: dict[int, list[feedback_metrics.ReportTally]] = {}
        for tally in self.report_tallies:
            grouped.setdefault(tally.agent_id, []).append(tally)
        return grouped

    @cached_property
    def time_to_act(
        self,
    ) -> tuple[feedback_metrics.TimeToAct, dict[date, feedback_metrics.TimeToAct]]:
        """(the window's, per UTC month filed)."""
        return feedback_metrics.time_to_act_by_month(
            self.since, self.until, self.agent_id, self.team_id
        )

    @cached_property
    def _survey_monthly(self) -> list[survey_metrics.ScoreTally]:
        return _monthly_tallies(self.start, self.end, self.team_id, self.agent_id)

    @cached_property
    def survey(self) -> dict[date | None, survey_metrics.SurveyScores]:
        """See `_survey_from_monthly`."""
        return _survey_from_monthly(self._survey_monthly, self.agent_id, self.team_id)

    @cached_property
    def _agents_window_survey(self) -> dict[int, survey_metrics.SurveyScores]:
        return {
            scores.agent_id: scores
            for scores in _agent_windows(self._survey_monthly, self.team_id)
            if self.team_id is None or scores.team_id == self.team_id
        }

    def survey_of_agent(self, agent_id: int) -> survey_metrics.SurveyScores:
        """One agent's window figures, exactly as its own scope shows them (same query)."""
        return self._agents_window_survey.get(agent_id, NO_ANSWERS)

    @cached_property
    def response_rates(
        self,
    ) -> tuple[list[survey_metrics.ResponseRate], survey_metrics.ResponseRate | None]:
        return scope_response_rates(
            self.start, self.end, agent_id=self.agent_id, team_id=self.team_id
        )

    @cached_property
    def training_by_team(self) -> list[training_metrics.CompletionRow]:
        return training_metrics.completion_by("team", self.start, self.end, agent_id=self.agent_id)

    @property
    def training(self) -> training_metrics.TrainingCompletion:
        """The scope's training figures: the sum of its teams' (people without a team included)."""
        rows = [
            row for row in self.training_by_team if self.team_id is None or row.key == self.team_id
        ]
        return sum((row.figures for row in rows), training_metrics.TrainingCompletion())

    @cached_property
    def run_figures_by_month(self) -> dict[str, governance_metrics.RunFigures]:
        """Run figures per month ('YYYY-MM'); run figures are per agent, the team does not apply."""
        agent_ids = None if self.agent_id is None else [self.agent_id]
        found = governance_metrics.run_figures_by(self.start, self.end, ("month",), agent_ids)
        return {key[0]: figures for key, figures in found.items()}

    @property
    def run_figures(self) -> governance_metrics.RunFigures:
        return sum(self.run_figures_by_month.values(), governance_metrics.RunFigures())

    @cached_property
    def run_figures_by_agent(self) -> dict[int, governance_metrics.RunFigures]:
        agent_ids = None if self.agent_id is None else [self.agent_id]
        found = governance_metrics.run_figures_by(self.start, self.end, ("agent",), agent_ids)
        return {key[0]: figures for key, figures in found.items()}

    def headline(self) -> Headline:
        tallies = self.report_tallies
        return Headline(
            closed_loop=feedback_metrics.closed_loop_of(tallies),
            confirmed_fix=feedback_metrics.confirmed_fix_of(tallies),
            time_to_act=self.time_to_act[0],
            sla=feedback_metrics.sla_of(tallies),
            survey=self.survey[None],
            response_rate=self.response_rates[1],
            training=self.training,
        )


def headline_measures(
    start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
) -> Headline:
    """Every headline measure of [start, end) for one agent and/or team (None: all).

    A fixed number of SQL statements, whatever the number of reports or answers.
    """
    return ScopeFigures(start, end, agent_id=agent_id, team_id=team_id).headline()
