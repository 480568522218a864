"""The triage queue: filters, search, sorting, pagination, counts, overdue rows, bulk changes, SLAs."""

import csv
import io
import re
from datetime import timedelta

import sqlalchemy as sa

from portal.agents.models import ReportCategory
from portal.core.db import db
from portal.feedback.models import Report, ReportStatus, Severity
from tests.feedback.conftest import report_row


def _ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="report_ids" value="(\d+)"', page)]


def _make_overdue(app, report_id: int) -> None:
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.sla_due_at = report.sla_due_at - timedelta(days=30)
        db.session.commit()


def test_filters_search_and_overdue_rows(app, cast, browser_as, file_report, advance):
    wrong = file_report(
        cast.reporter,
        cast.agent,
        summary="Wrong VAT rate on quotes",
        severity=Severity.HIGH,
        run_ref="RUN-777",
    )
    slow = file_report(
        cast.other,
        cast.agent,
        summary="Takes a minute to answer",
        category=ReportCategory.UNAVAILABLE,
        details="Timeouts after the 9am peak",
    )
    elsewhere = file_report(cast.reporter, cast.other_agent, summary="Misreads invoices")
    done = file_report(cast.reporter, cast.agent, summary="Greets customers by surname")
    advance(done.id, "closed", cast)
    _make_overdue(app, wrong.id)
    triage = browser_as(cast.triage)

    def ids(query: str) -> list[int]:
        response = triage.get(f"/triage?{query}")
        assert response.status_code == 200
        return sorted(_ids_on(response.get_data(as_text=True)))

    # By default the queue shows what waits for action; "all" shows finished reports too.
    assert ids("") == sorted([wrong.id, slow.id, elsewhere.id])
    assert ids("status=all") == sorted([wrong.id, slow.id, elsewhere.id, done.id])
    assert ids(f"agent={cast.other_agent.id}") == [elsewhere.id]
    assert ids("status=closed") == [done.id]
    assert ids("category=unavailable") == [slow.id]
    assert ids("status=all&severity=high") == [wrong.id, done.id]  # advance() triages as high
    assert ids("assignee=none") == sorted([wrong.id, slow.id, elsewhere.id])
    assert ids(f"status=all&assignee={cast.owner.id}") == [done.id]
    assert ids("overdue=1") == [wrong.id]
    assert ids("q=run-777") == [wrong.id]  # run reference
    assert ids("q=9am+timeouts") == [slow.id]  # details, every word, any order
    assert ids("q=nothing+matches+this") == []
    assert ids("status=bogus&severity=&agent=x") == sorted(  # bad filters are ignored
        [wrong.id, slow.id, elsewhere.id]
    )

    page = triage.get("/triage").get_data(as_text=True)
    overdue_row = page[: page.index(f'name="report_ids" value="{wrong.id}"')].rsplit("<tr", 1)[1]
    assert "row-overdue" in overdue_row
    assert "Overdue" in page
    assert re.search(r'Waiting for action <span class="badge text-bg-light">3</span>', page)
    assert re.search(r'New <span class="badge text-bg-light">3</span>', page)
    assert re.search(r'Closed <span class="badge text-bg-light">1</span>', page)


def test_sorting_and_pagination(app, cast, browser_as, file_report):
    for n in range(27):
        file_report(
            cast.reporter,
            cast.agent,
            summary=f"Problem number {n}",
            severity=Severity.CRITICAL if n == 5 else Severity.LOW,
        )
    triage = browser_as(cast.triage)
    first = _ids_on(triage.get("/triage?sort=oldest").get_data(as_text=True))
    second = _ids_on(triage.get("/triage?sort=oldest&page=2").get_data(as_text=True))
    assert first == list(range(1, 26)) and second == [26, 27]
    assert _ids_on(triage.get("/triage?sort=newest").get_data(as_text=True))[0] == 27
    assert _ids_on(triage.get("/triage?sort=severity").get_data(as_text=True))[0] == 6
    # "due": the critical one is due first (4 hours, against 10 days for low).
    assert _ids_on(triage.get("/triage").get_data(as_text=True))[0] == 6
    assert triage.get("/triage?page=99").status_code == 200


def test_sla_due_times_follow_the_configured_hours(app, cast, file_report):
    app.config["SLA_HOURS"] = {"critical": 1}
    critical = report_row(
        app, file_report(cast.reporter, cast.agent, severity=Severity.CRITICAL).id
    )
    low = report_row(app, file_report(cast.reporter, cast.agent, severity=Severity.LOW).id)
    assert critical.sla_due_at - critical.created_at == timedelta(hours=1)
    assert low.sla_due_at - low.created_at == timedelta(hours=240)  # the default


def test_bulk_route_and_bulk_severity(app, cast, browser_as, file_report, advance):
    first = file_report(cast.reporter, cast.agent, summary="First")
    second = file_report(cast.other, cast.agent, summary="Second")
    closed = file_report(cast.reporter, cast.agent, summary="Third")
    advance(closed.id, "closed", cast)
    triage = browser_as(cast.triage)
    response = triage.post(
        "/triage/bulk",
        data={
            "report_ids": [str(first.id), str(second.id), str(closed.id)],
            "assignee": str(cast.owner.id),
            "route": "1",
            "next": "/triage?sort=newest",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/triage?sort=newest"
    page = triage.get("/triage").get_data(as_text=True)
    assert "Routed 2 to Olivia Owner." in page
    assert f"#{closed.id} skipped: This report is closed; it cannot be routed now." in page
    assert report_row(app, first.id).assignee_id == cast.owner.id
    assert report_row(app, second.id).status is ReportStatus.ROUTED

    triage.post(
        "/triage/bulk",
        data={
            "report_ids": [str(first.id), str(second.id)],
            "severity": "critical",
            "set_severity": "1",
        },
    )
    assert report_row(app, first.id).severity is Severity.CRITICAL
    assert report_row(app, second.id).severity is Severity.CRITICAL

    response = triage.post("/triage/bulk", data={"route": "1", "assignee": str(cast.owner.id)})
    assert "Tick at least one report first." in triage.get("/triage").get_data(as_text=True)


def test_export_is_the_filtered_queue_as_csv(cast, browser_as, file_report):
    file_report(cast.reporter, cast.agent, summary="=HYPERLINK(evil) in a reply")
    file_report(cast.reporter, cast.other_agent, summary="Other agent problem")
    response = browser_as(cast.triage).get(f"/triage/export.csv?agent={cast.agent.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["agent"] for row in rows] == ["support-assistant"]
    assert rows[0]["summary"] == "'=HYPERLINK(evil) in a reply"  # not a spreadsheet formula
    assert rows[0]["reporter"] == "Rosa Reporter"


def test_owners_see_their_assigned_reports(app, cast, browser_as, file_report, advance):
    routed = file_report(cast.reporter, cast.agent, summary="Routed one")
    file_report(cast.reporter, cast.agent, summary="Waiting one")
    advance(routed.id, "routed", cast)
    page = browser_as(cast.owner).get("/assigned").get_data(as_text=True)
    waiting = page.index("Waiting for you")
    not_routed = page.index("not routed yet")
    assert waiting < page.index("Routed one") < not_routed < page.index("Waiting one")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 2
