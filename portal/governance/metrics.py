"""Measures built on run figures (DESIGN.md "Measures"), aggregated in SQL.

A figure belongs to the window its period STARTS in: windows [start, end) that follow each other
count every figure once. Periods of one agent never overlap, so run volumes add up.

- Safety: "unsafe or policy violation" reports per 1,000 runs. Only reports filed (UTC date) inside a
  period that has run figures count, so numerator and denominator cover the same days; reports
  closed as duplicates are left out (their primary is the one incident).
- Quality % and cost per unit: averages over the periods that state them, weighted by their runs
  (a quiet week does not weigh as much as a busy month).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from portal.agents.models import ReportCategory
from portal.core.db import db
from portal.feedback.models import Report, ReportStatus
from portal.governance.models import AgentPeriodFigures

QUALITY_PLACES = Decimal("0.01")
COST_PLACES = Decimal("0.0001")
SAFETY_PLACES = Decimal("0.001")


class utc_midnight(FunctionElement):
    """Midnight UTC at the start of a DATE column's day (`utc_midnight(col, 1)`: of the day after),
    comparable with stored timestamps, so `created_at >= utc_midnight(day, 0)` can use an index on
    created_at (taking the date of every stored timestamp could not)."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(utc_midnight)
def _utc_midnight_sqlite(element, compiler, **kw):
    column, days = list(element.clauses)
    # Stored timestamps are 'YYYY-MM-DD HH:MM:SS...' text: 'YYYY-MM-DD' sorts just before them.
    return (
        f"date({compiler.process(column, **kw)}, '+' || {compiler.process(days, **kw)} || ' day')"
    )


@compiles(utc_midnight, "postgresql")
def _utc_midnight_pg(element, compiler, **kw):
    column, days = list(element.clauses)
    shifted = f"({compiler.process(column, **kw)} + {compiler.process(days, **kw)})"
    return f"timezone('UTC', CAST({shifted} AS TIMESTAMP))"


class month_of_date(FunctionElement):
    """'YYYY-MM' of a DATE column."""

    type = sa.String()
    inherit_cache = True


@compiles(month_of_date)
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of_date, "postgresql")
def _month_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def _decimal(value, places: Decimal) -> Decimal | None:
    if value is None:
        return None
    # SQLite hands back floats for NUMERIC arithmetic; str() keeps the digits people typed.
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RunFigures:
    """What the run figures of a window add up to: raw sums, so windows combine exactly."""

    periods: int = 0
    runs: int = 0
    unsafe_reports: int = 0
    quality_runs: int = 0  # runs of the periods that state a quality %
    quality_product: Decimal = Decimal(0)  # sum of quality % x runs over those periods
    cost_runs: int = 0
    cost_product: Decimal = Decimal(0)

    @property
    def safety_per_1000(self) -> Decimal | None:
        if not self.runs:
            return None
        return _decimal(Decimal(self.unsafe_reports) * 1000 / Decimal(self.runs), SAFETY_PLACES)

    @property
    def quality_pct(self) -> Decimal | None:
        if not self.quality_runs:
            return None
        return _decimal(self.quality_product / self.quality_runs, QUALITY_PLACES)

    @property
    def cost_per_unit(self) -> Decimal | None:
        if not self.cost_runs:
            return None
        return _decimal(self.cost_product / self.cost_runs, COST_PLACES)

    def __add__(self, other: "RunFigures") -> "RunFigures":
        return RunFigures(
            *(mine + theirs for mine, theirs in zip(self._sums(), other._sums(), strict=True))
        )

    def _sums(self) -> tuple:
        return (
            self.periods,
            self.runs,
            self.unsafe_reports,
            self.quality_runs,
            self.quality_product,
            self.cost_runs,
            self.cost_product,
        )


def _weighted(column) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(sum of runs where `column` is stated, sum of column x runs)."""
    stated = column.is_not(None)
    runs = sa.func.coalesce(sa.func.sum(sa.case((stated, AgentPeriodFigures.runs), else_=0)), 0)
    product = sa.func.sum(sa.case((stated, column * AgentPeriodFigures.runs), else_=None))
    return runs, product


RunKey = Literal["agent", "month"]


def _keys(by: Sequence[RunKey]) -> list[sa.ColumnElement]:
    columns = {
        "agent": AgentPeriodFigures.agent_id,
        "month": month_of_date(AgentPeriodFigures.period_start),
    }
    return [columns[name] for name in by]


def _window(
    stmt: sa.Select, start: date, end: date, agent_ids: Collection[int] | None
) -> sa.Select:
    stmt = stmt.where(
        AgentPeriodFigures.period_start >= start, AgentPeriodFigures.period_start < end
    )
    if agent_ids is not None:
        stmt = stmt.where(AgentPeriodFigures.agent_id.in_(list(agent_ids)))
    return stmt


def _unsafe_reports(by: Sequence[RunKey]) -> sa.Select:
    """Unsafe reports joined to the run-figure period they were filed in."""
    return (
        sa.select(*_keys(by), sa.func.count())  # count(*): the index alone answers it
        .select_from(AgentPeriodFigures)
        .join(
            Report,
            sa.and_(
                Report.agent_id == AgentPeriodFigures.agent_id,
                # Filed on a day of the period (UTC): [its first day's midnight, the next one's).
                Report.created_at >= utc_midnight(AgentPeriodFigures.period_start, 0),
                Report.created_at < utc_midnight(AgentPeriodFigures.period_end, 1),
            ),
        )
        .where(Report.category == ReportCategory.UNSAFE, Report.status != ReportStatus.DUPLICATE)
    )


def _product(value) -> Decimal:
    # SQLite hands back floats for NUMERIC arithmetic; str() keeps the digits people typed.
    return Decimal(0) if value is None else Decimal(str(value))


def run_figures_by(
    start: date,
    end: date,
    by: Sequence[RunKey] = (),
    agent_ids: Collection[int] | None = None,
) -> dict[tuple, RunFigures]:
    """Run figures starting in [start, end) per group (`by`: "agent" and/or "month", the month as
    'YYYY-MM' of each period's start), for some agents or all. Groups without figures are absent.

    Two SQL statements, whatever the number of agents, figures and reports.
    """
    keys = _keys(by)
    quality_runs, quality_product = _weighted(AgentPeriodFigures.quality_pct)
    cost_runs, cost_product = _weighted(AgentPeriodFigures.cost_per_unit)
    totals = _window(
        sa.select(
            *keys,
            sa.func.count(AgentPeriodFigures.id),
            sa.func.coalesce(sa.func.sum(AgentPeriodFigures.runs), 0),
            quality_runs,
            quality_product,
            cost_runs,
            cost_product,
        ),
        start,
        end,
        agent_ids,
    ).group_by(*keys)
    unsafe_stmt = _window(_unsafe_reports(by), start, end, agent_ids).group_by(*_keys(by))
    width = len(keys)
    unsafe = {tuple(row[:width]): int(row[width]) for row in db.session.execute(unsafe_stmt)}
    found = {}
    for row in db.session.execute(totals):
        key = tuple(row[:width])
        periods, runs, q_runs, q_product, c_runs, c_product = row[width:]
        if not periods:
            continue  # an aggregate without GROUP BY over no rows
        found[key] = RunFigures(
            periods=int(periods),
            runs=int(runs),
            unsafe_reports=unsafe.get(key, 0),
            quality_runs=int(q_runs),
            quality_product=_product(q_product),
            cost_runs=int(c_runs),
            cost_product=_product(c_product),
        )
    return found


def run_figures(start: date, end: date, agent_id: int | None = None) -> RunFigures:
    """Run volume, unsafe reports, weighted quality % and cost of the figures starting in [start, end)."""
    agent_ids = None if agent_id is None else [agent_id]
    return run_figures_by(start, end, (), agent_ids).get((), RunFigures())
