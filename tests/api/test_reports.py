"""Reports through the API: file, read, list, route, act, confirm — with the pages' rules."""

import threading
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.core.db import db
from portal.feedback.models import Report
from portal.notifications.models import Notification

NEW_REPORT = {
    "agent": "support-bot",
    "category": "wrong_output",
    "summary": "Quoted the old refund policy",
    "severity": "high",
    "details": "It said 14 days.\nThe policy is 30 days.",
    "expected": "The 30-day policy",
    "run_ref": "run-8841",
}


@dataclass
class Cast:
    reporter: object
    other_reporter: object
    triage: object
    admin: object
    owner: object  # technical owner of support-bot
    other_owner: object  # owns another agent only


@pytest.fixture
def cast(make_user, make_agent) -> Cast:
    people = Cast(
        reporter=make_user(email="rosa@example.com", name="Rosa Reporter"),
        other_reporter=make_user(email="li@example.com", name="Li Wei"),
        triage=make_user("triage", email="tomas@example.com", name="Tomas Triage"),
        admin=make_user("admin", email="ada@example.com", name="Ada Admin"),
        owner=make_user("owner", email="theo@example.com", name="Theo Tech"),
        other_owner=make_user("owner", email="priya@example.com", name="Priya Owner"),
    )
    make_agent("support-bot", owner=people.owner, name="Support Bot")
    make_agent("invoice-bot", owner=people.other_owner, name="Invoice Bot")
    return people


def _reports(app) -> list[Report]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Report).order_by(Report.id)))
        for row in rows:
            _ = row.agent
        db.session.expunge_all()
        return rows


def _file(client, body=None, **headers) -> int:
    response = client.post("/api/v1/reports", json=body or NEW_REPORT, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_reporter_files_a_report(app, api, cast):
    response = api(cast.reporter).post("/api/v1/reports", json=NEW_REPORT)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"]["id"] == "new"
    assert body["url"] == f"/reports/{body['id']}"
    assert response.headers["Location"] == f"/api/v1/reports/{body['id']}"
    assert body["severity"]["id"] == "high" and body["category"]["id"] == "wrong_output"
    assert body["details"] == NEW_REPORT["details"]
    [report] = _reports(app)
    assert report.id == body["id"] and report.reporter_id == cast.reporter.id
    assert report.summary == "Quoted the old refund policy" and report.run_ref == "run-8841"
    assert report.agent.slug == "support-bot" and not report.is_confidential


def test_idempotency_key_makes_a_retry_return_the_same_report(app, api, cast):
    client = api(cast.reporter)
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = client.post("/api/v1/reports", json=NEW_REPORT, headers=headers)
    again = client.post("/api/v1/reports", json=NEW_REPORT, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(_reports(app)) == 1

    # The same key with a different report is a conflict, not a silent replay.
    changed = client.post(
        "/api/v1/reports", json={**NEW_REPORT, "summary": "Something else"}, headers=headers
    )
    assert changed.status_code == 409
    assert "Idempotency-Key" in changed.get_json()["fields"]

    # Keys belong to the caller: another person using the same key files their own report.
    theirs = api(cast.other_reporter).post("/api/v1/reports", json=NEW_REPORT, headers=headers)
    assert theirs.status_code == 201
    assert theirs.get_json()["id"] != first.get_json()["id"]
    assert len(_reports(app)) == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "naïve-key", "two words"])
def test_odd_idempotency_keys_are_refused(app, api, cast, key):
    response = api(cast.reporter).post(
        "/api/v1/reports", json=NEW_REPORT, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["fields"]
    assert _reports(app) == []


BAD_REPORTS = [
    ("unknown agent", {**NEW_REPORT, "agent": "no-such-bot"}, "agent"),
    ("agent with NUL", {**NEW_REPORT, "agent": "support\u0000bot"}, "agent"),
    ("unknown category", {**NEW_REPORT, "category": "weather"}, "category"),
    ("unknown severity", {**NEW_REPORT, "severity": "apocalyptic"}, "severity"),
    ("empty summary", {**NEW_REPORT, "summary": "   "}, "summary"),
    ("summary too long", {**NEW_REPORT, "summary": "s" * 201}, "summary"),
    ("summary as number", {**NEW_REPORT, "summary": 12}, "summary"),
    ("missing summary", {k: v for k, v in NEW_REPORT.items() if k != "summary"}, "summary"),
    ("summary with line break", {**NEW_REPORT, "summary": "one\ntwo"}, "summary"),
    ("NUL in details", {**NEW_REPORT, "details": "bad\u0000byte"}, "details"),
    ("details as list", {**NEW_REPORT, "details": ["a"]}, "details"),
    ("confidential as text", {**NEW_REPORT, "confidential": "yes"}, "confidential"),
    ("confidential as number", {**NEW_REPORT, "confidential": 1}, "confidential"),
    ("unknown field", {**NEW_REPORT, "reporter": "someone@example.com"}, "reporter"),
    ("time in the future", {**NEW_REPORT, "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ("time not a time", {**NEW_REPORT, "occurred_at": "last tuesday"}, "occurred_at"),
    ("huge run ref", {**NEW_REPORT, "run_ref": "r" * 5000}, "run_ref"),
]


@pytest.mark.parametrize(
    ("body", "field"), [case[1:] for case in BAD_REPORTS], ids=[case[0] for case in BAD_REPORTS]
)
def test_bad_reports_name_the_field_and_save_nothing(app, api, cast, body, field):
    response = api(cast.reporter).post("/api/v1/reports", json=body)
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert field in answer["fields"], answer
    assert answer["error"]
    assert _reports(app) == []


@pytest.mark.parametrize(
    "raw",
    [b"{", b"null", b'"a string"', b'{"summary": "\xc3\x28"}', b'{"summary": "\\udc00"}'],
)
def test_unreadable_report_bodies_are_400(app, api, cast, raw):
    response = api(cast.reporter).post(
        "/api/v1/reports", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert _reports(app) == []


def test_who_may_read_a_report(api, cast):
    report_id = _file(api(cast.reporter))
    assert api(cast.reporter).get(f"/api/v1/reports/{report_id}").status_code == 200
    assert api(cast.triage).get(f"/api/v1/reports/{report_id}").status_code == 200
    assert api(cast.owner).get(f"/api/v1/reports/{report_id}").status_code == 200  # agent's owner
    for who in (cast.other_reporter, cast.other_owner):
        response = api(who).get(f"/api/v1/reports/{report_id}")
        assert response.status_code == 404
        assert response.get_json() == {"error": "Report not found.", "fields": {}}
    for missing in (report_id + 1000, 99999999999999999999999):
        assert api(cast.triage).get(f"/api/v1/reports/{missing}").status_code == 404


def test_confidential_reporter_is_hidden_from_everyone_but_admins(api, cast):
    report_id = _file(api(cast.reporter), {**NEW_REPORT, "confidential": True})
    for who in (cast.triage, cast.owner):
        text = api(who).get(f"/api/v1/reports/{report_id}").get_data(as_text=True)
        assert "Rosa" not in text and "rosa@example.com" not in text
        listing = api(who).get("/api/v1/reports").get_data(as_text=True)
        assert "Rosa" not in listing and "rosa@example.com" not in listing
    admin_view = api(cast.admin).get(f"/api/v1/reports/{report_id}").get_json()
    assert admin_view["reporter"]["email"] == "rosa@example.com"
    own_view = api(cast.reporter).get(f"/api/v1/reports/{report_id}").get_json()
    assert own_view["confidential"] is True and own_view["is_mine"] is True


def test_list_shows_only_what_the_caller_may_see_with_filters_and_pages(api, cast):
    mine = api(cast.reporter)
    theirs = api(cast.other_reporter)
    for n in range(3):
        _file(mine, {**NEW_REPORT, "summary": f"Mine {n}"})
    _file(theirs, {**NEW_REPORT, "agent": "invoice-bot", "summary": "Theirs"})

    body = mine.get("/api/v1/reports").get_json()
    assert body["total"] == 3
    assert [item["summary"] for item in body["items"]] == ["Mine 2", "Mine 1", "Mine 0"]

    everything = api(cast.triage).get("/api/v1/reports?per_page=2").get_json()
    assert everything["total"] == 4 and len(everything["items"]) == 2
    assert everything["next"] == "/api/v1/reports?per_page=2&page=2"
    page_two = api(cast.triage).get(everything["next"]).get_json()
    assert len(page_two["items"]) == 2 and page_two["next"] is None

    by_agent = api(cast.triage).get("/api/v1/reports?agent=invoice-bot").get_json()
    assert [item["summary"] for item in by_agent["items"]] == ["Theirs"]
    by_status = api(cast.triage).get("/api/v1/reports?status=routed").get_json()
    assert by_status["total"] == 0
    owner_view = api(cast.other_owner).get("/api/v1/reports").get_json()
    assert [item["summary"] for item in owner_view["items"]] == ["Theirs"]

    for query, field in (("agent=nope", "agent"), ("status=done", "status"), ("page=-1", "page")):
        response = api(cast.triage).get(f"/api/v1/reports?{query}")
        assert response.status_code == 422 and field in response.get_json()["fields"]


def test_the_whole_loop_through_the_api(app, api, cast):
    reporter, triage, owner = api(cast.reporter), api(cast.triage), api(cast.owner)
    report_id = _file(reporter)

    routed = triage.post(
        f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"}
    )
    assert routed.status_code == 200, routed.get_json()
    assert routed.get_json()["status"]["id"] == "routed"
    assert routed.get_json()["assignee"]["name"] == "Theo Tech"
    owner_notes = owner.get("/api/v1/notifications").get_json()["items"]
    assert any(f"Report #{report_id}" in note["title"] for note in owner_notes)

    acted = owner.post(
        f"/api/v1/reports/{report_id}/act",
        json={"action_kind": "config_change", "note": "The prompt now cites the 30-day policy."},
    )
    assert acted.status_code == 200, acted.get_json()
    assert acted.get_json()["status"]["id"] == "acted_on"
    assert acted.get_json()["action"]["kind"]["id"] == "config_change"

    seen = reporter.get(f"/api/v1/reports/{report_id}").get_json()
    assert seen["action"]["note"] == "The prompt now cites the 30-day policy."
    reporter_notes = reporter.get("/api/v1/notifications").get_json()["items"]
    assert any("was acted on" in note["title"] for note in reporter_notes)

    confirmed = reporter.post(
        f"/api/v1/reports/{report_id}/confirm", json={"fixed": True, "comment": "Works now."}
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert body["status"]["id"] == "closed"
    assert body["confirmation"]["fixed"] is True
    timeline = [entry["status"] for entry in body["timeline"] if entry["status"]]
    assert timeline == ["routed", "acted_on", "closed"]
    [report] = _reports(app)
    assert report.status.value == "closed" and report.reporter_notified_at is not None


def test_not_fixed_reopens_for_the_owner(app, api, cast):
    reporter, triage, owner = api(cast.reporter), api(cast.triage), api(cast.owner)
    report_id = _file(reporter)
    triage.post(f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"})
    owner.post(
        f"/api/v1/reports/{report_id}/act", json={"action_kind": "data_fix", "note": "Fixed."}
    )
    response = reporter.post(
        f"/api/v1/reports/{report_id}/confirm", json={"fixed": False, "comment": "Still wrong."}
    )
    assert response.status_code == 200
    assert response.get_json()["status"]["id"] == "reopened"
    with app.app_context():
        titles = db.session.scalars(
            sa.select(Notification.title).where(Notification.user_id == cast.owner.id)
        ).all()
    assert any("reopened" in title for title in titles)


def test_reporters_and_owners_cannot_route(app, api, cast):
    report_id = _file(api(cast.reporter))
    for who in (cast.reporter, cast.owner, cast.other_reporter):
        response = api(who).post(
            f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"}
        )
        assert response.status_code == 403, who
        assert response.is_json
    assert _reports(app)[0].status.value == "new"


def test_reporter_cannot_act_and_strangers_do_not_see_the_report(app, api, cast):
    report_id = _file(api(cast.reporter))
    api(cast.triage).post(
        f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"}
    )
    body = {"action_kind": "agent_fixed", "note": "Done."}
    mine = api(cast.reporter).post(f"/api/v1/reports/{report_id}/act", json=body)
    assert mine.status_code == 403
    for stranger in (cast.other_reporter, cast.other_owner):
        response = api(stranger).post(f"/api/v1/reports/{report_id}/act", json=body)
        assert response.status_code == 404
    assert _reports(app)[0].status.value == "routed"


def test_only_the_reporter_confirms(app, api, cast):
    report_id = _file(api(cast.reporter))
    api(cast.triage).post(
        f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"}
    )
    api(cast.owner).post(
        f"/api/v1/reports/{report_id}/act", json={"action_kind": "no_change", "note": "Explained."}
    )
    response = api(cast.triage).post(f"/api/v1/reports/{report_id}/confirm", json={"fixed": True})
    assert response.status_code == 403
    response = api(cast.other_reporter).post(
        f"/api/v1/reports/{report_id}/confirm", json={"fixed": True}
    )
    assert response.status_code == 404
    assert _reports(app)[0].status.value == "acted_on"


def test_state_and_input_refusals_on_route_act_and_confirm(app, api, cast):
    reporter, triage = api(cast.reporter), api(cast.triage)
    report_id = _file(reporter)
    url = f"/api/v1/reports/{report_id}"

    def refused(client, action, body, status, field=None):
        response = client.post(f"{url}/{action}", json=body)
        assert response.status_code == status, (action, body, response.get_json())
        answer = response.get_json()
        assert answer["error"]
        if field:
            assert field in answer["fields"], (action, body, answer)

    refused(triage, "route", {"assignee": "ghost@example.com"}, 422, "assignee")
    refused(triage, "route", {"assignee": "li@example.com"}, 422, "assignee")  # not an owner
    refused(triage, "route", {}, 422, "assignee")
    refused(triage, "route", {"assignee": "theo@example.com", "version": 10**12}, 422, "version")
    refused(triage, "route", {"assignee": "theo@example.com", "version": 99}, 409, "version")
    # New: not routed yet, so there is nothing to act on; nor anything to confirm.
    refused(triage, "act", {"action_kind": "data_fix", "note": "Done."}, 409)
    refused(reporter, "confirm", {"fixed": True}, 409)
    [report] = _reports(app)
    assert report.status.value == "new" and report.assignee_id is None

    assert triage.post(f"{url}/route", json={"assignee": "theo@example.com"}).status_code == 200
    refused(triage, "route", {"assignee": "theo@example.com"}, 409, "assignee")  # already there
    refused(triage, "act", {"action_kind": "magic", "note": "x"}, 422, "action_kind")
    refused(triage, "act", {"action_kind": "data_fix", "note": "  "}, 422, "note")
    refused(triage, "act", {"action_kind": "data_fix"}, 422, "note")
    refused(triage, "act", {"action_kind": "data_fix", "note": "n" * 30_000}, 422, "note")
    refused(reporter, "confirm", {"fixed": "yes"}, 422, "fixed")
    refused(reporter, "confirm", {}, 422, "fixed")
    [report] = _reports(app)
    assert report.status.value == "routed" and report.action_note == ""


def test_a_stale_version_is_a_conflict_and_changes_nothing(app, api, cast):
    reporter, triage, owner = api(cast.reporter), api(cast.triage), api(cast.owner)
    report_id = _file(reporter)
    read = owner.get(f"/api/v1/reports/{report_id}").get_json()
    triage.post(f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"})

    # The owner acts on what they read before it was routed: told it changed, nothing saved.
    response = owner.post(
        f"/api/v1/reports/{report_id}/act",
        json={"action_kind": "data_fix", "note": "Fixed the feed.", "version": read["version"]},
    )
    assert response.status_code == 409
    assert "changed since you opened it" in response.get_json()["error"]
    assert _reports(app)[0].status.value == "routed"

    fresh = owner.get(f"/api/v1/reports/{report_id}").get_json()
    retry = owner.post(
        f"/api/v1/reports/{report_id}/act",
        json={"action_kind": "data_fix", "note": "Fixed the feed.", "version": fresh["version"]},
    )
    assert retry.status_code == 200


def test_two_people_acting_at_once_one_wins_and_the_other_is_told(app, api, cast):
    reporter, triage = api(cast.reporter), api(cast.triage)
    report_id = _file(reporter)
    triage.post(f"/api/v1/reports/{report_id}/route", json={"assignee": "theo@example.com"})
    version = triage.get(f"/api/v1/reports/{report_id}").get_json()["version"]
    clients = {"triage": triage, "owner": api(cast.owner)}
    barrier = threading.Barrier(len(clients))
    answers = {}

    def act(name: str) -> None:
        barrier.wait()
        answers[name] = clients[name].post(
            f"/api/v1/reports/{report_id}/act",
            json={"action_kind": "data_fix", "note": f"Fixed by {name}.", "version": version},
        )

    threads = [threading.Thread(target=act, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [200, 409], {k: v.get_json() for k, v in answers.items()}
    winner = next(name for name, answer in answers.items() if answer.status_code == 200)
    [report] = _reports(app)
    assert report.status.value == "acted_on"
    assert report.action_note == f"Fixed by {winner}."
