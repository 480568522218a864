"""The triage queue is cached (portal.core.fragments): what triage staff see must still be what the
database holds the moment anything changes, and each person's page must stay their own."""

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import has_request_context, request

from portal.accounts.models import User, UserSession
from portal.agents.models import Agent
from portal.core import generations
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback.models import Report
from portal.feedback.services import QUEUE_AREA
from portal.maintenance.personal_data import anonymise_person
from portal.notifications.services import notify
from tests.conftest import csrf_token_from

SIGNED_IN_AS = re.compile(r'bi-person-circle" aria-hidden="true"></i> ([^<]+)\n')


def _queue(client, query: str = "") -> str:
    response = client.get(f"/triage{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _change(app, change) -> None:
    with app.app_context():
        change()
        db.session.commit()


def test_the_queue_shows_every_change_made_after_it_was_cached(
    app, cast, browser_as, file_report, advance
):
    first = file_report(cast.reporter, cast.agent, summary="Quotes show the wrong VAT rate")
    triage = browser_as(cast.triage)
    assert "Quotes show the wrong VAT rate" in _queue(triage)
    assert "Quotes show the wrong VAT rate" in _queue(triage)  # now from the cache

    second = file_report(cast.other, cast.agent, summary="Answers take a minute")
    page = _queue(triage)
    assert "Answers take a minute" in page
    assert re.search(r'Waiting for action <span class="badge text-bg-light">2</span>', page)

    advance(first.id, "routed", cast)  # triaged as high, routed to Olivia Owner
    row = _queue(triage).split(f'name="report_ids" value="{first.id}"')[1].split("</tr>")[0]
    assert "Olivia Owner" in row and "High" in row and "Routed" in row

    def rename():
        db.session.get(User, cast.owner.id).name = "Olivia Okafor"
        db.session.get(Agent, cast.agent.id).name = "Support Assistant 2"

    _change(app, rename)
    page = _queue(triage)
    assert "Olivia Okafor" in page and "Olivia Owner" not in page
    assert "Support Assistant 2" in page

    # A statement that changes reports without loading them renews the queue too.
    _change(
        app,
        lambda: db.session.execute(
            sa.update(Report).where(Report.id == second.id).values(summary="Answers take ages")
        ),
    )
    assert "Answers take ages" in _queue(triage)

    # A person removed for good: their name leaves the cached queue with them.
    _change(
        app,
        lambda: anonymise_person(
            db.session.get(User, cast.owner.id), db.session.get(User, cast.admin.id)
        ),
    )
    page = _queue(triage)
    assert "Olivia" not in page
    assert f"Former user #{cast.owner.id}" in page


def test_each_person_gets_their_own_page_and_token(app, cast, make_user, browser_as, file_report):
    filed = file_report(cast.reporter, cast.agent, summary="Refund amounts are off")
    colleague = make_user("triage", name="Tara Triage", email="tara@example.com")
    tomas, tara, ada = browser_as(cast.triage), browser_as(colleague), browser_as(cast.admin)
    app.config["WTF_CSRF_ENABLED"] = True

    tomas_page = _queue(tomas)
    tara_page = _queue(tara)  # the queue itself rendered once, for Tomas
    assert SIGNED_IN_AS.search(tomas_page).group(1) == "Tomas Triage"
    assert SIGNED_IN_AS.search(tara_page).group(1) == "Tara Triage"
    assert SIGNED_IN_AS.search(_queue(tara)).group(1) == "Tara Triage"
    assert "People</a>" in _queue(ada) and "People</a>" not in _queue(tara)
    tara_token, tomas_token = csrf_token_from(tara_page), csrf_token_from(tomas_page)
    assert tara_token not in tomas_page and tomas_token not in tara_page
    assert "csrf-token-slot" not in tara_page

    form = {"report_ids": [str(filed.id)], "assignee": str(cast.owner.id), "route": "1"}
    refused = tara.post("/triage/bulk", data={**form, "csrf_token": tomas_token})
    assert refused.status_code == 400
    done = tara.post("/triage/bulk", data={**form, "csrf_token": tara_token})
    assert done.status_code == 302

    # The message after the change shows once, on the queue itself, then is gone.
    page = _queue(tara)
    assert "Routed 1 to Olivia Owner." in page and "Olivia Owner" in page.split("<tbody>")[1]
    assert "Routed 1 to Olivia Owner." not in _queue(tara)


def test_the_bell_counts_what_arrived_after_the_page_was_cached(app, cast, browser_as):
    triage = browser_as(cast.triage)
    assert "Notifications: 1 unread" not in _queue(triage)
    _change(
        app, lambda: notify(db.session.get(User, cast.triage.id), "test", "A report is overdue")
    )
    assert "Notifications: 1 unread" in _queue(triage)


def test_a_repeated_view_reads_only_the_person_and_the_cache_key(
    app, cast, browser_as, file_report, statements_of
):
    file_report(cast.reporter, cast.agent, summary="Misreads invoice dates")
    triage = browser_as(cast.triage)
    first, ran_first = statements_of(lambda: _queue(triage, "?sort=newest"))
    again, ran_again = statements_of(lambda: _queue(triage, "?sort=newest"))
    assert again == first and "Misreads invoice dates" in again
    # Who is signed in, read with the data's generation token and the bell's count: nothing else.
    assert len(ran_again) == 1 < len(ran_first)


def test_tokens_change_with_committed_changes_only(app, cast, file_report):
    file_report(cast.reporter, cast.agent)
    with app.app_context():
        before = generations.current(QUEUE_AREA)
        assert before is not None

        report = db.session.scalars(sa.select(Report)).one()
        report.summary = "Changed, then rolled back"
        db.session.flush()
        db.session.rollback()
        assert generations.current(QUEUE_AREA) == before

        person = db.session.get(User, cast.reporter.id)
        person.password_changed_at = person.created_at  # not shown in the queue
        db.session.commit()
        assert generations.current(QUEUE_AREA) == before

        report = db.session.scalars(sa.select(Report)).one()
        report.summary = "Changed, and a savepoint after it rolled back"
        db.session.flush()
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        db.session.commit()
        after = generations.current(QUEUE_AREA)
        assert after not in (None, before)


def _autocommit(connection) -> bool:
    raw = connection.connection.dbapi_connection
    return raw.isolation_level is None if connection.dialect.name == "sqlite" else raw.autocommit


def test_a_view_of_the_queue_reads_outside_a_transaction_and_leaves_none_behind(
    app, cast, browser_as, file_report
):
    """A view only reads, so it saves the BEGIN and ROLLBACK; the change made next, on the same
    pooled connection, still runs in one transaction (all of it or none)."""
    filed = file_report(cast.reporter, cast.agent)
    triage = browser_as(cast.triage)
    seen: list[tuple[str, bool]] = []

    def record(connection, *_):
        if has_request_context():
            seen.append((request.method, _autocommit(connection)))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        _queue(triage)  # rendered
        _queue(triage)  # from the cache
        form = {"report_ids": [str(filed.id)], "assignee": str(cast.owner.id), "route": "1"}
        assert triage.post("/triage/bulk", data=form).status_code == 302
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    reads = [autocommit for method, autocommit in seen if method == "GET"]
    writes = [autocommit for method, autocommit in seen if method == "POST"]
    assert reads and all(reads)
    assert writes and not any(writes)
    assert "Olivia Owner" in _queue(triage).split("<tbody>")[1]


def test_a_view_of_the_queue_still_records_when_the_session_was_last_seen(
    app, cast, browser_as, file_report
):
    file_report(cast.reporter, cast.agent, summary="Totals are rounded twice")
    triage = browser_as(cast.triage)
    long_ago = utcnow() - timedelta(hours=1)

    def last_seen():
        with app.app_context():
            return db.session.scalar(
                sa.select(sa.func.max(UserSession.last_seen_at)).where(
                    UserSession.user_id == cast.triage.id
                )
            )

    _change(app, lambda: db.session.execute(sa.update(UserSession).values(last_seen_at=long_ago)))
    assert "Totals are rounded twice" in _queue(triage)
    assert last_seen() > utcnow() - timedelta(minutes=1)
    assert "Totals are rounded twice" in _queue(triage)
