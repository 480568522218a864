"""GET /api/v1/notifications: the caller's own notifications, newest first, a page at a time."""

from datetime import timedelta

from portal.accounts.models import User
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.notifications import services


def _notify(app, user, title, minutes_ago=0, link=""):
    with app.app_context():
        note = services.notify(db.session.get(User, user.id), "test", title, link=link, email=False)
        note.created_at = utcnow() - timedelta(minutes=minutes_ago)
        db.session.commit()
        return note.id


def test_caller_sees_own_notifications_newest_first(app, api, make_user):
    me, other = make_user(), make_user()
    _notify(app, me, "Older", minutes_ago=30)
    _notify(app, me, "Newer", minutes_ago=1, link="/agents/")
    _notify(app, other, "Not mine")

    response = api(me).get("/api/v1/notifications")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["title"] for item in body["items"]] == ["Newer", "Older"]
    assert body["total"] == 2 and body["page"] == 1 and body["next"] is None
    newest = body["items"][0]
    assert newest["url"] == "/agents/"
    assert newest["read_at"] is None and newest["kind"] == "test"
    assert body["items"][1]["url"] is None


def test_pages_and_unread_filter(app, api, make_user):
    me = make_user()
    for n in range(7):
        _notify(app, me, f"Note {n}", minutes_ago=n)
    client = api(me)
    first = client.get("/api/v1/notifications?per_page=3").get_json()
    assert [item["title"] for item in first["items"]] == ["Note 0", "Note 1", "Note 2"]
    assert first["total"] == 7
    assert first["next"] == "/api/v1/notifications?per_page=3&page=2"
    last = client.get("/api/v1/notifications?per_page=3&page=3").get_json()
    assert [item["title"] for item in last["items"]] == ["Note 6"] and last["next"] is None

    with app.app_context():
        services.mark_all_read(db.session.get(User, me.id))
        db.session.commit()
    _notify(app, me, "Fresh")
    unread = client.get("/api/v1/notifications?unread=true").get_json()
    assert [item["title"] for item in unread["items"]] == ["Fresh"]


def test_bad_paging_parameters_are_422_with_the_field(api, make_user):
    client = api(make_user())
    for query, field in (
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999999999", "page"),
        ("per_page=1000", "per_page"),
        ("unread=maybe", "unread"),
    ):
        response = client.get(f"/api/v1/notifications?{query}")
        assert response.status_code == 422, query
        assert field in response.get_json()["fields"], query


def test_notifications_need_a_token(client):
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401 and response.is_json
