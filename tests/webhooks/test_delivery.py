"""Events written with the change, delivered signed by the sweep to a real receiver on loopback,
retried with backoff, and an endpoint that keeps failing paused until an admin resumes it."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.feedback import services as feedback
from portal.feedback.models import ActionKind
from portal.governance import services as governance
from portal.governance.models import FiguresSource
from portal.notifications.models import Notification
from portal.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent


def _file(app, reporter, agent, *, confidential=False, summary="Wrong refund amount") -> int:
    with app.app_context():
        report = feedback.file_report(
            db.session.get(User, reporter.id),
            feedback.ReportInput(
                agent=db.session.get(Agent, agent.id),
                category=ReportCategory.WRONG_OUTPUT,
                summary=summary,
                confidential=confidential,
            ),
        )
        db.session.commit()
        return report.id


def test_a_filed_report_reaches_the_receiver_signed_without_the_reporter(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    reporter = make_user(name="Carla Confidential", email="carla@example.com")
    agent = make_agent("claims-triage", name="Claims Triage")
    make_endpoint(admin, receiver.url, ["report.created"])
    report_id = _file(app, reporter, agent, confidential=True)

    assert deliver() == 1
    [got] = receiver.received
    assert got.signature_ok
    envelope = got.json
    assert envelope["type"] == "report.created"
    assert got.headers["X-Portal-Event"] == "report.created"
    assert got.headers["X-Portal-Event-Id"] == envelope["id"]
    assert got.headers["X-Portal-Timestamp"] == str(envelope["timestamp"])
    report = envelope["data"]["report"]
    assert report["id"] == report_id
    assert report["agent"]["slug"] == "claims-triage"
    assert report["url"] == f"http://portal.test/reports/{report_id}"
    assert report["status"]["id"] == "new"
    text = got.body.decode()
    assert "Carla" not in text and "carla@example.com" not in text
    assert "Wrong refund amount" not in text
    assert deliver() == 0  # delivered once; nothing is sent again


def test_an_event_is_written_only_if_the_change_commits(app, make_user, make_agent, make_endpoint):
    admin = make_user("admin")
    reporter = make_user()
    agent = make_agent()
    make_endpoint(admin, "http://127.0.0.1:9/never", ["report.created"])
    with app.app_context():
        feedback.file_report(
            db.session.get(User, reporter.id),
            feedback.ReportInput(
                agent=db.session.get(Agent, agent.id),
                category=ReportCategory.CONCERN,
                summary="Rolled back",
            ),
        )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
    _file(app, reporter, agent)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1


def test_the_whole_loop_sends_routed_acted_on_and_reopened(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    owner = make_user("owner")
    reporter = make_user()
    agent = make_agent(owner=owner)
    make_endpoint(admin, receiver.url, ["report.routed", "report.acted_on", "report.reopened"])
    report_id = _file(app, reporter, agent)
    with app.app_context():
        report = feedback.get_visible_report(report_id, db.session.get(User, admin.id))
        feedback.route_report(
            report, db.session.get(User, owner.id), db.session.get(User, admin.id)
        )
        feedback.mark_acted_on(
            report, ActionKind.AGENT_FIXED, "Fixed the rounding.", db.session.get(User, owner.id)
        )
        feedback.confirm_fix(report, False, "Still wrong", db.session.get(User, reporter.id))
        db.session.commit()

    assert deliver() == 3
    assert [r.json["type"] for r in receiver.received] == [
        "report.routed",
        "report.acted_on",
        "report.reopened",
    ]
    assert all(r.signature_ok for r in receiver.received)
    assert receiver.received[1].json["data"]["report"]["action_kind"]["id"] == "agent_fixed"
    assert receiver.received[2].json["data"]["report"]["status"]["id"] == "reopened"


def test_a_replayed_delivery_is_rejected_by_a_receiver_that_checks_ids(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    make_endpoint(admin, receiver.url, ["report.created"])
    _file(app, make_user(), make_agent())
    deliver()
    original = receiver.received[0]
    assert receiver.accept(original.headers, original.body) == 409
    tampered = original.body.replace(b'"new"', b'"closed"')
    assert receiver.accept(original.headers, tampered) == 401


def test_figures_past_a_threshold_send_threshold_breached(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    owner = make_user("owner")
    agent = make_agent(owner=owner, quality_min_pct=Decimal("95"))
    make_endpoint(admin, receiver.url, ["threshold.breached"])
    today = utcnow().date()
    start = date(today.year, today.month, 1) - timedelta(days=40)
    with app.app_context():
        governance.record_figures(
            db.session.get(Agent, agent.id),
            governance.FiguresInput(start, start + timedelta(days=6), 1000, "90", None),
            db.session.get(User, owner.id),
            FiguresSource.FORM,
        )
        db.session.commit()
    assert deliver() == 1
    data = receiver.received[0].json["data"]
    assert data["threshold"]["name"] == "quality_min_pct"
    assert data["threshold"]["value"] == "95"
    assert data["measured"] == "90"


def test_a_closed_survey_round_sends_survey_closed(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    from portal.surveys import services as surveys
    from portal.surveys.models import Cadence

    admin = make_user("admin")
    agent = make_agent(name="Invoice Matcher")
    make_endpoint(admin, receiver.url, ["survey.closed"])
    with app.app_context():
        today = utcnow().date()
        settings = surveys.CampaignSettings(
            name="Monthly pulse",
            description="",
            agents=[db.session.get(Agent, agent.id)],
            is_for_everyone=True,
            teams=[],
            roles=set(),
            cadence=Cadence.ONCE,
            opens_on=today,
            closes_on=today + timedelta(days=7),
            anonymity_threshold=5,
        )
        campaign = surveys.create_campaign(settings, db.session.get(User, admin.id), today)
        survey_round = surveys.launch_campaign(campaign, utcnow())
        surveys.close_round(survey_round, utcnow())
        db.session.commit()
    assert deliver() == 1
    survey = receiver.received[0].json["data"]["survey"]
    assert survey["campaign"]["name"] == "Monthly pulse"
    assert survey["agents"] == [{"slug": agent.slug, "name": "Invoice Matcher"}]


def test_a_failing_receiver_is_retried_with_backoff_then_paused_and_resumed(
    app, client, login, make_user, make_agent, make_endpoint, receiver, deliver
):
    app.config.update(WEBHOOK_PAUSE_AFTER_FAILURES=3, WEBHOOK_RETRY_BASE_SECONDS=60)
    admin = make_user("admin", name="Ada Admin")
    endpoint_id = make_endpoint(admin, receiver.url, ["report.created"], name="Flaky bot")
    receiver.status = 500
    _file(app, make_user(), make_agent())
    start = utcnow()

    assert deliver(start) == 0
    assert deliver(start + timedelta(seconds=30)) == 0  # not due yet: the first pause is 60 s
    assert len(receiver.received) == 1
    assert deliver(start + timedelta(seconds=61)) == 0
    with app.app_context():
        delivery = db.session.scalar(sa.select(WebhookDelivery))
        assert delivery.attempts == 2
        wait = delivery.next_attempt_at - (start + timedelta(seconds=61))
        assert timedelta(seconds=119) <= wait <= timedelta(seconds=121)  # doubled
    deliver(start + timedelta(seconds=200))
    assert len(receiver.received) == 3
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.is_paused
        assert "3 failed deliveries in a row" in endpoint.pause_reason
        titles = db.session.scalars(sa.select(Notification.title)).all()
        assert "Webhook endpoint Flaky bot is paused" in titles
    assert deliver(start + timedelta(days=1)) == 0
    assert len(receiver.received) == 3  # paused: nothing more is sent

    login(admin)
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "Flaky bot" in listing and "Paused" in listing
    page = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "Resume deliveries" in page
    assert page.count(">500</span>") == 3  # three attempts in the log, each answered 500
    assert "#3" in page

    receiver.status = 200
    response = client.post(f"/admin/webhooks/{endpoint_id}/resume", follow_redirects=True)
    assert "active again" in response.get_data(as_text=True)
    assert deliver() == 1
    assert receiver.received[-1].signature_ok
    with app.app_context():
        delivery = db.session.scalar(sa.select(WebhookDelivery))
        assert delivery.status is DeliveryStatus.DELIVERED
        assert delivery.attempts == 4
        assert db.session.get(WebhookEndpoint, endpoint_id).consecutive_failures == 0
    assert client.post(f"/admin/webhooks/{endpoint_id}/resume").status_code == 409


def test_an_unreachable_receiver_is_logged_and_redirects_are_not_followed(
    app, client, login, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    down = make_endpoint(admin, "http://127.0.0.1:9/nothing-listens", ["report.created"])
    receiver.status = 302
    moved = make_endpoint(admin, receiver.url, ["report.created"], name="Moved")
    _file(app, make_user(), make_agent())
    assert deliver() == 0
    login(admin)
    assert "Could not deliver" in client.get(f"/admin/webhooks/{down}").get_data(as_text=True)
    assert "redirects are not followed" in client.get(f"/admin/webhooks/{moved}").get_data(
        as_text=True
    )


def test_two_sweeps_at_once_send_each_event_once(
    app, make_user, make_agent, make_endpoint, receiver, deliver
):
    admin = make_user("admin")
    make_endpoint(admin, receiver.url, ["report.created"])
    agent = make_agent()
    reporter = make_user()
    for n in range(4):
        _file(app, reporter, agent, summary=f"Problem number {n}")
    receiver.delay = 0.2
    results = []
    threads = [threading.Thread(target=lambda: results.append(deliver())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 4
    assert len(receiver.received) == 4
    assert len({r.json["id"] for r in receiver.received}) == 4
