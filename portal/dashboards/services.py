"""What the dashboards show: who sees which agents, the scope of a page, and each chart's rows.

Every number comes from the metric function that defines it (portal.feedback.metrics,
portal.training.metrics, portal.surveys.metrics, portal.governance.metrics); this module only
arranges them by month, team or severity. Each chart costs a fixed number of SQL statements (a month
loop costs one or two per month), so a page's statement count never grows with the data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import Role, Team, User
from portal.agents.models import Agent, ReportCategory
from portal.agents.services import THRESHOLDS, plain_number
from portal.core.db import db
from portal.dashboards.charts import (
    Chart,
    Column,
    Flag,
    Withheld,
    bar_figure,
    line_figure,
    mark_withheld,
    plotted,
    threshold_line,
)
from portal.feedback import metrics as feedback_metrics
from portal.governance import metrics as governance_metrics
from portal.governance import services as governance
from portal.governance.headline import ScopeFigures, satisfaction_snapshot
from portal.governance.periods import (
    add_months,
    last_day,
    month_key,
    month_label,
    month_start,
    month_starts,
)
from portal.surveys import metrics as survey_metrics

DEFAULT_MONTHS = 6
MAX_MONTHS = 36


# --- Who sees what ---------------------------------------------------------------------------------


def sees_every_agent(user: User) -> bool:
    return user.has_any_role(Role.MANAGER, Role.ADMIN)


def may_view_agent(user: User, agent: Agent) -> bool:
    """Managers and admins see every agent's dashboard; an owner sees their own agents'."""
    return user.is_authenticated and (sees_every_agent(user) or agent.is_owned_by(user))


def visible_agents(user: User) -> list[Agent]:
    stmt = sa.select(Agent).order_by(sa.func.lower(Agent.name), Agent.id)
    if not sees_every_agent(user):
        stmt = stmt.where(
            sa.or_(
                Agent.business_owner_id == user.id,
                Agent.technical_owner_id == user.id,
                Agent.governance_owner_id == user.id,
            )
        )
    return list(db.session.scalars(stmt))


def all_teams() -> list[Team]:
    return list(db.session.scalars(sa.select(Team).order_by(sa.func.lower(Team.name), Team.id)))


# --- The scope of a page ---------------------------------------------------------------------------


def default_window(today: date) -> tuple[date, date]:
    """The last six months: from the first of the month five months ago up to today, inclusive."""
    return add_months(month_start(today), -(DEFAULT_MONTHS - 1)), today


@dataclass(frozen=True)
class Scope:
    """[start, end) and the agent and team a page or chart is about (None: all visible)."""

    start: date
    end: date  # exclusive
    agent: Agent | None = None
    team: Team | None = None

    @property
    def agent_id(self) -> int | None:
        return self.agent.id if self.agent else None

    @property
    def team_id(self) -> int | None:
        return self.team.id if self.team else None

    @property
    def last_day(self) -> date:
        return last_day(self.end)

    def months(self) -> list[tuple[date, date, date]]:
        """(month's first day, window start, window end) for each month, clipped to the scope."""
        return [
            (first, max(first, self.start), min(add_months(first, 1), self.end))
            for first in month_starts(self.start, self.end)
        ]

    def describe(self) -> str:
        """'for Support Assistant, people in Finance' — used in empty states."""
        parts = []
        if self.agent:
            parts.append(f"for {self.agent.name}")
        if self.team:
            parts.append(f"from people in {self.team.name}")
        return (" " + ", ".join(parts)) if parts else ""


def make_scope(
    start: date, last: date, agent: Agent | None = None, team: Team | None = None
) -> Scope:
    """From the inclusive dates people choose."""
    return Scope(start=start, end=last + timedelta(days=1), agent=agent, team=team)


# --- Charts ----------------------------------------------------------------------------------------


def _survey_value(value, scores: survey_metrics.SurveyScores):
    return Withheld(scores.withheld_text) if value == survey_metrics.WITHHELD else value


def satisfaction_flag(agent: Agent | None, value) -> Flag | None:
    """The mark beside a satisfaction figure: below or meeting the agent's threshold (words too)."""
    if agent is None or agent.satisfaction_min is None or not isinstance(value, int | float):
        return None
    minimum = float(agent.satisfaction_min)
    shown = plain_number(agent.satisfaction_min)
    if value < minimum:
        return Flag(f"Below threshold (min {shown})", is_alert=True)
    return Flag(f"Meets threshold (min {shown})")


def satisfaction_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    by_month = {month: scores for month, scores in figures.survey.items() if month is not None}
    threshold = max((s.threshold for s in by_month.values()), default=0)
    rows = []
    for first, _, _ in scope.months():
        scores = by_month.get(first)
        if scores is None:
            rows.append([month_label(first), 0, None, None, None, None])
            continue
        rows.append(
            [
                month_label(first),
                _survey_value(scores.responses, scores),
                _survey_value(scores.satisfaction, scores),
                _survey_value(scores.trust, scores),
                _survey_value(scores.nps, scores),
                satisfaction_flag(scope.agent, scores.satisfaction),
            ]
        )
    x = [row[0] for row in rows]
    figure = line_figure(
        x,
        [
            ("Satisfaction (1-5)", [plotted(row[2]) for row in rows]),
            ("Trust (1-5)", [plotted(row[3]) for row in rows]),
        ],
        "Score (1-5)",
        yaxis={"title": {"text": "Score (1-5)"}, "range": [1, 5.2], "gridcolor": "#e9ecef"},
        yaxis2={
            "title": {"text": "NPS"},
            "overlaying": "y",
            "side": "right",
            "range": [-100, 100],
            "tickmode": "linear",
            "tick0": -100,
            "dtick": 50,
            "showgrid": False,
        },
    )
    figure.add_trace(
        {
            "type": "scatter",
            "x": x,
            "y": [plotted(row[4]) for row in rows],
            "name": "NPS (-100 to 100)",
            "yaxis": "y2",
            "mode": "lines+markers",
            "line": {"color": "#009E73", "width": 2, "dash": "dot"},
            "marker": {"size": 7, "symbol": "diamond"},
        }
    )
    if scope.agent is not None and scope.agent.satisfaction_min is not None:
        threshold_line(
            figure,
            float(scope.agent.satisfaction_min),
            f"Satisfaction threshold {plain_number(scope.agent.satisfaction_min)}",
        )
    withheld = [row[0] for row in rows if isinstance(row[1], Withheld)]
    mark_withheld(figure, withheld, y=3)  # the middle of the 1-5 scale
    notes = []
    if withheld:
        notes.append(
            f"Months marked withheld had fewer than {threshold} answers, or would reveal a "
            "smaller group beside the figures shown for all teams and agents."
        )
    notes.append("From closed survey rounds only; a round counts in the month its period starts.")
    return Chart(
        key="satisfaction",
        title="Satisfaction, trust and NPS",
        description="Monthly means of the survey answers (1-5) and the Net Promoter Score.",
        columns=[
            Column("Month"),
            Column("Answers", "count"),
            Column("Satisfaction (1-5)", "score"),
            Column("Trust (1-5)", "score"),
            Column("NPS", "nps"),
            Column("Against threshold", "flag"),
        ],
        rows=rows,
        figure=figure,
        has_data=bool(by_month),
        empty_message=f"No survey answers from closed rounds in this period{scope.describe()}.",
        notes=notes,
    )


def _tallies_by_month(figures: ScopeFigures) -> dict[date, list[feedback_metrics.ReportTally]]:
    months: dict[date, list[feedback_metrics.ReportTally]] = defaultdict(list)
    for tally in figures.report_tallies:
        months[tally.month].append(tally)
    return months


def closed_loop_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    months = _tallies_by_month(figures)
    rows = []
    for first, _, _ in scope.months():
        loop = feedback_metrics.closed_loop_of(months.get(first, []))
        rows.append([month_label(first), loop.total, loop.closed, loop.rate, loop.in_flight])
    x = [row[0] for row in rows]
    figure = bar_figure(
        x,
        [("Closed-loop rate (%)", [plotted(row[3], "percent") for row in rows])],
        "Reports with the loop closed (%)",
        yaxis={"title": {"text": "Loop closed (%)"}, "range": [0, 100], "gridcolor": "#e9ecef"},
    )
    return Chart(
        key="closed_loop",
        title="Closed-loop rate",
        description=(
            "Of the reports filed each month, the share acted on, declined or closed with the "
            "reporter told. “In flight” reports are still open inside their SLA."
        ),
        columns=[
            Column("Month filed"),
            Column("Reports filed", "count"),
            Column("Loop closed", "count"),
            Column("Closed-loop rate (%)", "percent"),
            Column("In flight", "count"),
        ],
        rows=rows,
        figure=figure,
        has_data=any(row[1] for row in rows),
        empty_message=f"No reports were filed in this period{scope.describe()}.",
        notes=["Reports closed as duplicates are left out: their primary carries the loop."],
    )


def time_to_act_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    by_month = figures.time_to_act[1]
    rows = []
    for first, _, _ in scope.months():
        timing = by_month.get(first, feedback_metrics.TimeToAct(0, None, None))
        rows.append([month_label(first), timing.count, timing.median_hours, timing.p90_hours])
    figure = line_figure(
        [row[0] for row in rows],
        [
            ("Median (hours)", [plotted(row[2]) for row in rows]),
            ("90th percentile (hours)", [plotted(row[3]) for row in rows]),
        ],
        "Hours from filed to acted on",
    )
    return Chart(
        key="time_to_act",
        title="Time to act",
        description="Hours from filing to “acted on” (a decline counts), by the month reports were filed.",
        columns=[
            Column("Month filed"),
            Column("Reports acted on", "count"),
            Column("Median (hours)", "hours"),
            Column("90th percentile (hours)", "hours"),
        ],
        rows=rows,
        figure=figure,
        has_data=any(row[1] for row in rows),
        empty_message=f"No report filed in this period has been acted on yet{scope.describe()}.",
    )


def sla_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    attainment = feedback_metrics.sla_of(figures.report_tallies)
    rows = [
        [severity.label, item.met, item.missed, item.rate]
        for severity, item in sorted(attainment.items(), key=lambda kv: -kv[0].rank)
    ]
    met = sum(item.met for item in attainment.values())
    missed = sum(item.missed for item in attainment.values())
    rows.append(["All severities", met, missed, met / (met + missed) if met + missed else None])
    figure = bar_figure(
        [row[0] for row in rows],
        [("SLA attainment (%)", [plotted(row[3], "percent") for row in rows])],
        "Acted on within the SLA (%)",
        yaxis={"title": {"text": "Within SLA (%)"}, "range": [0, 100], "gridcolor": "#e9ecef"},
        hovermode="closest",
    )
    return Chart(
        key="sla",
        title="SLA attainment by severity",
        description=(
            "Met: acted on by the SLA due time. Missed: acted on later, or still open past it. "
            "Reports still inside their SLA are not counted yet."
        ),
        columns=[
            Column("Severity"),
            Column("Met", "count"),
            Column("Missed", "count"),
            Column("Attainment (%)", "percent"),
        ],
        rows=rows,
        figure=figure,
        has_data=bool(met + missed),
        empty_message=f"No report in this period has reached or passed its SLA yet{scope.describe()}.",
    )


def categories_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    counts = feedback_metrics.categories_of(figures.report_tallies, by_month=True)
    categories = list(ReportCategory)
    rows = []
    for first, _, _ in scope.months():
        key = month_key(first)
        values = [counts.get((key, category), 0) for category in categories]
        rows.append([month_label(first), *values, sum(values)])
    figure = bar_figure(
        [row[0] for row in rows],
        [
            (category.label, [row[index + 1] for row in rows])
            for index, category in enumerate(categories)
        ],
        "Reports filed",
        stacked=True,
    )
    return Chart(
        key="categories",
        title="Reports by category",
        description="Reports filed each month, by what kind of problem they describe.",
        columns=[
            Column("Month filed"),
            *[Column(category.label, "count") for category in categories],
            Column("Total", "count"),
        ],
        rows=rows,
        figure=figure,
        has_data=any(row[-1] for row in rows),
        empty_message=f"No reports were filed in this period{scope.describe()}.",
        notes=["Reports closed as duplicates are left out."],
    )


def training_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    groups = figures.training_by_team
    if scope.team is not None:
        groups = [group for group in groups if group.key == scope.team.id]
    rows = [
        [
            group.label,
            group.figures.due,
            group.figures.completed,
            group.figures.rate,
            group.figures.overdue,
            group.figures.first_attempt_pass_rate,
        ]
        for group in groups
        if group.figures.due
    ]
    figure = bar_figure(
        [row[0] for row in rows],
        [("Completion (%)", [plotted(row[3], "percent") for row in rows])],
        "Assignments completed (%)",
        yaxis={"title": {"text": "Completed (%)"}, "range": [0, 100], "gridcolor": "#e9ecef"},
        hovermode="closest",
    )
    return Chart(
        key="training",
        title="Training completion by team",
        description=(
            "Of the training assignments due in the period, the share passed on the module's "
            "current certification version."
        ),
        columns=[
            Column("Team"),
            Column("Due", "count"),
            Column("Completed", "count"),
            Column("Completion (%)", "percent"),
            Column("Overdue", "count"),
            Column("First-attempt pass rate (%)", "percent"),
        ],
        rows=rows,
        figure=figure,
        has_data=bool(rows),
        empty_message=f"No training assignments were due in this period{scope.describe()}.",
    )


def _monthly_rates(
    figures: ScopeFigures,
) -> dict[date, tuple[int, int | Withheld, float | Withheld | None]]:
    """(people asked, people who answered, rate) per calendar month."""
    rates, _ = figures.response_rates
    by_month: dict[date, list[survey_metrics.ResponseRate]] = defaultdict(list)
    for rate in rates:
        by_month[month_start(rate.period)].append(rate)
    result = {}
    for first, group in by_month.items():
        asked = sum(rate.audience for rate in group)
        withheld = [rate for rate in group if rate.withheld]
        if withheld:
            # A month is shown whole or not at all, so a shown round cannot reveal a withheld one.
            hidden = Withheld(withheld[0].withheld_text)
            result[first] = (asked, hidden, hidden)
            continue
        answered = sum(int(rate.participants) for rate in group)
        result[first] = (asked, answered, min(answered / asked, 1.0) if asked else None)
    return result


def response_rate_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    by_month = _monthly_rates(figures)
    rows = []
    for first, _, _ in scope.months():
        asked, answered, rate = by_month.get(first, (None, None, None))
        rows.append([month_label(first), asked, answered, rate])
    figure = bar_figure(
        [row[0] for row in rows],
        [("Response rate (%)", [plotted(row[3], "percent") for row in rows])],
        "People who answered (%)",
        yaxis={"title": {"text": "Answered (%)"}, "range": [0, 100], "gridcolor": "#e9ecef"},
    )
    withheld = [row[0] for row in rows if isinstance(row[2], Withheld)]
    mark_withheld(figure, withheld, y=50)
    notes = ["From closed survey rounds: people who answered / people the round asked."]
    if withheld:
        notes.insert(
            0,
            "Months marked withheld had too few answers to show (or would reveal such a month).",
        )
    return Chart(
        key="response_rate",
        title="Survey response rate",
        description="Of the people each survey round asked, the share who answered.",
        columns=[
            Column("Month"),
            Column("People asked", "count"),
            Column("People who answered", "count"),
            Column("Response rate (%)", "percent"),
        ],
        rows=rows,
        figure=figure,
        has_data=bool(by_month),
        empty_message=f"No survey round closed in this period{scope.describe()}.",
        notes=notes,
    )


def _limit_flag(agent: Agent, name: str, value) -> str | None:
    threshold = getattr(agent, name)
    if threshold is None or value is None:
        return None
    spec = THRESHOLDS[name]
    past = value < threshold if spec.direction == "minimum" else value > threshold
    return f"{spec.label}: past threshold" if past else None


def run_figures_chart(scope: Scope, figures: ScopeFigures) -> Chart:
    agent = scope.agent
    by_month = figures.run_figures_by_month
    rows = []
    for first, _, _ in scope.months():
        figures = by_month.get(month_key(first))
        if figures is None:
            rows.append([month_label(first), None, None, None, None, None, None])
            continue
        marks = (
            [
                _limit_flag(agent, "safety_max_per_1000", figures.safety_per_1000),
                _limit_flag(agent, "quality_min_pct", figures.quality_pct),
                _limit_flag(agent, "cost_max_per_unit", figures.cost_per_unit),
            ]
            if agent is not None
            else []
        )
        marks = [mark for mark in marks if mark]
        flag = (
            Flag("; ".join(marks), is_alert=True)
            if marks
            else (Flag("Within thresholds") if agent is not None else None)
        )
        rows.append(
            [
                month_label(first),
                figures.runs,
                figures.unsafe_reports,
                figures.safety_per_1000,
                figures.quality_pct,
                figures.cost_per_unit,
                flag,
            ]
        )
    x = [row[0] for row in rows]
    figure = bar_figure(
        x,
        [("Runs", [plotted(row[1]) for row in rows])],
        "Runs",
        yaxis2={
            "title": {"text": "Unsafe reports per 1,000 runs"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    figure.add_trace(
        {
            "type": "scatter",
            "x": x,
            "y": [plotted(row[3]) for row in rows],
            "name": "Unsafe per 1,000 runs",
            "yaxis": "y2",
            "mode": "lines+markers",
            "line": {"color": "#D55E00", "width": 2},
            "marker": {"size": 7, "symbol": "square"},
        }
    )
    if agent is not None and agent.safety_max_per_1000 is not None:
        threshold_line(
            figure,
            float(agent.safety_max_per_1000),
            f"Safety threshold {plain_number(agent.safety_max_per_1000)} per 1,000",
            yref="y2",
        )
    notes = ["Run figures are entered by the agent's owners or posted by the agent, per period."]
    if scope.team is not None:
        notes.append("Run figures are per agent: the team filter does not apply to them.")
    return Chart(
        key="run_figures",
        title="Runs, safety, quality and cost",
        description=(
            "Run volume per month with “unsafe or policy violation” reports per 1,000 runs; "
            "quality and cost per unit are weighted by runs."
        ),
        columns=[
            Column("Month"),
            Column("Runs", "count"),
            Column("Unsafe reports", "count"),
            Column("Unsafe per 1,000 runs", "decimal"),
            Column("Quality (%)", "decimal"),
            Column("Cost per unit", "decimal"),
            Column("Against thresholds", "flag"),
        ],
        rows=rows,
        figure=figure,
        has_data=bool(by_month),
        empty_message=f"No run figures were entered for this period{scope.describe()}.",
        notes=notes,
    )


ChartBuilder = Callable[[Scope, ScopeFigures], Chart]

# In page order. The run-figures chart needs an agent: it is on the agent pages.
CHARTS: dict[str, ChartBuilder] = {
    "satisfaction": satisfaction_chart,
    "closed_loop": closed_loop_chart,
    "time_to_act": time_to_act_chart,
    "sla": sla_chart,
    "categories": categories_chart,
    "training": training_chart,
    "response_rate": response_rate_chart,
    "run_figures": run_figures_chart,
}
AGENT_ONLY = frozenset({"run_figures"})


def chart_keys(scope: Scope) -> list[str]:
    return [key for key in CHARTS if scope.agent is not None or key not in AGENT_ONLY]


def figures_of(scope: Scope) -> ScopeFigures:
    """The scope's measures, read once for the whole page (charts, headline, glance)."""
    return ScopeFigures(scope.start, scope.end, agent_id=scope.agent_id, team_id=scope.team_id)


def build_chart(key: str, scope: Scope, figures: ScopeFigures | None = None) -> Chart:
    return CHARTS[key](scope, figures or figures_of(scope))


# --- Page summaries --------------------------------------------------------------------------------


@dataclass
class AgentGlance:
    """One agent's line on the overview: its scorecard and two headline measures."""

    agent: Agent
    lines: list[governance.ScoreLine]
    closed_loop_rate: float | None = None
    trust: float | Withheld | None = None


def agents_at_a_glance(
    agents: list[Agent], scope: Scope, figures: ScopeFigures
) -> list[AgentGlance]:
    """Each agent's scorecard over the scope's period (agent-wide: thresholds are not per team),
    from grouped queries: the same statements for 3 agents or 300."""
    if figures.team_id is not None or figures.agent_id is not None:
        figures = ScopeFigures(scope.start, scope.end)
    reports = figures.reports_by_agent()
    runs = figures.run_figures_by_agent
    glances = []
    for agent in agents:
        survey = figures.survey_of_agent(agent.id)
        measured = governance.scorecard_measures(
            scope.start,
            scope.end,
            runs.get(agent.id, governance_metrics.RunFigures()),
            satisfaction_snapshot(survey),
        )
        lines = governance.scorecard_lines(measured, governance.thresholds_snapshot(agent))
        loop = feedback_metrics.closed_loop_of(reports.get(agent.id, []))
        trust = survey.trust
        glances.append(AgentGlance(agent, lines, loop.rate, trust))
    return glances


def scorecard(agent: Agent, scope: Scope, figures: ScopeFigures) -> list[governance.ScoreLine]:
    """The agent's live scorecard over the scope's period, from the page's figures. Thresholds are
    agent-wide, so a team filter does not apply to it."""
    if figures.team_id is not None:
        return governance.scorecard(agent, scope.start, scope.end)
    measured = governance.scorecard_measures(
        scope.start, scope.end, figures.run_figures, satisfaction_snapshot(figures.survey[None])
    )
    return governance.scorecard_lines(measured, governance.thresholds_snapshot(agent))
