"""The read pages (triage queue, my reports, a report's page): the figures they show, and SQL that
does not grow with the number of people on a report's timeline."""

import re
from datetime import timedelta

import pytest

from portal.accounts.models import User
from portal.core.db import db
from portal.feedback import services
from portal.feedback.models import Report, ReportStatus


def _matching(page: str) -> int:
    return int(re.search(r"(\d+) reports? match", page).group(1))


def _pill(page: str, label: str) -> int:
    return int(re.search(rf">{label} <span class=\"badge text-bg-light\">(\d+)<", page).group(1))


def test_queue_total_and_status_counts_follow_the_filters(
    app, cast, browser_as, file_report, advance
):
    open_ids = [file_report(cast.reporter, cast.agent, summary=f"Open {n}").id for n in range(3)]
    closed = file_report(cast.reporter, cast.agent, summary="Closed one")
    advance(closed.id, "closed", cast)
    file_report(cast.other, cast.other_agent, summary="About the other agent")
    with app.app_context():  # one open report past its SLA
        report = db.session.get(Report, open_ids[0])
        report.sla_due_at = report.sla_due_at - timedelta(days=30)
        db.session.commit()
    triage = browser_as(cast.triage)

    def page(query: str) -> str:
        response = triage.get(f"/triage?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    default = page("")
    assert _matching(default) == 4  # waiting for action: 3 + the other agent's
    assert _pill(default, "Waiting for action") == 4
    assert _pill(default, "All") == 5
    assert _pill(default, "Closed") == 1
    assert _matching(page("status=all")) == 5
    assert _matching(page("status=closed")) == 1
    assert _matching(page(f"agent={cast.agent.id}")) == 3
    assert _matching(page(f"agent={cast.agent.id}&status=all")) == 4
    assert _matching(page("overdue=1")) == 1
    assert "1 report match" in page("overdue=1&status=all")
    empty = page("status=declined")
    assert _matching(empty) == 0 and "No reports match." in empty


def _statements(statements_of, fn) -> int:
    response, statements = statements_of(fn)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/reports/{id}", "/reports/mine"])
def test_read_pages_run_the_same_statements_however_many_people_acted(
    app, cast, browser_as, file_report, advance, make_user, statements_of, path
):
    filed = file_report(cast.reporter, cast.agent, summary="Refund amounts are rounded wrongly")
    advance(filed.id, "in_progress", cast)
    reporter = browser_as(cast.reporter)
    url = path.format(id=filed.id)
    before = _statements(statements_of, lambda: reporter.get(url))

    # Five more people on the timeline ("me too"), each a different actor.
    fellows = [make_user(name=f"Fellow {n}") for n in range(5)]
    with app.app_context():
        report = db.session.get(Report, filed.id)
        for fellow in fellows:
            services.subscribe(report, db.session.get(User, fellow.id))
        db.session.commit()
    response = reporter.get(url)
    assert response.get_data(as_text=True).count("had the same problem (me too)") == 5
    assert _statements(statements_of, lambda: reporter.get(url)) == before


def test_my_reports_pages_through_what_i_filed(app, cast, browser_as, file_report):
    ids = [file_report(cast.reporter, cast.agent, summary=f"Problem {n}").id for n in range(23)]
    reporter = browser_as(cast.reporter)
    first = reporter.get("/reports/mine").get_data(as_text=True)
    second = reporter.get("/reports/mine?page=2").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'id="report-(\d+)-title"', first)]
    assert shown == sorted(ids, reverse=True)[:20]  # newest first
    assert [int(n) for n in re.findall(r'id="report-(\d+)-title"', second)] == sorted(
        ids, reverse=True
    )[20:]
    assert "Reports you filed" in first and "(23)" in first
    assert 'href="/reports/mine?page=2"' in first
    assert reporter.get("/reports/mine?page=99").status_code == 200


def test_queue_rows_are_the_reports_own_figures(app, cast, browser_as, file_report, advance):
    filed = file_report(cast.reporter, cast.agent, summary="Suggests the wrong owner")
    advance(filed.id, "routed", cast)
    page = browser_as(cast.triage).get("/triage").get_data(as_text=True)
    with app.app_context():
        report = db.session.get(Report, filed.id)
        assert report.status is ReportStatus.ROUTED
        due = report.sla_due_at
    assert f'href="/reports/{filed.id}"' in page
    assert "Olivia Owner" in page  # the assignee
    assert f'<time datetime="{due.isoformat()}" data-local-time>' in page
