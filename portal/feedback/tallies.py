"""Report tallies: the counts behind the closed-loop measures, per (UTC month filed, agent, severity,
category), and the monthly rollup table that keeps the clock-independent ones current on write.

The rollup also keeps, per row, the time to act of each of its acted-on reports (`seconds_to_act`,
a JSON array), so the median and 90th percentile of whole months are exact without reading the
reports. Time to act has ONE resolution everywhere, in the rollup and in the live query alike:
whole seconds from filed to acted on, rounded (`seconds_to_act`); hours = seconds / 3600.

Each count is defined once, as a SQL condition on a report (`settled_conditions`,
`in_flight_conditions`); the live query (portal.feedback.metrics), the rollup's upkeep and its
rebuild all aggregate these same conditions with `tally_select`.

The rollup (`report_tallies`) holds only what does not depend on the clock. Whether an open report
is still inside its SLA does, so that split is read live from the open reports due at or after `now`
(few: ix_reports_status_sla_due). It has no team dimension on purpose: a team's reports are read
live (ix_reports_reporter_id).

Kept current in the same transaction as the reports: after every flush, new reports are added with
one upsert, and the (month, agent) buckets of changed or deleted reports (and of new reports stored
already acted on, as an import may) are recomputed (two statements). Both statements are built once
per dialect and take bound parameters. Bulk `UPDATE reports` statements bypass the ORM: if they change a column in
`TALLIED_COLUMNS` they must call `refresh_report_tallies` for the buckets they touched.
`flask --app wsgi portal rebuild-report-tallies` (`rebuild_report_tallies`) rewrites the whole table.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.agents.models import ReportCategory
from portal.core.db import db, enum_type, insert_for
from portal.feedback.models import (
    ANSWERED_STATUSES,
    OPEN_STATUSES,
    Report,
    ReportStatus,
    Severity,
)

# --- The counts, each defined once -----------------------------------------------------------------


def settled_conditions() -> dict[str, sa.ColumnElement[bool]]:
    """Counts that do not depend on the clock (what the rollup keeps), as conditions on a report.
    Every query adds `Report.status != DUPLICATE`: duplicates are in no count."""
    acted = Report.acted_on_at.is_not(None)
    is_open = Report.status.in_(OPEN_STATUSES)
    return {
        "filed": sa.true(),
        "closed": sa.and_(
            Report.status.in_(ANSWERED_STATUSES), Report.reporter_notified_at.is_not(None)
        ),
        "answered": Report.is_fixed.is_not(None),
        "fixed": Report.is_fixed.is_(True),
        "acted_in_sla": sa.and_(acted, Report.acted_on_at <= Report.sla_due_at),
        "acted_late": sa.and_(acted, Report.acted_on_at > Report.sla_due_at),
        "open": is_open,
        "open_unacted": sa.and_(is_open, Report.acted_on_at.is_(None)),
    }


def in_flight(now: datetime) -> sa.ColumnElement[bool]:
    """Open and still inside the SLA at `now` (ix_reports_status_sla_due finds these)."""
    return sa.and_(Report.status.in_(OPEN_STATUSES), Report.sla_due_at >= now)


def in_flight_conditions(now: datetime) -> dict[str, sa.ColumnElement[bool]]:
    """The clock-dependent counts: read live. Past the SLA and unacted = open_unacted minus
    in_flight_unacted."""
    return {
        "in_flight": in_flight(now),
        "in_flight_unacted": sa.and_(in_flight(now), Report.acted_on_at.is_(None)),
    }


SETTLED_COUNTS = tuple(settled_conditions())
# What a rollup row holds besides its key: the counts and the acted-on reports' times to act.
ROLLUP_COLUMNS = (*SETTLED_COUNTS, "seconds_to_act")
KEY_COLUMNS = ("month", "agent_id", "severity", "category")
# The report columns the counts and keys read: a change to any of them changes the tallies.
TALLIED_COLUMNS = (
    "created_at",
    "agent_id",
    "severity",
    "category",
    "status",
    "reporter_notified_at",
    "is_fixed",
    "acted_on_at",
    "sla_due_at",
)


def count_where(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def filed_month(dialect: str) -> sa.ColumnElement[date]:
    """The first day of the (UTC) month a report was filed in, on SQLite and PostgreSQL."""
    # Literals, not bound parameters: PostgreSQL matches the GROUP BY to the SELECT by its text.
    if dialect == "postgresql":
        utc = sa.func.timezone(sa.literal_column("'UTC'"), Report.created_at)
        return sa.cast(sa.func.date_trunc(sa.literal_column("'month'"), utc), sa.Date)
    # SQLite keeps naive UTC text; date() answers 'YYYY-MM-01', which sa.Date reads back.
    return sa.type_coerce(
        sa.func.date(Report.created_at, sa.literal_column("'start of month'")), sa.Date
    )


def seconds_to_act(dialect: str) -> sa.ColumnElement[int]:
    """Filed -> acted on, in whole seconds (rounded): the one definition of a report's time to act,
    read live and kept in the rollup. NULL for a report not acted on."""
    if dialect == "postgresql":
        elapsed = sa.extract("epoch", Report.acted_on_at - Report.created_at)
    else:
        days = sa.func.julianday(Report.acted_on_at) - sa.func.julianday(Report.created_at)
        elapsed = days * 86400.0
    return sa.cast(sa.func.round(elapsed), sa.Integer)


def seconds_to_act_array(dialect: str) -> sa.ColumnElement[str]:
    """Aggregate: the times to act of the group's acted-on reports, as a JSON array text (in no
    particular order; '[]' when none was acted on)."""
    acted = Report.acted_on_at.is_not(None)
    if dialect == "postgresql":
        array = sa.cast(sa.func.json_agg(seconds_to_act(dialect)).filter(acted), sa.Text)
        return sa.func.coalesce(array, sa.literal_column("'[]'"))
    return sa.func.json_group_array(seconds_to_act(dialect)).filter(acted)


def dialect_of(bind: Session | sa.Connection) -> str:
    """The database's dialect name, from a Connection or a (scoped) Session."""
    return (bind if isinstance(bind, sa.Connection) else bind.get_bind()).dialect.name


def tally_select(dialect: str, conditions: dict[str, sa.ColumnElement[bool]]) -> sa.Select:
    """SELECT month, agent_id, severity, category, <one count per condition> FROM reports (not
    duplicates) GROUP BY the four: the one grouped query behind the live measures and the rollup."""
    keys = (filed_month(dialect), Report.agent_id, Report.severity, Report.category)
    return (
        sa.select(*keys, *(count_where(cond).label(name) for name, cond in conditions.items()))
        .select_from(Report)
        .where(Report.status != ReportStatus.DUPLICATE)
        .group_by(*keys)
    )


# --- The rollup ------------------------------------------------------------------------------------


class ReportMonthTally(db.Model):
    """The clock-independent counts of the reports filed in one UTC month about one agent, per
    severity and category. Rows may hold zeros; readers sum."""

    __tablename__ = "report_tallies"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    severity: Mapped[Severity] = mapped_column(enum_type(Severity), primary_key=True)
    category: Mapped[ReportCategory] = mapped_column(enum_type(ReportCategory), primary_key=True)
    filed: Mapped[int] = mapped_column(sa.Integer, default=0)
    closed: Mapped[int] = mapped_column(sa.Integer, default=0)
    answered: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed: Mapped[int] = mapped_column(sa.Integer, default=0)
    acted_in_sla: Mapped[int] = mapped_column(sa.Integer, default=0)
    acted_late: Mapped[int] = mapped_column(sa.Integer, default=0)
    open: Mapped[int] = mapped_column(sa.Integer, default=0)
    open_unacted: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The acted-on reports' times to act (see `seconds_to_act`): a JSON array of integers.
    seconds_to_act: Mapped[str] = mapped_column(sa.Text, default="[]", server_default="[]")


Bucket = tuple[date, int]  # (first day of the UTC month, agent_id)


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(first: datetime) -> datetime:
    return first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)


def _bucket_of(created_at: datetime, agent_id: int) -> Bucket:
    return month_start(created_at).date(), agent_id


def _in_buckets(count: int) -> sa.ColumnElement[bool]:
    """Reports filed in `count` (month, agent) buckets, bound as agent_<n>, first_<n>, next_<n>
    (`_bucket_parameters`). Naming every category lets SQLite and PostgreSQL walk
    ix_reports_agent_category_created in a few short ranges."""
    return sa.or_(
        *(
            sa.and_(
                Report.agent_id == sa.bindparam(f"agent_{n}"),
                Report.category.in_(list(ReportCategory)),
                Report.created_at >= sa.bindparam(f"first_{n}"),
                Report.created_at < sa.bindparam(f"next_{n}"),
            )
            for n in range(count)
        )
    )


def _bucket_parameters(buckets: set[Bucket]) -> dict:
    parameters = {}
    for n, (month, agent_id) in enumerate(sorted(buckets)):
        first = datetime(month.year, month.month, 1, tzinfo=UTC)
        parameters |= {
            f"month_{n}": month,
            f"agent_{n}": agent_id,
            f"first_{n}": first,
            f"next_{n}": next_month(first),
        }
    return parameters


def _upsert(dialect: str, rows: sa.Select, *, add: bool):
    """INSERT the grouped rows; on a key already there, add to its counts or replace them. Adding
    leaves the times to act as they are: only reports not acted on are ever added."""
    insert = insert_for(dialect)
    table = ReportMonthTally.__table__
    stmt = insert(table).from_select([*KEY_COLUMNS, *ROLLUP_COLUMNS], rows)
    set_ = {
        name: (table.c[name] + stmt.excluded[name]) if add else stmt.excluded[name]
        for name in SETTLED_COUNTS
    }
    if not add:
        set_["seconds_to_act"] = stmt.excluded.seconds_to_act
    return stmt.on_conflict_do_update(
        index_elements=[table.c[name] for name in KEY_COLUMNS], set_=set_
    )


def _settled_select(dialect: str) -> sa.Select:
    """The rollup's rows: the settled counts and the times to act, per key."""
    return tally_select(dialect, settled_conditions()).add_columns(
        seconds_to_act_array(dialect).label("seconds_to_act")
    )


_ADD_NEW: dict[str, sa.Insert] = {}  # per dialect: built once, it runs on every report filed


def add_new_reports(bind: Session | sa.Connection, report_ids: list[int]) -> None:
    """Add newly inserted reports, none of them acted on, to their rows: one statement."""
    dialect = dialect_of(bind)
    if dialect not in _ADD_NEW:
        rows = _settled_select(dialect).where(
            Report.id.in_(sa.bindparam("report_ids", expanding=True))
        )
        _ADD_NEW[dialect] = _upsert(dialect, rows, add=True)
    bind.execute(_ADD_NEW[dialect], {"report_ids": report_ids})


def _refresh_statements(dialect: str, count: int) -> tuple[sa.Delete, sa.Insert]:
    """DELETE the rows of `count` buckets, then recompute them (`_bucket_parameters` binds them)."""
    table = ReportMonthTally.__table__
    delete = sa.delete(table).where(
        sa.or_(
            *(
                sa.and_(
                    table.c.month == sa.bindparam(f"month_{n}"),
                    table.c.agent_id == sa.bindparam(f"agent_{n}"),
                )
                for n in range(count)
            )
        )
    )
    # An upsert, not a plain INSERT: on PostgreSQL a concurrent refresh of the same bucket may
    # have inserted a row this DELETE did not see.
    upsert = _upsert(dialect, _settled_select(dialect).where(_in_buckets(count)), add=False)
    return delete, upsert


# Per (dialect, number of buckets), built once: a change to one report refreshes one or two buckets.
_REFRESH: dict[tuple[str, int], tuple[sa.Delete, sa.Insert]] = {}
_CACHED_BUCKETS = 4


def refresh_report_tallies(bind: Session | sa.Connection, buckets: Iterable[Bucket]) -> None:
    """Recompute the rows of these (month, agent) buckets from the reports: two statements. Call it
    after a bulk UPDATE of reports that changes a column in TALLIED_COLUMNS."""
    buckets = set(buckets)
    if not buckets:
        return
    key = (dialect_of(bind), len(buckets))
    statements = _REFRESH.get(key) or _refresh_statements(*key)
    if len(buckets) <= _CACHED_BUCKETS:
        _REFRESH[key] = statements
    delete, upsert = statements
    parameters = _bucket_parameters(buckets)
    bind.execute(delete, parameters)
    bind.execute(upsert, parameters)


def buckets_of_reports(bind: Session | sa.Connection, where: sa.ColumnElement[bool]) -> set[Bucket]:
    """The (month, agent) buckets of the reports matching `where` (before a bulk update)."""
    month = filed_month(dialect_of(bind))
    return {
        (first, agent_id)
        for first, agent_id in bind.execute(
            sa.select(month, Report.agent_id).where(where).group_by(month, Report.agent_id)
        )
    }


def rebuild_report_tallies(bind: Session | sa.Connection) -> int:
    """Rewrite the whole rollup from the reports (after a bulk import, or a repair). Returns the
    number of rows written."""
    dialect = dialect_of(bind)
    table = ReportMonthTally.__table__
    bind.execute(sa.delete(table))
    bind.execute(
        sa.insert(table).from_select([*KEY_COLUMNS, *ROLLUP_COLUMNS], _settled_select(dialect))
    )
    return bind.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- Kept current on write -------------------------------------------------------------------------


def _value_before(state, name: str):
    history = state.attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else state.dict.get(name)


def _tallies_changed(state) -> bool:
    return any(state.attrs[name].history.has_changes() for name in TALLIED_COLUMNS)


@sa.event.listens_for(Session, "after_flush")
def _keep_report_tallies_current(session: Session, _flush_context) -> None:
    """Same transaction as the reports: new reports are added (one upsert); the buckets of changed
    or deleted reports, old and new, are recomputed (two statements)."""
    new, changed, buckets = [], [], set()
    for obj in session.new:
        if isinstance(obj, Report):
            new.append(obj)
            if obj.acted_on_at is not None:  # filed already acted on (an import): recompute
                buckets.add(_bucket_of(obj.created_at, obj.agent_id))
    for obj in session.dirty:
        if isinstance(obj, Report):
            state = sa.inspect(obj)
            if not state.deleted and _tallies_changed(state):
                changed.append(obj)
                buckets.add(
                    _bucket_of(_value_before(state, "created_at"), _value_before(state, "agent_id"))
                )
                buckets.add(_bucket_of(obj.created_at, obj.agent_id))
    for obj in session.deleted:
        if isinstance(obj, Report):
            state = sa.inspect(obj)
            buckets.add(
                _bucket_of(_value_before(state, "created_at"), _value_before(state, "agent_id"))
            )
    if not new and not buckets:
        return
    connection = session.connection()
    refresh_report_tallies(connection, buckets)
    added = [r.id for r in new if _bucket_of(r.created_at, r.agent_id) not in buckets]
    if added:
        add_new_reports(connection, added)


def _load_old_value(target, value, oldvalue, initiator):
    return value


# A bucket key changed on a report whose old value was not loaded would leave the old bucket stale:
# load it before the change (one SELECT in that rare case).
for _column in (Report.created_at, Report.agent_id):
    sa.event.listen(_column, "set", _load_old_value, active_history=True, retval=True)
