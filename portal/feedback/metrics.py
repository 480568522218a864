"""The closed loop's measures, with the definitions in DESIGN.md ("Measures"), aggregated in SQL.

Every measure looks at the reports FILED in [start, end) (either bound may be None), optionally about
one agent (agent_id) or filed by members of one team (team_id), and leaves out reports closed as
duplicates (their primary carries the loop). The dashboards and the API call these; so do the tests.

Closed loop, confirmed fix, SLA attainment and reports per category are folds of one grouped query,
`report_tallies`: counts per (UTC month filed, agent, severity, category). Each count is defined once,
as a SQL condition on a report, in portal.feedback.tallies, which also keeps the monthly rollup the
whole months are read from.

Time to act is exact (median and 90th percentile, interpolated like PostgreSQL's percentile_cont) at
one-second resolution (portal.feedback.tallies.seconds_to_act): whole months read the rollup's
per-row arrays of seconds, the partial months at the edges and team scopes read the reports; the
window is split the same way as for the tallies (`_split_window`).
"""

import bisect
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.agents.models import ReportCategory
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback import tallies
from portal.feedback.models import Report, ReportStatus, Severity


@dataclass(frozen=True)
class ClosedLoop:
    closed: int  # reached acted on, declined or closed AND the reporter was told
    total: int  # every non-duplicate report filed in the period
    in_flight: int  # still open and inside their SLA, so a young period is not misread

    @property
    def rate(self) -> float | None:
        return self.closed / self.total if self.total else None


@dataclass(frozen=True)
class ConfirmedFix:
    fixed: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.fixed / self.answered if self.answered else None


@dataclass(frozen=True)
class TimeToAct:
    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class SlaAttainment:
    met: int
    missed: int

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        return self.met / self.total if self.total else None


@dataclass(frozen=True)
class ReportTally:
    """The counts behind the closed-loop measures for one (month, agent, severity, category)."""

    month: date  # first day of the UTC month the reports were filed in
    agent_id: int
    severity: Severity
    category: ReportCategory
    filed: int  # non-duplicate reports filed
    closed: int  # answered status (acted on/declined/closed) AND reporter notified
    in_flight: int  # open (OPEN_STATUSES) and sla_due_at >= now
    answered: int  # is_fixed is not null
    fixed: int  # is_fixed is true
    sla_met: int  # acted_on_at not null and acted_on_at <= sla_due_at
    sla_missed: int  # acted late, or acted_on_at null, open and sla_due_at < now


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def _filed_in(
    stmt: sa.Select,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None,
    team_id: int | None,
) -> sa.Select:
    return _scoped(
        stmt.where(Report.status != ReportStatus.DUPLICATE), start, end, agent_id, team_id
    )


def _scoped(
    stmt: sa.Select,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None,
    team_id: int | None,
) -> sa.Select:
    """Reports filed in [start, end), about the agent, by the team's members (None: any)."""
    if start is not None:
        stmt = stmt.where(Report.created_at >= start)
    if end is not None:
        stmt = stmt.where(Report.created_at < end)
    if agent_id is not None:
        stmt = stmt.where(Report.agent_id == agent_id)
    if team_id is not None:
        stmt = stmt.where(Report.reporter_id.in_(sa.select(User.id).where(User.team_id == team_id)))
    return stmt


TallyKey = tuple[date, int, Severity, ReportCategory]


# Where each count sits in the lists report_tallies adds up.
_COUNTS = (*tallies.SETTLED_COUNTS, "in_flight", "in_flight_unacted")
_SEVERITY_RANK = {severity: severity.rank for severity in Severity}


def _add_counts(found: dict[TallyKey, list[int]], rows, names) -> None:
    positions = [_COUNTS.index(name) for name in names]
    for row in rows:
        key = (row[0], row[1], row[2], row[3])
        counts = found.get(key)
        if counts is None:
            counts = found[key] = [0] * len(_COUNTS)
        for position, value in zip(positions, row[4:], strict=True):
            counts[position] += value or 0


def _as_tallies(found: dict[TallyKey, list[int]]) -> list[ReportTally]:
    filed, closed, answered, fixed, in_sla, late, open_unacted, flying, flying_unacted = (
        _COUNTS.index(name)
        for name in (
            "filed",
            "closed",
            "answered",
            "fixed",
            "acted_in_sla",
            "acted_late",
            "open_unacted",
            "in_flight",
            "in_flight_unacted",
        )
    )
    return [
        ReportTally(
            month=month,
            agent_id=agent_id,
            severity=severity,
            category=category,
            filed=n[filed],
            closed=n[closed],
            in_flight=n[flying],
            answered=n[answered],
            fixed=n[fixed],
            sla_met=n[in_sla],
            # Acted late, or open unacted and past the due time (= not in flight).
            sla_missed=n[late] + n[open_unacted] - n[flying_unacted],
        )
        for (month, agent_id, severity, category), n in sorted(
            found.items(), key=lambda item: (item[0][0], item[0][1], _SEVERITY_RANK[item[0][2]])
        )
        if any(n)  # not a rollup row left at zero
    ]


def _between(first: datetime | None, last: datetime | None) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.true() if first is None else Report.created_at >= first,
        sa.true() if last is None else Report.created_at < last,
    )


def _whole_months(
    start: datetime | None, end: datetime | None, present: datetime
) -> tuple[datetime | None, datetime | None] | None:
    """The whole UTC months inside [start, end), as [first, last) (None: unbounded), or None if
    there is none. The current month counts as whole when the window reaches the present."""
    first = None
    if start is not None:
        first = tallies.month_start(start)
        if first < start:
            first = tallies.next_month(first)
    last = None
    if end is not None:
        last = tallies.month_start(end)
        if end >= present:
            last = max(last, tallies.next_month(tallies.month_start(present)))
    if first is not None and last is not None and first >= last:
        return None
    return first, last


@dataclass(frozen=True)
class _Split:
    """A window [start, end) as the rollup sees it: the whole months [first, last) (None:
    unbounded) come from the rollup, the partial months at the edges from the reports."""

    first: datetime | None
    last: datetime | None
    edges: list[sa.ColumnElement[bool]]  # filed in a partial month at either edge (maybe none)

    def in_edges(self) -> sa.ColumnElement[bool]:
        return sa.or_(*self.edges) if self.edges else sa.false()

    def rollup_rows(self, stmt: sa.Select, agent_id: int | None) -> sa.Select:
        """`stmt` (on report_tallies) limited to the whole months, about the agent (None: any)."""
        rollup = tallies.ReportMonthTally
        if self.first is not None:
            stmt = stmt.where(rollup.month >= self.first.date())
        if self.last is not None:
            stmt = stmt.where(rollup.month < self.last.date())
        if agent_id is not None:
            stmt = stmt.where(rollup.agent_id == agent_id)
        return stmt


def _split_window(
    start: datetime | None, end: datetime | None, team_id: int | None
) -> _Split | None:
    """How the window is read: None when everything is read live (a team scope: the rollup has no
    team; or no whole month inside the window)."""
    whole = None if team_id is not None else _whole_months(start, end, utcnow())
    if whole is None:
        return None
    first, last = whole
    edges = []
    if first is not None and (start is None or start < first):
        edges.append(_between(start, first))
    if last is not None and (end is None or last < end):
        edges.append(_between(last, end))
    return _Split(first, last, edges)


def report_tallies(
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
    *,
    now: datetime | None = None,
    session: Session | None = None,
) -> list[ReportTally]:
    """The counts behind closed loop, confirmed fix, SLA attainment and reports per category, per
    (UTC month filed, agent, severity, category), for the reports filed in [start, end).

    Whole months come from the rollup (report_tallies) plus the in-flight split of their open
    reports; partial months at the edges and team scopes are aggregated live. Two statements at
    most; one for a team."""
    session = _session(session)
    dialect = tallies.dialect_of(session)
    now = now or utcnow()
    found: dict[TallyKey, list[int]] = {}
    split = _split_window(start, end, team_id)
    if split is None:
        conditions = {**tallies.settled_conditions(), **tallies.in_flight_conditions(now)}
        # tally_select leaves out duplicates.
        stmt = _scoped(tallies.tally_select(dialect, conditions), start, end, agent_id, team_id)
        _add_counts(found, session.execute(stmt), list(conditions))
        return _as_tallies(found)

    rollup = tallies.ReportMonthTally
    stmt = sa.select(
        *(getattr(rollup, name) for name in tallies.KEY_COLUMNS),
        *(getattr(rollup, name) for name in tallies.SETTLED_COUNTS),
    )
    _add_counts(found, session.execute(split.rollup_rows(stmt, agent_id)), tallies.SETTLED_COUNTS)

    # Live, in one statement: everything about the reports in the partial months at the edges, and
    # the in-flight split of the whole months' open reports.
    edges, in_edge = split.edges, split.in_edges()
    # The in-flight split counts the window's reports only; the WHERE names no filing time outside
    # the edges so that the planner finds the in-flight reports by ix_reports_status_sla_due.
    in_window = sa.or_(in_edge, _between(split.first, split.last))
    conditions = {
        name: sa.and_(in_window, cond) for name, cond in tallies.in_flight_conditions(now).items()
    }
    if edges:
        settled = tallies.settled_conditions().items()
        conditions |= {name: sa.and_(in_edge, cond) for name, cond in settled}
    stmt = tallies.tally_select(dialect, conditions).where(sa.or_(*edges, tallies.in_flight(now)))
    if agent_id is not None:
        stmt = stmt.where(Report.agent_id == agent_id)
    _add_counts(found, session.execute(stmt), list(conditions))
    return _as_tallies(found)


# --- Folds: the measures from the tallies ----------------------------------------------------------


def closed_loop_of(tallies: list[ReportTally]) -> ClosedLoop:
    return ClosedLoop(
        closed=sum(t.closed for t in tallies),
        total=sum(t.filed for t in tallies),
        in_flight=sum(t.in_flight for t in tallies),
    )


def confirmed_fix_of(tallies: list[ReportTally]) -> ConfirmedFix:
    return ConfirmedFix(
        fixed=sum(t.fixed for t in tallies), answered=sum(t.answered for t in tallies)
    )


def sla_of(tallies: list[ReportTally]) -> dict[Severity, SlaAttainment]:
    met: dict[Severity, int] = defaultdict(int)
    missed: dict[Severity, int] = defaultdict(int)
    for t in tallies:
        met[t.severity] += t.sla_met
        missed[t.severity] += t.sla_missed
    return {
        severity: SlaAttainment(met=met[severity], missed=missed[severity]) for severity in Severity
    }


def categories_of(tallies: list[ReportTally], by_month: bool) -> dict:
    """{ReportCategory: n}, or {("YYYY-MM", ReportCategory): n} with by_month; absent keys mean 0."""
    counts: dict = defaultdict(int)
    for t in tallies:
        if t.filed:
            counts[(f"{t.month:%Y-%m}", t.category) if by_month else t.category] += t.filed
    return dict(counts)


# --- The measures ----------------------------------------------------------------------------------


def closed_loop_rate(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
    *,
    now: datetime | None = None,
) -> ClosedLoop:
    """Of the reports filed in the period, the share acted on, declined or closed whose reporter was
    notified. A reopened report has neither until it is acted on again."""
    return closed_loop_of(report_tallies(start, end, agent_id, team_id, now=now, session=session))


def confirmed_fix_rate(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
) -> ConfirmedFix:
    """Of the acted-on reports whose reporter answered (their latest answer), the share "fixed"."""
    return confirmed_fix_of(report_tallies(start, end, agent_id, team_id, session=session))


def sla_attainment(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
    *,
    now: datetime | None = None,
) -> dict[Severity, SlaAttainment]:
    """Per severity: met = acted on by the SLA due time; missed = acted on later, or still open past
    it. Reports still open inside their SLA are not counted yet."""
    return sla_of(report_tallies(start, end, agent_id, team_id, now=now, session=session))


def reports_by_category(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
    *,
    by_month: bool = False,
) -> dict:
    """Reports filed per category ({ReportCategory: n}), or per UTC month and category
    ({("YYYY-MM", ReportCategory): n}) with by_month. Absent keys mean 0.
    (Added by the dashboards engineer, H.)"""
    return categories_of(report_tallies(start, end, agent_id, team_id, session=session), by_month)


# --- Time to act -----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: the same as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    low_value, high_value = sorted_values[lower], sorted_values[upper]
    return low_value + (high_value - low_value) * (position - lower)


def _in_hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _time_to_act_of(sorted_seconds: list[int]) -> TimeToAct:
    return TimeToAct(
        count=len(sorted_seconds),
        median_hours=_in_hours(percentile(sorted_seconds, 0.5)),
        p90_hours=_in_hours(percentile(sorted_seconds, 0.9)),
    )


def _ranked(runs: list[list[int]], rank: int) -> int:
    """The value at `rank` (from 0) of the sorted union of these sorted runs of integers: the
    smallest value with more than `rank` values at or below it (a binary search on the value)."""
    low = min(run[0] for run in runs if run)
    high = max(run[-1] for run in runs if run)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect.bisect_right(run, middle) for run in runs) > rank:
            high = middle
        else:
            low = middle + 1
    return low


def _percentile_of_runs(runs: list[list[int]], count: int, fraction: float) -> float | None:
    """`percentile` of the sorted union of the runs, without merging them."""
    if not count:
        return None
    position = (count - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    low_value = _ranked(runs, lower)
    high_value = low_value if upper == lower else _ranked(runs, upper)
    return low_value + (high_value - low_value) * (position - lower)


def _first_day(month: date | str) -> date:
    # SQLite answers the month filed as its text ('YYYY-MM-01'): turned into a date once per month.
    return month if isinstance(month, date) else date.fromisoformat(month)


def time_to_act_by_month(
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
    session: Session | None = None,
) -> tuple[TimeToAct, dict[date, TimeToAct]]:
    """Filed -> acted on (a decline counts as acted on), in hours: median and 90th percentile, for
    the whole window and per UTC month filed (first day -> figures). At one-second resolution
    (tallies.seconds_to_act), the same from the rollup as from the reports.

    Whole months come from the rollup's arrays of seconds; partial months at the edges and team
    scopes from the reports. Two statements at most; one when the window is all whole months or
    all live."""
    session = _session(session)
    dialect = tallies.dialect_of(session)
    per_month: dict[date | str, list[int]] = defaultdict(list)
    split = _split_window(start, end, team_id)
    if split is not None:
        rollup = tallies.ReportMonthTally
        stmt = sa.select(sa.type_coerce(rollup.month, sa.String), rollup.seconds_to_act).where(
            rollup.seconds_to_act != "[]"
        )
        arrays: dict[date | str, list[str]] = defaultdict(list)
        for first, seconds in session.execute(split.rollup_rows(stmt, agent_id)):
            arrays[first].append(seconds[1:-1])
        for first, items in arrays.items():  # one JSON array per month: one parse
            per_month[first] = json.loads(f"[{','.join(items)}]")

    if split is None or split.edges:
        month = sa.type_coerce(tallies.filed_month(dialect), sa.String)
        stmt = (
            sa.select(month, tallies.seconds_to_act(dialect))
            .select_from(Report)
            .where(Report.acted_on_at.is_not(None))
        )
        if split is None:
            stmt = _filed_in(stmt, start, end, agent_id, team_id)
        else:
            stmt = _filed_in(stmt.where(split.in_edges()), None, None, agent_id, None)
        for first, seconds in session.execute(stmt):
            per_month[first].append(seconds)

    by_month = {_first_day(first): sorted(values) for first, values in per_month.items()}
    by_month = dict(sorted(by_month.items()))  # the months are distinct: only they are compared
    runs = list(by_month.values())
    count = sum(len(run) for run in runs)
    window = TimeToAct(
        count=count,
        median_hours=_in_hours(_percentile_of_runs(runs, count, 0.5)),
        p90_hours=_in_hours(_percentile_of_runs(runs, count, 0.9)),
    )
    return window, {first: _time_to_act_of(values) for first, values in by_month.items()}


def time_to_act(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
) -> TimeToAct:
    """Filed -> acted on (a decline counts as acted on), in hours: median and 90th percentile."""
    return time_to_act_by_month(start, end, agent_id, team_id, session)[0]
