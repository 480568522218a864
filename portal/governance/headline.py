"""The headline measures of one scope (agent and/or team, period): what the dashboards' summary, the
metrics API and a quarterly review's frozen snapshot show. Every number comes from the metric function
that defines it (feedback, training, surveys); nothing is computed twice.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from portal.feedback import metrics as feedback_metrics
from portal.feedback.models import Severity
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
        """The satisfaction figure as the scorecard reads it (and a review freezes it)."""
        survey = self.survey
        if survey.withheld:
            return {"value": None, "withheld": True, "withheld_text": survey.withheld_text}
        value = survey.satisfaction
        return {
            "value": None if value is None else f"{value:.2f}",
            "withheld": False,
            "answers": survey.responses,
        }

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


def scope_survey_scores(
    start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
) -> dict[date | None, survey_metrics.SurveyScores]:
    """Survey figures of one scope, per calendar month ({month's first day: scores}) and for the
    whole window (key None), with the anonymity rule applied as the dashboards publish them.

    The dashboards show one agent and every agent, one team and every team, month by month and
    for the whole period. So every figure comes from the same two GROUP BY queries (per month,
    per agent[, per team]; and per agent[, per team] for the window), protected together: a small
    group is withheld; teams are protected against their agent's total (more teams withheld);
    months against the period's total (more months withheld); and the all-agents total is withheld
    when it would give away the agents withheld beside it. Rounds count in the month their
    period starts.
    """
    teams = ("team",) if team_id is not None else ()
    per_agent = ("agent", *teams)
    monthly = _by_month(survey_metrics.score_tallies(start, end, group_by=("period", *per_agent)))
    window = survey_metrics.score_tallies(start, end, group_by=per_agent)
    if agent_id is not None:
        months = survey_metrics.protect_scores(
            monthly, ("period", *per_agent), totals_shown_over=("period", *teams)
        )
        whole = survey_metrics.protect_scores(window, per_agent, totals_shown_over=teams)
    else:
        months = _all_agents(monthly, ("period", *per_agent), ("period", *teams))
        whole = _all_agents(window, per_agent, teams)

    def in_scope(scores: survey_metrics.SurveyScores) -> bool:
        return (agent_id is None or scores.agent_id == agent_id) and (
            team_id is None or scores.team_id == team_id
        )

    empty = survey_metrics.SurveyScores(None, None, None, None, 0, None, None, None, threshold=0)
    result: dict[date | None, survey_metrics.SurveyScores] = {
        scores.period: scores for scores in months if in_scope(scores)
    }
    result[None] = next((scores for scores in whole if in_scope(scores)), empty)
    return result


def scope_response_rates(
    start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
) -> tuple[list[survey_metrics.ResponseRate], survey_metrics.ResponseRate | None]:
    """(per round period, whole window) response rates of a scope. A team's rate is picked from
    every team's, protected together, for the same reason as `scope_survey_scores`."""
    dims = ["team"] if team_id is not None else []

    def pick(rates):
        return [rate for rate in rates if team_id is None or rate.team_id == team_id]

    periods = survey_metrics.response_rate(
        start, end, agent_id=agent_id, group_by=("period", *dims)
    )
    whole = survey_metrics.response_rate(start, end, agent_id=agent_id, group_by=dims)
    picked = pick(whole)
    return pick(periods), picked[0] if picked else None


def headline_measures(
    start: date, end: date, *, agent_id: int | None = None, team_id: int | None = None
) -> Headline:
    """Every headline measure of [start, end) for one agent and/or team (None: all).

    A fixed number of SQL statements (about ten), whatever the number of reports or answers.
    """
    since, until = day_start(start), day_start(end)
    return Headline(
        closed_loop=feedback_metrics.closed_loop_rate(None, since, until, agent_id, team_id),
        confirmed_fix=feedback_metrics.confirmed_fix_rate(None, since, until, agent_id, team_id),
        time_to_act=feedback_metrics.time_to_act(None, since, until, agent_id, team_id),
        sla=feedback_metrics.sla_attainment(None, since, until, agent_id, team_id),
        survey=scope_survey_scores(start, end, agent_id=agent_id, team_id=team_id)[None],
        response_rate=scope_response_rates(start, end, agent_id=agent_id, team_id=team_id)[1],
        training=training_metrics.training_completion(start, end, agent_id, team_id),
    )
