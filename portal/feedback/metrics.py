"""The closed loop's measures, with the definitions in DESIGN.md ("Measures"), aggregated in SQL.

Every measure looks at the reports FILED in [start, end) (either bound may be None), optionally about
one agent (agent_id) or filed by members of one team (team_id), and leaves out reports closed as
duplicates (their primary carries the loop). The dashboards and the API call these; so do the tests.

Time to act: on PostgreSQL the median and 90th percentile are computed in SQL (percentile_cont);
SQLite has no percentile function, so there the one column of hours is read and interpolated the same
way in Python.
"""

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback.models import ANSWERED_STATUSES, OPEN_STATUSES, Report, ReportStatus, Severity


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


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def _filed_in(
    stmt: sa.Select,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None,
    team_id: int | None,
) -> sa.Select:
    stmt = stmt.where(Report.status != ReportStatus.DUPLICATE)
    if start is not None:
        stmt = stmt.where(Report.created_at >= start)
    if end is not None:
        stmt = stmt.where(Report.created_at < end)
    if agent_id is not None:
        stmt = stmt.where(Report.agent_id == agent_id)
    if team_id is not None:
        stmt = stmt.where(Report.reporter_id.in_(sa.select(User.id).where(User.team_id == team_id)))
    return stmt


def _count_where(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


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
    now = now or utcnow()
    stmt = _filed_in(
        sa.select(
            sa.func.count(),
            _count_where(
                sa.and_(
                    Report.status.in_(ANSWERED_STATUSES),
                    Report.reporter_notified_at.is_not(None),
                )
            ),
            _count_where(sa.and_(Report.status.in_(OPEN_STATUSES), Report.sla_due_at >= now)),
        ).select_from(Report),
        start,
        end,
        agent_id,
        team_id,
    )
    total, closed, in_flight = _session(session).execute(stmt).one()
    return ClosedLoop(closed=int(closed), total=int(total), in_flight=int(in_flight))


def confirmed_fix_rate(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
) -> ConfirmedFix:
    """Of the acted-on reports whose reporter answered (their latest answer), the share "fixed"."""
    stmt = _filed_in(
        sa.select(sa.func.count(), _count_where(Report.is_fixed.is_(True)))
        .select_from(Report)
        .where(Report.is_fixed.is_not(None)),
        start,
        end,
        agent_id,
        team_id,
    )
    answered, fixed = _session(session).execute(stmt).one()
    return ConfirmedFix(fixed=int(fixed), answered=int(answered))


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: the same as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    low_value, high_value = sorted_values[lower], sorted_values[upper]
    return low_value + (high_value - low_value) * (position - lower)


def time_to_act(
    session: Session | None,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    team_id: int | None = None,
) -> TimeToAct:
    """Filed -> acted on (a decline counts as acted on), in hours: median and 90th percentile."""
    session = _session(session)
    if session.get_bind().dialect.name == "postgresql":
        hours = sa.extract("epoch", Report.acted_on_at - Report.created_at) / 3600.0
        stmt = _filed_in(
            sa.select(
                sa.func.count(),
                sa.func.percentile_cont(0.5).within_group(hours),
                sa.func.percentile_cont(0.9).within_group(hours),
            )
            .select_from(Report)
            .where(Report.acted_on_at.is_not(None)),
            start,
            end,
            agent_id,
            team_id,
        )
        count, median, p90 = session.execute(stmt).one()
        return TimeToAct(
            count=int(count),
            median_hours=float(median) if median is not None else None,
            p90_hours=float(p90) if p90 is not None else None,
        )
    hours = (sa.func.julianday(Report.acted_on_at) - sa.func.julianday(Report.created_at)) * 24.0
    stmt = _filed_in(
        sa.select(hours).select_from(Report).where(Report.acted_on_at.is_not(None)),
        start,
        end,
        agent_id,
        team_id,
    ).order_by(hours)
    values = [float(value) for value in session.scalars(stmt)]
    return TimeToAct(
        count=len(values), median_hours=percentile(values, 0.5), p90_hours=percentile(values, 0.9)
    )


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
    now = now or utcnow()
    acted = Report.acted_on_at.is_not(None)
    met = sa.and_(acted, Report.acted_on_at <= Report.sla_due_at)
    missed = sa.or_(
        sa.and_(acted, Report.acted_on_at > Report.sla_due_at),
        sa.and_(
            Report.acted_on_at.is_(None),
            Report.status.in_(OPEN_STATUSES),
            Report.sla_due_at < now,
        ),
    )
    stmt = _filed_in(
        sa.select(Report.severity, _count_where(met), _count_where(missed))
        .select_from(Report)
        .group_by(Report.severity),
        start,
        end,
        agent_id,
        team_id,
    )
    found = {
        severity: SlaAttainment(met=int(m), missed=int(x))
        for severity, m, x in _session(session).execute(stmt)
    }
    return {severity: found.get(severity, SlaAttainment(0, 0)) for severity in Severity}


def _filed_month(session: Session) -> sa.ColumnElement[str]:
    """'YYYY-MM' of the (UTC) filing time, on SQLite (naive UTC text) and PostgreSQL."""
    # Literals, not bound parameters: PostgreSQL matches the GROUP BY to the SELECT by its text.
    if session.get_bind().dialect.name == "postgresql":
        utc = sa.func.timezone(sa.literal_column("'UTC'"), Report.created_at)
        return sa.func.to_char(utc, sa.literal_column("'YYYY-MM'"))
    return sa.func.strftime(sa.literal_column("'%Y-%m'"), Report.created_at)


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
    ({("YYYY-MM", ReportCategory): n}) with by_month. One GROUP BY; absent keys mean 0.
    (Added by the dashboards engineer, H.)"""
    session = _session(session)
    keys = [_filed_month(session)] if by_month else []
    stmt = _filed_in(
        sa.select(*keys, Report.category, sa.func.count())
        .select_from(Report)
        .group_by(*keys, Report.category),
        start,
        end,
        agent_id,
        team_id,
    )
    if by_month:
        return {(month, category): int(n) for month, category, n in session.execute(stmt)}
    return {category: int(n) for category, n in session.execute(stmt)}
