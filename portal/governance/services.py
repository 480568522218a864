"""The rules of governance: run figures per period, the agent scorecard, and the quarterly review.

Pages, the JSON API, the CLI and the tests all call these functions. Services flush; the caller
commits once (or rolls back on GovernanceError).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, User
from portal.agents.models import Agent
from portal.agents.services import THRESHOLDS, Threshold, plain_number
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.governance import metrics
from portal.governance.models import AgentPeriodFigures, Decision, FiguresSource, GovernanceReview
from portal.governance.periods import last_day, quarter_label, quarter_window

MAX_PERIOD_DAYS = 366
MAX_RUNS = 10**12
MAX_COST = Decimal("99999999.9999")
NOTES_MAX = 10_000


_signals = Namespace()
# Sent with the agent (sender) and `figures=` the row and `line=` the ScoreLine, once per threshold
# that the period's figures miss, each time figures are recorded (webhooks listen).
threshold_breached = _signals.signal("threshold-breached")


class GovernanceError(ValueError):
    """A governance rule was broken. `field` names the form/API field at fault; `status` is the HTTP
    status an API answers with (403 not allowed, 404 not found, 409 conflict, 422 invalid)."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --- Who may do what -----------------------------------------------------------------------------


def may_enter_figures(user: User, agent: Agent) -> bool:
    """An agent's owners and admins enter (or post) its run figures."""
    return agent.can_manage(user)


def may_read_governance(user: User, agent: Agent) -> bool:
    """Managers and admins read every agent's figures and reviews; owners read their agents'."""
    if not user.is_authenticated:
        return False
    return user.has_any_role(Role.MANAGER, Role.ADMIN) or agent.is_owned_by(user)


def may_record_review(user: User) -> bool:
    """The quarterly decision is the managers' (the governance council's)."""
    return user.is_authenticated and user.has_role(Role.MANAGER)


# --- Run figures -----------------------------------------------------------------------------------


@dataclass
class FiguresInput:
    """One period's figures as a form or an API client gives them (numbers may be text)."""

    period_start: date
    period_end: date  # inclusive
    runs: int
    quality_pct: Decimal | int | float | str | None = None
    cost_per_unit: Decimal | int | float | str | None = None


def _number(value: Any, field: str, label: str, places: int, highest: Decimal) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise GovernanceError(f"{label}: give a number.", field)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise GovernanceError(f"{label}: give a number.", field) from None
    if not number.is_finite():
        raise GovernanceError(f"{label}: give a finite number.", field)
    if not Decimal(0) <= number <= highest:
        raise GovernanceError(f"{label}: give a number from 0 to {highest:,}.", field)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise GovernanceError(f"{label}: use at most {places} decimal places.", field)
    return number


def _checked_figures(data: FiguresInput, today: date) -> FiguresInput:
    if not isinstance(data.period_start, date) or not isinstance(data.period_end, date):
        raise GovernanceError("Give the period's first and last day.", "period_start")
    if data.period_end < data.period_start:
        raise GovernanceError("The period ends before it starts.", "period_end")
    if (data.period_end - data.period_start).days + 1 > MAX_PERIOD_DAYS:
        raise GovernanceError(f"A period covers at most {MAX_PERIOD_DAYS} days.", "period_end")
    if data.period_start > today:
        raise GovernanceError("The period has not started yet.", "period_start")
    if isinstance(data.runs, bool) or not isinstance(data.runs, int):
        raise GovernanceError("Runs: give a whole number.", "runs")
    if not 0 <= data.runs <= MAX_RUNS:
        raise GovernanceError(f"Runs: give a whole number from 0 to {MAX_RUNS:,}.", "runs")
    return FiguresInput(
        period_start=data.period_start,
        period_end=data.period_end,
        runs=data.runs,
        quality_pct=_number(data.quality_pct, "quality_pct", "Quality", 2, Decimal(100)),
        cost_per_unit=_number(data.cost_per_unit, "cost_per_unit", "Cost per unit", 4, MAX_COST),
    )


def record_figures(
    agent: Agent, data: FiguresInput, by: User, source: FiguresSource, *, today: date | None = None
) -> tuple[AgentPeriodFigures, bool]:
    """Store one period's figures; the same period again replaces them. Returns (row, created).

    A period that overlaps another of the agent's periods (other than the very same one) is refused:
    run volumes must add up. Raises GovernanceError; the caller checks may_enter_figures.
    """
    checked = _checked_figures(data, today or utcnow().date())
    overlapping = db.session.scalars(
        sa.select(AgentPeriodFigures)
        .where(
            AgentPeriodFigures.agent_id == agent.id,
            AgentPeriodFigures.period_start <= checked.period_end,
            AgentPeriodFigures.period_end >= checked.period_start,
        )
        .order_by(AgentPeriodFigures.period_start)
    ).all()
    same = next(
        (
            row
            for row in overlapping
            if row.period_start == checked.period_start and row.period_end == checked.period_end
        ),
        None,
    )
    others = [row for row in overlapping if row is not same]
    if others:
        other = others[0]
        raise GovernanceError(
            f"This period overlaps the figures already recorded for "
            f"{other.period_start:%d %b %Y} to {other.period_end:%d %b %Y}. "
            "Give a period that does not overlap, or the very same dates to replace them.",
            "period_start",
            status=409,
        )
    created = same is None
    row = same or AgentPeriodFigures(
        agent_id=agent.id, period_start=checked.period_start, period_end=checked.period_end
    )
    row.runs = checked.runs
    row.quality_pct = checked.quality_pct
    row.cost_per_unit = checked.cost_per_unit
    row.source = source
    row.recorded_by_id = by.id
    if created:
        db.session.add(row)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # The same period sent twice at the same moment: the other request's row won.
        db.session.rollback()
        raise GovernanceError(
            "These figures were just recorded by another request; send them again to replace them.",
            "period_start",
            status=409,
        ) from None
    _announce_breaches(agent, row)
    return row, created


def _announce_breaches(agent: Agent, row: AgentPeriodFigures) -> None:
    """Signal each threshold the recorded period misses (scorecard over that period's dates)."""
    if not threshold_breached.receivers:
        return
    for line in scorecard(agent, row.period_start, row.period_end + timedelta(days=1)):
        if line.status == Status.MISSED:
            threshold_breached.send(agent, figures=row, line=line)


def figures_of(agent: Agent, limit: int = 36) -> list[AgentPeriodFigures]:
    """The agent's most recent periods, newest first, with who recorded them."""
    return list(
        db.session.scalars(
            sa.select(AgentPeriodFigures)
            .options(joinedload(AgentPeriodFigures.recorded_by))
            .where(AgentPeriodFigures.agent_id == agent.id)
            .order_by(AgentPeriodFigures.period_start.desc())
            .limit(limit)
        )
    )


def figures_to_dict(row: AgentPeriodFigures) -> dict[str, Any]:
    return {
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "runs": row.runs,
        "quality_pct": float(row.quality_pct) if row.quality_pct is not None else None,
        "cost_per_unit": float(row.cost_per_unit) if row.cost_per_unit is not None else None,
        "source": row.source.value,
        "updated_at": row.updated_at.isoformat(),
    }


# --- The scorecard ---------------------------------------------------------------------------------

# Which measured figure each threshold is read against.
MEASURE_OF = {
    "quality_min_pct": "quality_pct",
    "safety_max_per_1000": "safety_per_1000",
    "cost_max_per_unit": "cost_per_unit",
    "satisfaction_min": "satisfaction",
}


class Status:
    MET = "met"
    MISSED = "missed"
    NO_THRESHOLD = "no_threshold"
    NO_DATA = "no_data"
    WITHHELD = "withheld"


STATUS_TEXT = {
    Status.MET: "Meets threshold",
    Status.MISSED: "Past threshold",
    Status.NO_THRESHOLD: "No threshold set",
    Status.NO_DATA: "Not measured",
    Status.WITHHELD: "Withheld",
}


@dataclass(frozen=True)
class ScoreLine:
    """One threshold against what was measured, as people read it."""

    spec: Threshold
    threshold: Decimal | None
    measured: Decimal | None
    status: str
    basis: str  # what the figure rests on, or why there is none

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def threshold_text(self) -> str | None:
        return None if self.threshold is None else plain_number(self.threshold)

    @property
    def measured_text(self) -> str | None:
        return None if self.measured is None else plain_number(self.measured)


def _as_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def thresholds_snapshot(agent: Agent) -> dict[str, str | None]:
    """The agent's four thresholds as JSON-safe text (exact decimals), as frozen into a review."""
    return {name: _text(getattr(agent, name)) for name in THRESHOLDS}


def scorecard_measures(
    start: date, end: date, figures: metrics.RunFigures, satisfaction: dict[str, Any]
) -> dict[str, Any]:
    """The scorecard's four figures of a window, JSON-safe (what `scorecard_lines` reads)."""
    return {
        "window": {"start": start.isoformat(), "last_day": last_day(end).isoformat()},
        "satisfaction": satisfaction,
        "safety_per_1000": {
            "value": _text(figures.safety_per_1000),
            "unsafe_reports": figures.unsafe_reports,
            "runs": figures.runs,
            "periods": figures.periods,
        },
        "quality_pct": {"value": _text(figures.quality_pct), "runs": figures.quality_runs},
        "cost_per_unit": {"value": _text(figures.cost_per_unit), "runs": figures.cost_runs},
    }


def measure(agent: Agent, start: date, end: date) -> dict[str, Any]:
    """What was measured for `agent` in [start, end), JSON-safe: the scorecard's four figures and the
    headline measures beside them. A review freezes exactly this."""
    from portal.governance.headline import ScopeFigures

    figures = ScopeFigures(start, end, agent_id=agent.id)
    headline = figures.headline()
    measured = scorecard_measures(start, end, figures.run_figures, headline.satisfaction_snapshot())
    return {**measured, "headline": headline.to_dict()}


def _basis(key: str, measured: dict[str, Any]) -> str:
    if key == "satisfaction":
        if measured.get("withheld"):
            return measured.get("withheld_text") or "withheld: too few answers"
        answers = measured.get("answers") or 0
        return f"{answers:,} survey answers" if answers else "No survey answers in this period"
    if key == "safety_per_1000":
        if not measured.get("runs"):
            return "No run figures for this period"
        reports = measured.get("unsafe_reports", 0)
        noun = "report" if reports == 1 else "reports"
        return f"{reports:,} unsafe {noun} in {measured['runs']:,} runs"
    runs = measured.get("runs") or 0
    return f"Over {runs:,} runs" if runs else "No figures stated for this period"


def scorecard_lines(measured: dict[str, Any], thresholds: dict[str, str | None]) -> list[ScoreLine]:
    """The four thresholds against the measured figures. Live pages and frozen reviews both call
    this, on `measure(...)` and `thresholds_snapshot(...)` output or on what a review stored."""
    lines = []
    for name, spec in THRESHOLDS.items():
        key = MEASURE_OF[name]
        figure = measured.get(key) or {}
        threshold = _as_decimal(thresholds.get(name))
        value = _as_decimal(figure.get("value"))
        if figure.get("withheld"):
            status = Status.WITHHELD
        elif value is None:
            status = Status.NO_DATA
        elif threshold is None:
            status = Status.NO_THRESHOLD
        elif spec.direction == "minimum":
            status = Status.MET if value >= threshold else Status.MISSED
        else:
            status = Status.MET if value <= threshold else Status.MISSED
        lines.append(ScoreLine(spec, threshold, value, status, _basis(key, figure)))
    return lines


def scorecard(agent: Agent, start: date, end: date) -> list[ScoreLine]:
    """The agent's live scorecard for [start, end)."""
    return scorecard_lines(measure(agent, start, end), thresholds_snapshot(agent))


# --- Quarterly reviews -----------------------------------------------------------------------------


@dataclass
class ReviewInput:
    year: int
    quarter: int
    decision: Decision | str
    notes: str = ""


def _checked_review(data: ReviewInput, today: date) -> tuple[int, int, Decision, str]:
    if isinstance(data.quarter, bool) or data.quarter not in (1, 2, 3, 4):
        raise GovernanceError("Choose a quarter (1 to 4).", "quarter")
    if (
        isinstance(data.year, bool)
        or not isinstance(data.year, int)
        or not 2000 <= data.year <= 2100
    ):
        raise GovernanceError("Give a year from 2000 to 2100.", "year")
    start, _end = quarter_window(data.year, data.quarter)
    if start > today:
        raise GovernanceError(
            f"{quarter_label(data.year, data.quarter)} has not started yet.", "quarter"
        )
    try:
        decision = data.decision if isinstance(data.decision, Decision) else Decision(data.decision)
    except ValueError:
        raise GovernanceError("Choose continue, scale, modify or pause.", "decision") from None
    notes = (data.notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise GovernanceError(f"Notes: use at most {NOTES_MAX:,} characters.", "notes")
    if "\x00" in notes:
        raise GovernanceError("Notes: remove control characters.", "notes")
    return data.year, data.quarter, decision, notes


def review_for_quarter(agent: Agent, year: int, quarter: int) -> GovernanceReview | None:
    return db.session.scalar(
        sa.select(GovernanceReview).where(
            GovernanceReview.agent_id == agent.id,
            GovernanceReview.year == year,
            GovernanceReview.quarter == quarter,
        )
    )


def record_review(
    agent: Agent, data: ReviewInput, by: User, *, today: date | None = None
) -> GovernanceReview:
    """Record the quarter's decision with the figures and thresholds of this moment, frozen.

    One decision per agent and quarter; a recorded review is never changed, so the history stays
    what the council saw. Raises GovernanceError (403 for someone who is not a manager).
    """
    if not may_record_review(by):
        raise GovernanceError("Only managers record quarterly decisions.", status=403)
    year, quarter, decision, notes = _checked_review(data, today or utcnow().date())
    existing = review_for_quarter(agent, year, quarter)
    if existing is not None:
        raise GovernanceError(
            f"The decision for {existing.quarter_label} was already recorded "
            f"on {existing.created_at:%d %b %Y}. Recorded decisions are not changed.",
            "quarter",
            status=409,
        )
    start, end = quarter_window(year, quarter)
    review = GovernanceReview(
        agent_id=agent.id,
        year=year,
        quarter=quarter,
        period_start=start,
        period_end=last_day(end),
        agent_version=agent.version,
        decision=decision,
        notes=notes,
        measured=measure(agent, start, end),
        thresholds=thresholds_snapshot(agent),
        decided_by_id=by.id,
    )
    db.session.add(review)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise GovernanceError(
            f"The decision for {quarter_label(year, quarter)} was just recorded by someone else.",
            "quarter",
            status=409,
        ) from None
    return review


def reviews_of(agent: Agent) -> list[GovernanceReview]:
    """The agent's decisions, newest quarter first."""
    return list(
        db.session.scalars(
            sa.select(GovernanceReview)
            .options(joinedload(GovernanceReview.decided_by))
            .where(GovernanceReview.agent_id == agent.id)
            .order_by(GovernanceReview.year.desc(), GovernanceReview.quarter.desc())
        )
    )


def get_review(review_id: int) -> GovernanceReview | None:
    return db.session.scalar(
        sa.select(GovernanceReview)
        .options(joinedload(GovernanceReview.agent), joinedload(GovernanceReview.decided_by))
        .where(GovernanceReview.id == review_id)
    )


@dataclass(frozen=True)
class AgentReviewSummary:
    agent: Agent
    latest: GovernanceReview | None
    reviews: int


def review_overview(user: User) -> list[AgentReviewSummary]:
    """Each agent the user may read, with its latest decision (two statements in all)."""
    agents_stmt = sa.select(Agent).order_by(sa.func.lower(Agent.name), Agent.id)
    if not user.has_any_role(Role.MANAGER, Role.ADMIN):
        agents_stmt = agents_stmt.where(
            sa.or_(
                Agent.business_owner_id == user.id,
                Agent.technical_owner_id == user.id,
                Agent.governance_owner_id == user.id,
            )
        )
    agents = list(db.session.scalars(agents_stmt))
    ranked = (
        sa.select(
            GovernanceReview.id,
            sa.func.row_number()
            .over(
                partition_by=GovernanceReview.agent_id,
                order_by=(GovernanceReview.year.desc(), GovernanceReview.quarter.desc()),
            )
            .label("position"),
            sa.func.count().over(partition_by=GovernanceReview.agent_id).label("reviews"),
        )
        .where(GovernanceReview.agent_id.in_([agent.id for agent in agents]))
        .subquery()
    )
    latest_rows = db.session.execute(
        sa.select(GovernanceReview, ranked.c.reviews)
        .options(joinedload(GovernanceReview.decided_by))
        .join(ranked, ranked.c.id == GovernanceReview.id)
        .where(ranked.c.position == 1)
    ).all()
    latest = {review.agent_id: (review, count) for review, count in latest_rows}
    return [AgentReviewSummary(agent, *latest.get(agent.id, (None, 0))) for agent in agents]
