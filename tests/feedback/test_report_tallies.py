"""The monthly report tallies (portal.feedback.tallies) stay equal to the reports after every kind of
change, and the measures read from them give the figures the reports say, for windows of whole
months, partial months and team scopes. Time to act included: the rollup's arrays of seconds give
exactly what the reports give live."""

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback import metrics, services, tallies
from portal.feedback.models import (
    ANSWERED_STATUSES,
    OPEN_STATUSES,
    ActionKind,
    Report,
    ReportStatus,
    Severity,
)

NOW = datetime(2025, 3, 20, 9, tzinfo=UTC)


def _with_times(rows) -> dict:
    """key -> (*counts, the times to act in seconds, sorted), leaving out rows of zeros."""
    return {
        tuple(row[:4]): (*row[4:-1], tuple(sorted(json.loads(row[-1]))))
        for row in rows
        if any(row[4:-1])
    }


def _rollup() -> dict:
    table = tallies.ReportMonthTally
    columns = (*tallies.KEY_COLUMNS, *tallies.ROLLUP_COLUMNS)
    return _with_times(db.session.execute(sa.select(*(getattr(table, c) for c in columns))))


def _live() -> dict:
    """The same counts and times to act aggregated from the reports right now."""
    dialect = db.engine.dialect.name
    stmt = tallies.tally_select(dialect, tallies.settled_conditions()).add_columns(
        tallies.seconds_to_act_array(dialect)
    )
    return _with_times(db.session.execute(stmt))


def _times(rollup: dict) -> list[int]:
    return sorted(seconds for values in rollup.values() for seconds in values[-1])


def assert_current(app) -> dict:
    with app.app_context():
        rollup, live = _rollup(), _live()
    assert rollup == live
    return rollup


def _filed(rollup: dict) -> int:
    return sum(counts[tallies.SETTLED_COUNTS.index("filed")] for counts in rollup.values())


def test_the_rollup_follows_every_change_to_a_report(app, cast, file_report, advance):
    first = file_report(cast.reporter, cast.agent, category=ReportCategory.UNSAFE)
    second = file_report(cast.other, cast.agent, summary="It timed out twice this morning")
    third = file_report(cast.reporter, cast.other_agent, summary="The invoice total is off")
    fourth = file_report(cast.other, cast.agent, summary="Refund amount wrong again today")
    assert _filed(assert_current(app)) == 4

    advance(first.id, "routed", cast)  # triaged (severity high) and routed
    assert_current(app)
    with app.app_context():
        owner = db.session.get(User, cast.owner.id)
        report = db.session.get(Report, first.id)
        services.start_work(report, owner)
        services.mark_acted_on(report, ActionKind.CONFIG_CHANGE, "We changed the prompt.", owner)
        db.session.commit()
    advance(second.id, "acted_on", cast)
    assert len(_times(assert_current(app))) == 2  # the two acted on have a time to act
    with app.app_context():
        loop = metrics.closed_loop_rate(None, None, None)
        assert (loop.closed, loop.total) == (2, 4)

    with app.app_context():
        triage = db.session.get(User, cast.triage.id)
        report = db.session.get(Report, third.id)
        services.decline_report(report, "Working as designed: totals include tax.", triage)
        db.session.commit()
    assert len(_times(assert_current(app))) == 3  # a decline counts as acted on

    with app.app_context():  # the reporter says "not fixed": reopened, out of the closed loop
        report = db.session.get(Report, first.id)
        services.confirm_fix(report, False, "Still wrong.", db.session.get(User, cast.reporter.id))
        db.session.commit()
    assert len(_times(assert_current(app))) == 2  # reopened: no time to act until acted on again
    with app.app_context():  # confirmed fixed
        report = db.session.get(Report, second.id)
        services.confirm_fix(report, True, "", db.session.get(User, cast.other.id))
        db.session.commit()
    assert_current(app)
    with app.app_context():
        loop = metrics.closed_loop_rate(None, None, None)
        fix = metrics.confirmed_fix_rate(None, None, None)
        assert (loop.closed, loop.total) == (2, 4)
        assert (fix.fixed, fix.answered) == (1, 2)

    with app.app_context():
        triage = db.session.get(User, cast.triage.id)
        duplicate = db.session.get(Report, fourth.id)
        services.mark_duplicate(duplicate, db.session.get(Report, second.id), triage)
        db.session.commit()
    assert _filed(assert_current(app)) == 3

    with app.app_context():  # moved to another month and agent: both buckets change
        report = db.session.get(Report, third.id)
        report.created_at = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
        report.agent_id = cast.agent.id
        db.session.commit()
    rollup = assert_current(app)
    assert {key[0] for key in rollup} == {date(2024, 12, 1), tallies.month_start(utcnow()).date()}

    with app.app_context():
        db.session.delete(db.session.get(Report, third.id))
        db.session.commit()
    assert _filed(assert_current(app)) == 2


def test_a_rolled_back_change_leaves_the_rollup_as_it_was(app, cast, file_report):
    file_report(cast.reporter, cast.agent)
    before = assert_current(app)
    with app.app_context():
        unsaved = services.file_report(
            db.session.get(User, cast.other.id),
            services.ReportInput(
                agent=db.session.get(Agent, cast.agent.id),
                category=ReportCategory.CONCERN,
                summary="Never saved",
            ),
            [],
        )
        assert unsaved.id is not None
        assert _filed(_rollup()) == 2  # current inside the transaction
        db.session.rollback()
    assert assert_current(app) == before


def test_bulk_updates_refresh_their_buckets(app, cast, file_report):
    filed = [file_report(cast.reporter, cast.agent, summary=f"Bulk {n}") for n in range(3)]
    assert_current(app)
    with app.app_context():
        where = Report.id.in_([f.id for f in filed[:2]])
        buckets = tallies.buckets_of_reports(db.session, where)
        db.session.execute(
            sa.update(Report)
            .where(where)
            .values(status=ReportStatus.DECLINED, acted_on_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        assert _rollup() != _live()  # a bulk UPDATE bypasses the session event...
        tallies.refresh_report_tallies(db.session, buckets)  # ...so it refreshes its buckets
        db.session.commit()
    assert_current(app)

    # The SLA escalation sweep updates reports in bulk too, but no tallied column.
    with app.app_context():
        # The one report still open passes both escalation levels.
        assert services.escalate_overdue_reports(utcnow() + timedelta(days=30)) == 2
        db.session.commit()
    assert_current(app)


def test_rebuild_rewrites_the_whole_rollup(app, cast, file_report):
    file_report(cast.reporter, cast.agent)
    file_report(cast.other, cast.other_agent, summary="Another one")
    expected = assert_current(app)
    with app.app_context():
        db.session.execute(sa.delete(tallies.ReportMonthTally))
        db.session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "rebuild-report-tallies"])
    assert result.exit_code == 0, result.output
    assert "report_tallies: 2 rows" in result.output
    assert assert_current(app) == expected


# --- The measures from the rollup against the reports themselves -----------------------------------


def _month(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def expected_tallies(reports, start, end, agent_id=None, team_reporters=None, now=NOW) -> dict:
    """The definitions in DESIGN.md ("Measures"), counted in Python from the report rows."""
    found: dict = {}
    for r in reports:
        if r["status"] is ReportStatus.DUPLICATE:
            continue
        if (start and r["created_at"] < start) or (end and r["created_at"] >= end):
            continue
        if agent_id is not None and r["agent_id"] != agent_id:
            continue
        if team_reporters is not None and r["reporter_id"] not in team_reporters:
            continue
        key = (_month(r["created_at"]), r["agent_id"], r["severity"], r["category"])
        is_open, acted = r["status"] in OPEN_STATUSES, r["acted_on_at"]
        counts = found.setdefault(key, [0] * 7)
        additions = (
            1,
            r["status"] in ANSWERED_STATUSES and r["reporter_notified_at"] is not None,
            is_open and r["sla_due_at"] >= now,
            r["is_fixed"] is not None,
            r["is_fixed"] is True,
            acted is not None and acted <= r["sla_due_at"],
            (acted is not None and acted > r["sla_due_at"])
            or (acted is None and is_open and r["sla_due_at"] < now),
        )
        for n, add in enumerate(additions):
            counts[n] += int(add)
    return {key: tuple(counts) for key, counts in found.items()}


def as_dict(result: list[metrics.ReportTally]) -> dict:
    return {
        (t.month, t.agent_id, t.severity, t.category): (
            t.filed,
            t.closed,
            t.in_flight,
            t.answered,
            t.fixed,
            t.sla_met,
            t.sla_missed,
        )
        for t in result
    }


@pytest.fixture
def spread(app, cast, file_report):
    """36 reports from November 2024 to March 2025 in every state, about two agents, half of them
    by a member of the Support team; and three filed just now (the current month)."""
    rng = random.Random(6)
    with app.app_context():
        team = accounts.get_or_create_team("Support")
        db.session.get(User, cast.reporter.id).team = team
        db.session.commit()
        team_id = team.id
    statuses = list(ReportStatus)
    for n in range(36):
        reporter = cast.reporter if n % 2 else cast.other
        agent = cast.agent if n % 3 else cast.other_agent
        category = list(ReportCategory)[n % len(ReportCategory)]
        filed = file_report(reporter, agent, summary=f"Spread report {n}", category=category)
        with app.app_context():
            report = db.session.get(Report, filed.id)
            created = datetime(2024, 11, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 3400))
            status = statuses[n % len(statuses)]
            report.created_at = report.sla_started_at = created
            report.severity = list(Severity)[rng.randrange(4)]
            report.status = status
            report.sla_due_at = created + timedelta(hours=rng.choice([4, 24, 72, 240, 2400]))
            report.sla_escalation_due_at = report.sla_due_at
            acted = status in (*ANSWERED_STATUSES,) or (status in OPEN_STATUSES and n % 4 == 0)
            if acted:
                report.acted_on_at = created + timedelta(hours=rng.randrange(1, 300))
                report.reporter_notified_at = report.acted_on_at if n % 5 else None
            if status in (ReportStatus.ACTED_ON, ReportStatus.CLOSED, ReportStatus.REOPENED):
                report.is_fixed = rng.choice([None, True, False])
            db.session.commit()
    for n in range(3):
        file_report(cast.reporter, cast.agent, summary=f"Just now {n}")
    with app.app_context():
        columns = ("created_at", "agent_id", "reporter_id", "severity", "category", "status")
        columns += ("sla_due_at", "acted_on_at", "reporter_notified_at", "is_fixed")
        reports = [
            {name: getattr(r, name) for name in columns}
            for r in db.session.scalars(sa.select(Report))
        ]
    return {
        "reports": reports,
        "team_id": team_id,
        "team_reporters": {cast.reporter.id},
        "A": cast.agent.id,
    }


def _at(year, month, day, hour=0):
    return datetime(year, month, day, hour, tzinfo=UTC)


WINDOWS = [
    (None, None),
    (_at(2024, 12, 1), _at(2025, 3, 1)),  # whole months
    (_at(2024, 11, 10, 12), _at(2025, 2, 14, 6)),  # partial months at both edges
    (_at(2025, 1, 5), _at(2025, 1, 25)),  # inside one month
    (_at(2025, 2, 1), _at(2025, 2, 1)),  # empty
    (_at(2025, 1, 15), None),
]


def test_report_tallies_match_the_reports(app, spread):
    assert_current(app)
    present = utcnow()
    this_month = tallies.month_start(present)
    windows = [
        *WINDOWS,
        # The dashboards' default: from a month's first day to the end of today.
        (_at(2025, 1, 1), present.replace(hour=0, minute=0) + timedelta(days=1)),
        (this_month, present + timedelta(days=40)),
    ]
    reports = spread["reports"]
    with app.app_context():
        for start, end in windows:
            got = as_dict(metrics.report_tallies(start, end, now=NOW))
            assert got == expected_tallies(reports, start, end), (start, end)
            got = as_dict(metrics.report_tallies(start, end, spread["A"], now=NOW))
            assert got == expected_tallies(reports, start, end, spread["A"]), (start, end)
            got = as_dict(metrics.report_tallies(start, end, None, spread["team_id"], now=NOW))
            expected = expected_tallies(reports, start, end, None, spread["team_reporters"])
            assert got == expected, (start, end)


def test_the_folds_give_the_measures(app, spread):
    start, end = _at(2024, 11, 10, 12), _at(2025, 2, 14, 6)
    expected = expected_tallies(spread["reports"], start, end)
    filed, closed, in_flight, answered, fixed, met, missed = (
        sum(column) for column in zip(*expected.values(), strict=True)
    )
    with app.app_context():
        loop = metrics.closed_loop_rate(None, start, end, now=NOW)
        assert (loop.closed, loop.total, loop.in_flight) == (closed, filed, in_flight)
        fix = metrics.confirmed_fix_rate(None, start, end)
        assert (fix.fixed, fix.answered) == (fixed, answered)
        sla = metrics.sla_attainment(None, start, end, now=NOW)
        assert set(sla) == set(Severity)
        assert sum(s.met for s in sla.values()) == met
        assert sum(s.missed for s in sla.values()) == missed
        by_category = metrics.reports_by_category(None, start, end)
        assert sum(by_category.values()) == filed
        by_month = metrics.reports_by_category(None, start, end, by_month=True)
        assert {month for month, _ in by_month} == {"2024-11", "2024-12", "2025-01", "2025-02"}
        assert all(n > 0 for n in by_month.values())


def test_report_tallies_take_two_statements_at_most(app, spread):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            metrics.report_tallies(_at(2024, 11, 10, 12), _at(2025, 2, 14, 6))
            assert len(statements) == 2
            statements.clear()
            metrics.report_tallies(None, None, None, spread["team_id"])
            assert len(statements) == 1
            statements.clear()
            metrics.time_to_act_by_month(None, None)
            assert len(statements) == 1
            statements.clear()
            metrics.time_to_act_by_month(_at(2024, 11, 10, 12), _at(2025, 2, 14, 6), spread["A"])
            assert len(statements) == 2
            statements.clear()
            metrics.time_to_act_by_month(_at(2024, 12, 1), _at(2025, 3, 1))
            assert len(statements) == 1
            statements.clear()
            metrics.time_to_act_by_month(None, None, None, spread["team_id"])
            assert len(statements) == 1
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)


def test_time_to_act_per_month_and_for_the_window(app, spread):
    start, end = _at(2024, 12, 1), _at(2025, 3, 1)
    hours: dict[date, list[float]] = {}
    for r in spread["reports"]:
        if r["status"] is ReportStatus.DUPLICATE or r["acted_on_at"] is None:
            continue
        if start <= r["created_at"] < end:
            elapsed = (r["acted_on_at"] - r["created_at"]).total_seconds() / 3600
            hours.setdefault(_month(r["created_at"]), []).append(elapsed)
    every = sorted(h for values in hours.values() for h in values)
    with app.app_context():
        window, by_month = metrics.time_to_act_by_month(start, end)
        assert metrics.time_to_act(None, start, end) == window
    assert window.count == len(every)
    assert window.median_hours == pytest.approx(metrics.percentile(every, 0.5), abs=1e-6)
    assert window.p90_hours == pytest.approx(metrics.percentile(every, 0.9), abs=1e-6)
    assert set(by_month) == set(hours)
    for month, values in hours.items():
        values.sort()
        assert by_month[month].count == len(values)
        assert by_month[month].median_hours == pytest.approx(
            metrics.percentile(values, 0.5), abs=1e-6
        )
        assert by_month[month].p90_hours == pytest.approx(metrics.percentile(values, 0.9), abs=1e-6)


def test_an_action_is_counted_in_the_month_the_report_was_filed(app, cast, file_report, advance):
    """A report filed on 31 January and acted on in February stays January's."""
    filed = file_report(cast.reporter, cast.agent)
    with app.app_context():
        report = db.session.get(Report, filed.id)
        report.created_at = report.sla_started_at = _at(2025, 1, 31, 23)
        db.session.commit()
    advance(filed.id, "acted_on", cast)
    with app.app_context():
        [tally] = metrics.report_tallies(_at(2025, 1, 1), _at(2025, 2, 1))
        assert (tally.month, tally.filed, tally.severity) == (date(2025, 1, 1), 1, Severity.HIGH)
        assert metrics.report_tallies(_at(2025, 2, 1), _at(2025, 3, 1)) == []
        report = db.session.get(Report, filed.id)
        assert report.action_kind is ActionKind.CONFIG_CHANGE


# --- Time to act: the rollup against the reports, through the loop ---------------------------------


def _live_time_to_act(start, end, agent_id=None, team_id=None):
    """Time to act straight from the reports (no rollup): each acted-on report's seconds, as
    tallies.seconds_to_act defines them, per UTC month filed; interpolated by metrics.percentile."""
    dialect = db.engine.dialect.name
    stmt = sa.select(Report.created_at, tallies.seconds_to_act(dialect)).where(
        Report.acted_on_at.is_not(None), Report.status != ReportStatus.DUPLICATE
    )
    if start is not None:
        stmt = stmt.where(Report.created_at >= start)
    if end is not None:
        stmt = stmt.where(Report.created_at < end)
    if agent_id is not None:
        stmt = stmt.where(Report.agent_id == agent_id)
    if team_id is not None:
        stmt = stmt.join(User, User.id == Report.reporter_id).where(User.team_id == team_id)
    per_month: dict[date, list[int]] = {}
    for created_at, seconds in db.session.execute(stmt):
        per_month.setdefault(_month(created_at), []).append(seconds)

    def figures(values: list[int]) -> metrics.TimeToAct:
        values = sorted(values)
        p50, p90 = metrics.percentile(values, 0.5), metrics.percentile(values, 0.9)
        return metrics.TimeToAct(
            count=len(values),
            median_hours=None if p50 is None else p50 / 3600,
            p90_hours=None if p90 is None else p90 / 3600,
        )

    every = [seconds for values in per_month.values() for seconds in values]
    return figures(every), {month: figures(per_month[month]) for month in sorted(per_month)}


def _hours_from_rows(app, start, end) -> list[float]:
    """The acted-on reports' times to act in hours, from the report rows in Python."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Report.created_at, Report.acted_on_at).where(
                Report.acted_on_at.is_not(None), Report.status != ReportStatus.DUPLICATE
            )
        )
        return sorted(
            (acted - created).total_seconds() / 3600
            for created, acted in rows
            if (start is None or created >= start) and (end is None or created < end)
        )


def assert_time_to_act_matches(app, spread) -> None:
    present = utcnow()
    windows = [
        *WINDOWS,
        (_at(2025, 1, 1), present.replace(hour=0, minute=0) + timedelta(days=1)),
        (tallies.month_start(present), present + timedelta(days=40)),
        (_at(2024, 12, 20), present + timedelta(days=1)),
    ]
    with app.app_context():
        for start, end in windows:
            for agent_id, team_id in ((None, None), (spread["A"], None), (None, spread["team_id"])):
                got = metrics.time_to_act_by_month(start, end, agent_id, team_id)
                assert got == _live_time_to_act(start, end, agent_id, team_id), (
                    start,
                    end,
                    agent_id,
                    team_id,
                )
    # And at one-second resolution, what the rows say in Python.
    start, end = windows[-1]
    hours = _hours_from_rows(app, start, end)
    with app.app_context():
        window, _ = metrics.time_to_act_by_month(start, end)
    assert window.count == len(hours)
    if hours:
        second = 1 / 3600
        assert window.median_hours == pytest.approx(metrics.percentile(hours, 0.5), abs=second)
        assert window.p90_hours == pytest.approx(metrics.percentile(hours, 0.9), abs=second)


def test_time_to_act_from_the_rollup_equals_the_reports_through_the_loop(
    app, cast, spread, advance
):
    """Acting, declining, reopening and acting again, on reports of past months and of this one:
    after each, every window (whole months, partial, current) and scope (all, agent, team) gives
    from the rollup exactly what the reports give live, on both databases."""
    assert_current(app)
    assert_time_to_act_matches(app, spread)
    with app.app_context():
        ids = {
            status: db.session.scalars(
                sa.select(Report.id).where(Report.status == status).order_by(Report.created_at)
            ).all()
            for status in ReportStatus
        }
        triage = db.session.get(User, cast.triage.id)
        # Acted on and declined now, months after they were filed.
        in_progress = db.session.get(Report, ids[ReportStatus.IN_PROGRESS][0])
        services.mark_acted_on(in_progress, ActionKind.DATA_FIX, "Fixed the data.", triage)
        declined = db.session.get(Report, ids[ReportStatus.NEW][0])
        services.decline_report(declined, "Working as designed.", triage)
        db.session.commit()
        acted_id = in_progress.id
    for just_now in ids[ReportStatus.NEW][-2:]:  # this month's: filed a moment ago
        advance(just_now, "acted_on", cast)
    rollup = assert_current(app)
    assert_time_to_act_matches(app, spread)

    with app.app_context():  # reopened by its reporter: out of time to act
        report = db.session.get(Report, acted_id)
        before = len(_times(rollup))
        services.confirm_fix(
            report, False, "Still wrong.", db.session.get(User, report.reporter_id)
        )
        db.session.commit()
    assert len(_times(assert_current(app))) == before - 1
    assert_time_to_act_matches(app, spread)

    with app.app_context():  # acted on again: back in, timed from filing to the new action
        report = db.session.get(Report, acted_id)
        triage = db.session.get(User, cast.triage.id)
        services.start_work(report, triage)
        services.mark_acted_on(report, ActionKind.CONFIG_CHANGE, "Changed it again.", triage)
        db.session.commit()
        acted = (report.acted_on_at - report.created_at).total_seconds()
    times = _times(assert_current(app))
    assert len(times) == before
    assert any(abs(seconds - acted) <= 1 for seconds in times)  # whole seconds, rounded
    assert_time_to_act_matches(app, spread)


def test_a_report_stored_already_acted_on_gets_its_time_to_act(app, cast, file_report):
    """A report inserted with acted_on_at set (an import, not the filing form) is rolled up with
    its time to act, not added as if new."""
    filed = file_report(cast.reporter, cast.agent)
    created = _at(2025, 1, 10, 8)
    with app.app_context():  # the same rollup row as the import below
        report = db.session.get(Report, filed.id)
        report.created_at = report.sla_started_at = created - timedelta(days=2)
        db.session.commit()
    with app.app_context():
        db.session.add(
            Report(
                agent_id=cast.agent.id,
                reporter_id=cast.other.id,
                category=ReportCategory.WRONG_OUTPUT,
                summary="Imported, acted on after 30 hours",
                status=ReportStatus.ACTED_ON,
                created_at=created,
                sla_started_at=created,
                sla_due_at=created + timedelta(hours=24),
                sla_escalation_due_at=created + timedelta(hours=48),
                acted_on_at=created + timedelta(hours=30),
            )
        )
        db.session.commit()
    rollup = assert_current(app)
    assert _times(rollup) == [30 * 3600]
    with app.app_context():
        window, by_month = metrics.time_to_act_by_month(_at(2025, 1, 1), _at(2025, 2, 1))
    assert window == metrics.TimeToAct(1, 30.0, 30.0)
    assert by_month == {date(2025, 1, 1): window}
