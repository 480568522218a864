"""Training measures on a hand-computed example (SQL aggregates), the reports page and CSV exports."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.core.db import db
from portal.training import metrics, services
from portal.training.models import Assignment, TrainingModule
from tests.conftest import sign_in
from tests.training.conftest import ALL_RIGHT, all_wrong

TODAY = date(2025, 2, 1)
JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def _answers(module_id: int, picks: dict[int, list[str]]) -> dict[int, set[int]]:
    version = db.session.get(TrainingModule, module_id).live_version
    return {
        q.id: {c.id for c in q.choices if c.text in picks.get(q.position, [])}
        for q in version.questions
    }


def _attempt(user, module_id: int, picks, when: datetime):
    attempt = services.submit_attempt(
        db.session.get(User, user.id),
        db.session.get(TrainingModule, module_id),
        db.session.get(TrainingModule, module_id).live_version.id,
        _answers(module_id, picks),
    )
    attempt.submitted_at = when
    db.session.execute(  # the completion takes the attempt's (back-dated) time
        sa.update(Assignment)
        .where(Assignment.user_id == user.id, Assignment.completed_at.is_not(None))
        .values(completed_at=when)
    )
    return attempt


def _assign(user, module_id: int, due: date) -> None:
    db.session.add(
        Assignment(user_id=user.id, module_id=module_id, required_version_number=1, due_on=due)
    )
    db.session.flush()


@pytest.fixture
def example(app, make_user, make_agent, make_module):
    """Two modules (agents Alpha, Beta), three people in two teams; see the test for the figures."""
    owner = make_user("owner")
    alpha = make_agent(owner=owner, name="Alpha")
    beta = make_agent(owner=owner, name="Beta")
    m1 = make_module(alpha, owner, title="Alpha basics", pass_mark=80)
    m2 = make_module(beta, owner, title="Beta basics", pass_mark=80)
    s1 = make_user(team="Support", name="Sam One")
    s2 = make_user(team="Support", name="Sue Two")
    f1 = make_user(team="=Finance", name="Fred Finance")  # a formula-looking name for the CSV
    partly = dict(ALL_RIGHT)
    partly[1] = ["Nobody"]
    partly[2] = ["Legal threats"]  # 62.5%: fails the 80% mark
    with app.app_context():
        _assign(s1, m1, date(2025, 1, 10))
        _assign(s2, m1, date(2025, 1, 20))
        _assign(f1, m2, date(2025, 1, 25))
        _assign(s1, m2, date(2025, 3, 1))  # due after the period
        _attempt(s1, m1, ALL_RIGHT, datetime(2025, 1, 5, 9, tzinfo=UTC))
        _attempt(s2, m1, partly, datetime(2025, 1, 15, 9, tzinfo=UTC))
        _attempt(f1, m2, all_wrong(), datetime(2025, 1, 20, 9, tzinfo=UTC))
        _attempt(f1, m2, ALL_RIGHT, datetime(2025, 1, 22, 9, tzinfo=UTC))
        db.session.commit()
        teams = {u.team.name: u.team_id for u in db.session.scalars(sa.select(User)) if u.team}
    return {"m1": m1, "m2": m2, "alpha": alpha, "beta": beta, "teams": teams, "owner": owner}


def test_training_completion_matches_the_hand_computed_figures(app, example):
    with app.app_context():
        overall = metrics.training_completion(JAN, FEB, today=TODAY)
        # Due in January: s1/m1 (done), s2/m1 (open, overdue), f1/m2 (done on the 2nd try).
        assert (overall.due, overall.completed, overall.overdue) == (3, 2, 1)
        assert overall.rate == pytest.approx(2 / 3)
        # First attempts in January: s1 pass, s2 fail, f1 fail (f1's pass was a second attempt).
        assert (overall.first_attempts, overall.first_attempt_passes) == (3, 1)
        assert overall.first_attempt_pass_rate == pytest.approx(1 / 3)

        alpha = metrics.training_completion(JAN, FEB, agent_id=example["alpha"].id, today=TODAY)
        assert (alpha.due, alpha.completed, alpha.overdue) == (2, 1, 1)
        assert (alpha.first_attempts, alpha.first_attempt_passes) == (2, 1)

        finance = metrics.training_completion(
            JAN, FEB, team_id=example["teams"]["=Finance"], today=TODAY
        )
        assert (finance.due, finance.completed, finance.overdue) == (1, 1, 0)
        assert (finance.first_attempts, finance.first_attempt_passes) == (1, 0)

        # Datetimes work the same as dates; an empty period has no rate rather than 0%.
        same = metrics.training_completion(
            datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC), today=TODAY
        )
        assert same == overall
        empty = metrics.training_completion(date(2024, 1, 1), date(2024, 2, 1), today=TODAY)
        assert empty.due == 0 and empty.rate is None and empty.first_attempt_pass_rate is None


def test_completion_by_team_agent_and_module(app, example):
    with app.app_context():
        by_team = {r.label: r.figures for r in metrics.completion_by("team", JAN, FEB, today=TODAY)}
        assert by_team["Support"].due == 2 and by_team["Support"].completed == 1
        assert by_team["Support"].first_attempt_pass_rate == pytest.approx(1 / 2)
        assert by_team["=Finance"].rate == 1.0
        by_module = {r.label: r.figures for r in metrics.completion_by("module", today=TODAY)}
        assert by_module["Beta basics"].due == 2  # all time: s1's March assignment too
        assert by_module["Beta basics"].overdue == 0
        by_agent = {
            r.label: r.figures for r in metrics.completion_by("agent", JAN, FEB, today=TODAY)
        }
        assert by_agent["Alpha"].overdue == 1 and by_agent["Beta"].completed == 1


def test_overdue_people_and_most_missed_questions(app, example):
    with app.app_context():
        [late] = metrics.overdue_people(JAN, FEB, today=TODAY)
        assert (late.name, late.team, late.module, late.agent) == (
            "Sue Two",
            "Support",
            "Alpha basics",
            "Alpha",
        )
        assert late.days_overdue == 12
        missed = metrics.most_missed_questions(JAN, FEB)
        prompts = {(m.module, m.prompt): (m.answers, m.wrong) for m in missed}
        # Alpha: s1 all right, s2 missed questions 1 and 2. Beta: f1 missed all four once.
        assert prompts[("Alpha basics", "Who sends a drafted reply to the customer?")] == (2, 1)
        assert prompts[("Alpha basics", "Which drafts must you escalate?")] == (2, 1)
        assert ("Alpha basics", "Where does the agent find its answers?") not in prompts
        assert sum(1 for module, _ in prompts if module == "Beta basics") == 4
        assert prompts[("Beta basics", "Which drafts must you escalate?")] == (2, 1)


def test_aggregates_run_a_fixed_number_of_statements(app, example, make_user):
    def count_statements(call) -> int:
        statements = []

        def record(*_args):
            statements.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            call()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    with app.app_context():
        before = count_statements(lambda: metrics.completion_by("team", today=TODAY))
        single = count_statements(lambda: metrics.training_completion(JAN, FEB, today=TODAY))
    for n in range(5):
        make_user(team=f"Team {n}")
    with app.app_context():
        for user in db.session.scalars(sa.select(User).where(User.name.like("Person%"))):
            _assign(user, example["m1"], date(2025, 1, 12))
        db.session.commit()
        assert count_statements(lambda: metrics.completion_by("team", today=TODAY)) == before == 2
        assert single == 2


def test_reports_page_and_csv_exports(app, example, make_user):
    client = app.test_client()
    sign_in(client, make_user("manager"))
    page = client.get("/training/reports?start=2025-01-01&end=2025-02-01").get_data(as_text=True)
    assert "Completion by module" in page and "Alpha basics" in page
    assert "Sue Two" in page  # overdue people
    assert "Which drafts must you escalate?" in page

    response = client.get(
        "/training/reports/completion-by-team.csv?start=2025-01-01&end=2025-02-01"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    support = next(r for r in rows if r["team"] == "Support")
    assert (support["due"], support["completed"], support["completion_pct"]) == ("2", "1", "50.0")
    assert support["first_attempt_pass_pct"] == "50.0"
    # A cell that a spreadsheet would run as a formula is defused.
    assert any(r["team"] == "'=Finance" for r in rows)

    summary = client.get("/training/reports/summary.csv?start=2025-01-01&end=2025-02-01")
    [row] = list(csv.DictReader(io.StringIO(summary.get_data(as_text=True))))
    assert (row["due"], row["completed"], row["first_attempts"], row["first_attempt_passes"]) == (
        "3",
        "2",
        "3",
        "1",
    )
    overdue = client.get("/training/reports/overdue.csv?start=2025-01-01&end=2025-02-01")
    rows = list(csv.DictReader(io.StringIO(overdue.get_data(as_text=True))))
    assert [(r["name"], r["module"]) for r in rows] == [("Sue Two", "Alpha basics")]
    for kind in ("summary", "completion-by-module", "completion-by-agent", "missed-questions"):
        response = client.get(f"/training/reports/{kind}.csv")
        assert response.status_code == 200 and response.get_data(as_text=True).count("\n") >= 2
    assert client.get("/training/reports/secrets.csv").status_code == 404
    assert client.get("/training/reports?start=not-a-date").status_code == 400


def test_reports_are_for_managers_and_admins(app, example, make_user):
    for role in ("trainee", "owner", "triage"):
        client = app.test_client()
        sign_in(client, make_user(role))
        assert client.get("/training/reports").status_code == 403
        assert client.get("/training/reports/overdue.csv").status_code == 403
    admin = app.test_client()
    sign_in(admin, make_user("admin"))
    assert admin.get("/training/reports/overdue.csv").status_code == 200
