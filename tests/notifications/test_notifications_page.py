"""The notifications page and the bell: one's own notifications, newest first, marked read together."""

from datetime import timedelta

from portal.accounts.models import User
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.notifications import services
from portal.notifications.models import Notification
from tests.conftest import PASSWORD, csrf_token_from, sign_in


def _notify(app, user, title, minutes_ago=0, link="", body=""):
    with app.app_context():
        note = services.notify(
            db.session.get(User, user.id), "test", title, body=body, link=link, email=False
        )
        note.created_at = utcnow() - timedelta(minutes=minutes_ago)
        db.session.commit()


def _unread(app, user) -> int:
    with app.app_context():
        return services.unread_count(db.session.get(User, user.id))


def test_bell_shows_the_unread_count(app, client, login, make_user):
    user = make_user()
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="Notifications"' in page and "bi-bell" in page

    _notify(app, user, "Your report was routed")
    _notify(app, user, "Your report was acted on")
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="Notifications: 2 unread"' in page
    assert "bi-bell-fill" in page


def test_the_bell_is_counted_in_the_statement_that_loads_the_person(
    app, client, login, make_user, statements_of
):
    user = make_user()
    login(user)
    for n in range(5):
        _notify(app, user, f"Note {n}")

    page, statements = statements_of(lambda: client.get("/").get_data(as_text=True))
    assert 'aria-label="Notifications: 5 unread"' in page
    counting = [s for s in statements if "notifications" in s]
    assert len(counting) == 1 and "user_sessions" in counting[0]

    # A form shown again with its errors (a POST) counts on its own, and still shows the bell.
    response = client.post("/account", data={"current_password": "wrong"})
    assert response.status_code == 400
    assert 'aria-label="Notifications: 5 unread"' in response.get_data(as_text=True)


def test_page_lists_only_my_notifications_newest_first(app, client, login, make_user):
    me, other = make_user(), make_user()
    _notify(app, me, "Older news", minutes_ago=60, body="It was <b>routed</b>.")
    _notify(app, me, "Newest news", minutes_ago=1, link="/agents/")
    _notify(app, other, "Someone else's news")
    login(me)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index("Newest news") < page.index("Older news")
    assert "Someone else&#39;s news" not in page and "Someone else's news" not in page
    assert '<a href="/agents/" class="link-body-emphasis">Newest news</a>' in page
    assert "It was &lt;b&gt;routed&lt;/b&gt;." in page  # escaped, never HTML
    assert "2 unread" in page


def test_unsafe_links_are_not_rendered_as_links(app, client, login, make_user):
    me = make_user()
    _notify(app, me, "Odd link", link="javascript:alert(1)")
    _notify(app, me, "Offsite", link="//evil.example/")
    login(me)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "javascript:alert" not in page and "evil.example" not in page
    assert "Odd link" in page and "Offsite" in page


def test_mark_all_read_clears_the_count_for_me_only(app, client, login, make_user):
    me, other = make_user(), make_user()
    _notify(app, me, "One")
    _notify(app, me, "Two")
    _notify(app, other, "Theirs")
    login(me)
    response = client.post("/notifications/read-all")
    assert response.status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert "All notifications are marked as read." in page
    assert "All read" in page and "Mark all read" not in page
    assert _unread(app, me) == 0
    assert _unread(app, other) == 1


def test_mark_all_read_needs_csrf_and_sign_in(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    me = make_user()
    _notify(app, me, "One")
    anonymous = app.test_client()
    assert anonymous.post("/notifications/read-all").status_code == 400  # no CSRF token
    assert _unread(app, me) == 1

    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "email": me.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(login_page),
        },
    )
    assert client.post("/notifications/read-all").status_code == 400
    assert _unread(app, me) == 1
    page = client.get("/notifications/").get_data(as_text=True)
    client.post("/notifications/read-all", data={"csrf_token": csrf_token_from(page)})
    assert _unread(app, me) == 0


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_empty_state_and_pages(app, client, make_user):
    me = make_user()
    sign_in(client, me)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "No notifications yet" in page

    with app.app_context():
        db.session.add_all(
            Notification(user_id=me.id, kind="test", title=f"Note {n:02d}", body="")
            for n in range(35)
        )
        db.session.commit()
    first = client.get("/notifications/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Older" in first
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count("list-group-item") == 5
    for odd in ("?page=0", "?page=abc", "?page=99999999999999999999999"):
        assert client.get(f"/notifications/{odd}").status_code == 200
