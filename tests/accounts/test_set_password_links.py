"""Set-password links: sent by an admin, work once, expire after 72 hours, older ones stop working."""

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import SetPasswordLink, User
from portal.core.db import db
from portal.core.timeutil import utcnow
from tests.accounts.conftest import link_count, link_paths
from tests.conftest import sign_in

NEW_PASSWORD = "my-chosen-passphrase"


def _add_person(admin_client, email="newcomer@example.com", name="Newcomer") -> str:
    response = admin_client.post("/admin/users/new", data={"email": email, "name": name})
    assert response.status_code == 200
    [path] = link_paths(response.get_data(as_text=True))
    return path


def _choose(browser, path, password=NEW_PASSWORD):
    return browser.post(path, data={"new_password": password, "confirm": password})


def test_link_works_once(app, admin_client):
    path = _add_person(admin_client)
    first = app.test_client()
    assert _choose(first, path).status_code == 302
    assert first.get("/").status_code == 200
    assert sign_in(app.test_client(), "newcomer@example.com", NEW_PASSWORD).status_code == 302

    again = app.test_client().get(path)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)
    reused = _choose(app.test_client(), path, "someone-elses-passphrase")
    assert reused.status_code == 404
    assert sign_in(app.test_client(), "newcomer@example.com", NEW_PASSWORD).status_code == 302


def test_link_expires_after_72_hours(app, admin_client):
    path = _add_person(admin_client)
    with app.app_context():
        link = db.session.scalar(
            sa.select(SetPasswordLink).join(User, SetPasswordLink.user_id == User.id)
        )
        issued_for = link.expires_at - link.created_at
        assert timedelta(hours=71, minutes=59) < issued_for <= timedelta(hours=72)
        # 72 hours and a minute later:
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    expired = app.test_client().get(path)
    assert expired.status_code == 404
    assert "This link no longer works" in expired.get_data(as_text=True)
    assert _choose(app.test_client(), path).status_code == 404


def test_link_still_works_just_before_expiry(app, admin_client):
    path = _add_person(admin_client)
    with app.app_context():
        link = db.session.scalar(sa.select(SetPasswordLink))
        link.expires_at = utcnow() + timedelta(minutes=1)
        db.session.commit()
    assert app.test_client().get(path).status_code == 200


def test_new_link_from_the_admin_replaces_the_old_one(app, admin_client, stored_user):
    old_path = _add_person(admin_client)
    person = stored_user("newcomer@example.com")
    page = admin_client.get(f"/admin/users/{person.id}/edit").get_data(as_text=True)
    assert "Send a new set-password link" in page and "Open until" in page

    response = admin_client.post(f"/admin/users/{person.id}/set-password-link")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "New set-password link for Newcomer" in html
    assert "Earlier links for Newcomer no longer work." in html
    assert response.headers["Cache-Control"] == "no-store"
    [new_path] = link_paths(html)
    assert new_path != old_path
    assert link_count(app, "newcomer@example.com") == 2

    assert app.test_client().get(old_path).status_code == 404
    assert _choose(app.test_client(), new_path).status_code == 302


def test_reset_link_for_someone_with_a_password_signs_out_their_browsers(
    app, admin_client, make_user
):
    person = make_user(email="forgetful@example.com")
    browser = app.test_client()
    sign_in(browser, person)
    response = admin_client.post(f"/admin/users/{person.id}/set-password-link")
    [path] = link_paths(response.get_data(as_text=True))
    assert _choose(app.test_client(), path).status_code == 302
    assert browser.get("/").status_code == 302
    assert sign_in(app.test_client(), person).status_code == 400  # the old password is gone
    assert sign_in(app.test_client(), person, NEW_PASSWORD).status_code == 302


def test_deactivated_person_gets_no_link_and_their_open_link_stops(app, admin_client, stored_user):
    path = _add_person(admin_client)
    person = stored_user("newcomer@example.com")
    admin_client.post(f"/admin/users/{person.id}/deactivate")
    assert app.test_client().get(path).status_code == 404
    refused = admin_client.post(f"/admin/users/{person.id}/set-password-link")
    assert refused.status_code == 400
    assert "Reactivate the account before sending a link." in refused.get_data(as_text=True)
    assert link_count(app, "newcomer@example.com") == 1


def test_short_password_on_the_link_page_keeps_the_link_usable(app, admin_client):
    path = _add_person(admin_client)
    browser = app.test_client()
    short = _choose(browser, path, "short")
    assert short.status_code == 400
    assert _choose(browser, path).status_code == 302
