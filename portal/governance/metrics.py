"""Measures built on run figures (DESIGN.md "Measures"), aggregated in SQL.

A figure belongs to the window its period STARTS in: windows [start, end) that follow each other
count every figure once. Periods of one agent never overlap, so run volumes add up.

- Safety: "unsafe or policy violation" reports per 1,000 runs. Only reports filed (UTC date) inside a
  period that has run figures count, so numerator and denominator cover the same days; reports
  closed as duplicates are left out (their primary is the one incident).
- Quality % and cost per unit: averages over the periods that state them, weighted by their runs
  (a quiet week does not weigh as much as a busy month).
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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


class utc_date(FunctionElement):
    """The UTC calendar date of a stored timestamp, on SQLite (naive UTC text) and PostgreSQL."""

    type = sa.Date()
    inherit_cache = True


@compiles(utc_date)
def _utc_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_pg(element, compiler, **kw):
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


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
    """What the run figures of a window add up to."""

    periods: int
    runs: int
    unsafe_reports: int
    quality_runs: int  # runs of the periods that state a quality %
    quality_pct: Decimal | None
    cost_runs: int
    cost_per_unit: Decimal | None

    @property
    def safety_per_1000(self) -> Decimal | None:
        if not self.runs:
            return None
        return _decimal(Decimal(self.unsafe_reports) * 1000 / Decimal(self.runs), SAFETY_PLACES)


def _weighted(column) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(sum of runs where `column` is stated, sum of column x runs)."""
    stated = column.is_not(None)
    runs = sa.func.coalesce(sa.func.sum(sa.case((stated, AgentPeriodFigures.runs), else_=0)), 0)
    product = sa.func.sum(sa.case((stated, column * AgentPeriodFigures.runs), else_=None))
    return runs, product


def _window(stmt: sa.Select, start: date, end: date, agent_id: int | None) -> sa.Select:
    stmt = stmt.where(
        AgentPeriodFigures.period_start >= start, AgentPeriodFigures.period_start < end
    )
    if agent_id is not None:
        stmt = stmt.where(AgentPeriodFigures.agent_id == agent_id)
    return stmt


def _unsafe_reports(month: bool) -> sa.Select:
    """Unsafe reports joined to the run-figure period they were filed in."""
    filed_on = utc_date(Report.created_at)
    columns = [sa.func.count(Report.id)]
    if month:
        columns.insert(0, month_of_date(AgentPeriodFigures.period_start))
    return (
        sa.select(*columns)
        .select_from(Report)
        .join(
            AgentPeriodFigures,
            sa.and_(
                AgentPeriodFigures.agent_id == Report.agent_id,
                filed_on >= AgentPeriodFigures.period_start,
                filed_on <= AgentPeriodFigures.period_end,
            ),
        )
        .where(Report.category == ReportCategory.UNSAFE, Report.status != ReportStatus.DUPLICATE)
    )


def _figures_columns() -> list[sa.ColumnElement]:
    quality_runs, quality_product = _weighted(AgentPeriodFigures.quality_pct)
    cost_runs, cost_product = _weighted(AgentPeriodFigures.cost_per_unit)
    return [
        sa.func.count(AgentPeriodFigures.id),
        sa.func.coalesce(sa.func.sum(AgentPeriodFigures.runs), 0),
        quality_runs,
        quality_product,
        cost_runs,
        cost_product,
    ]


def _run_figures(row, unsafe: int) -> RunFigures:
    periods, runs, quality_runs, quality_product, cost_runs, cost_product = row
    quality = (
        _decimal(Decimal(str(quality_product)) / int(quality_runs), QUALITY_PLACES)
        if quality_runs and quality_product is not None
        else None
    )
    cost = (
        _decimal(Decimal(str(cost_product)) / int(cost_runs), COST_PLACES)
        if cost_runs and cost_product is not None
        else None
    )
    return RunFigures(
        periods=int(periods),
        runs=int(runs),
        unsafe_reports=int(unsafe),
        quality_runs=int(quality_runs),
        quality_pct=quality,
        cost_runs=int(cost_runs),
        cost_per_unit=cost,
    )


def run_figures(start: date, end: date, agent_id: int | None = None) -> RunFigures:
    """Run volume, unsafe reports, weighted quality % and cost of the figures starting in [start, end).

    Two SQL statements, whatever the number of figures and reports.
    """
    totals = db.session.execute(_window(sa.select(*_figures_columns()), start, end, agent_id)).one()
    unsafe = db.session.scalar(_window(_unsafe_reports(month=False), start, end, agent_id))
    return _run_figures(totals, unsafe or 0)


def run_figures_by_month(
    start: date, end: date, agent_id: int | None = None
) -> dict[str, RunFigures]:
    """run_figures per month ('YYYY-MM' of each period's start); months without figures are absent."""
    month = month_of_date(AgentPeriodFigures.period_start)
    totals = db.session.execute(
        _window(sa.select(month, *_figures_columns()), start, end, agent_id).group_by(month)
    ).all()
    unsafe = dict(
        db.session.execute(
            _window(_unsafe_reports(month=True), start, end, agent_id).group_by(
                month_of_date(AgentPeriodFigures.period_start)
            )
        ).all()
    )
    return {key: _run_figures(rest, unsafe.get(key, 0)) for key, *rest in totals}
