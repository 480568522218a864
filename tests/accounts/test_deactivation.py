"""Deactivating and reactivating people, and the rules that keep the portal administrable."""

import threading
import time

import pytest

from portal.accounts import services
from portal.core.db import db
from tests.conftest import PASSWORD, sign_in


def test_deactivated_person_is_signed_out_everywhere_and_cannot_sign_in(
    app, admin_client, make_user, stored_user
):
    person = make_user("triage", name="Tomas", email="tomas@example.com")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, person)
    sign_in(phone, person)
    assert laptop.get("/").status_code == 200

    response = admin_client.post(f"/admin/users/{person.id}/deactivate")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tomas is deactivated and signed out everywhere." in page
    assert "Reactivate" in page

    for browser in (laptop, phone):
        gone = browser.get("/")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    refused = sign_in(app.test_client(), person)
    assert refused.status_code == 400
    assert "do not match an active account" in refused.get_data(as_text=True)
    assert stored_user("tomas@example.com").deactivated_at is not None

    listed = admin_client.get("/admin/users?status=deactivated").get_data(as_text=True)
    assert "Tomas" in listed


def test_reactivated_person_signs_in_again(app, admin_client, make_user, stored_user):
    person = make_user(email="back@example.com", name="Back Again")
    admin_client.post(f"/admin/users/{person.id}/deactivate")
    response = admin_client.post(f"/admin/users/{person.id}/reactivate")
    assert response.status_code == 302
    assert "Back Again is active again" in admin_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert stored_user("back@example.com").is_active_account
    assert sign_in(app.test_client(), person).status_code == 302


def test_admin_cannot_deactivate_themself(admin_client, admin, stored_user):
    page = admin_client.get(f"/admin/users/{admin.id}/edit").get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    response = admin_client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert stored_user(admin.email).is_active_account
    assert admin_client.get("/").status_code == 200


def test_deactivating_twice_or_reactivating_an_active_person_is_refused(admin_client, make_user):
    person = make_user(name="Sam")
    assert admin_client.post(f"/admin/users/{person.id}/reactivate").status_code == 400
    assert admin_client.post(f"/admin/users/{person.id}/deactivate").status_code == 302
    again = admin_client.post(f"/admin/users/{person.id}/deactivate")
    assert again.status_code == 400
    assert "Sam is already deactivated." in again.get_data(as_text=True)


def test_the_last_active_admin_keeps_the_admin_role(admin_client, admin, role_names):
    response = admin_client.post(
        f"/admin/users/{admin.id}/edit",
        data={"email": admin.email, "name": admin.name, "team": "", "roles": ["manager"]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ada Admin is the last active administrator." in html
    assert role_names(admin.email) == {"admin"}


def test_a_second_admin_may_be_demoted_while_another_stays(admin_client, make_user, role_names):
    other = make_user("admin", email="second-admin@example.com", name="Second Admin")
    response = admin_client.post(
        f"/admin/users/{other.id}/edit",
        data={"email": other.email, "name": other.name, "team": "", "roles": ["owner"]},
    )
    assert response.status_code == 302
    assert role_names(other.email) == {"owner"}


def test_the_last_active_admin_cannot_be_deactivated(app, make_user):
    """Through the service (the page already refuses self-deactivation): the rule itself."""
    only_admin = make_user("admin", email="only@example.com")
    inactive_admin = make_user("admin", email="inactive@example.com")
    with app.app_context():
        keeper = services.get_user(only_admin.id)
        retired = services.get_user(inactive_admin.id)
        services.deactivate_user(retired, by=keeper)
        db.session.commit()
        someone = services.get_user(make_user("triage").id)
        with pytest.raises(services.AccountError, match="last active administrator"):
            services.deactivate_user(keeper, by=someone)
        db.session.rollback()
        assert services.get_user(only_admin.id).is_active_account


def test_an_admin_can_deactivate_another_admin_while_one_remains(
    admin_client, make_user, stored_user
):
    other = make_user("admin", email="other@example.com")
    assert admin_client.post(f"/admin/users/{other.id}/deactivate").status_code == 302
    assert not stored_user("other@example.com").is_active_account


def test_deactivated_admin_does_not_count_as_the_remaining_admin(
    app, admin_client, admin, make_user, role_names
):
    other = make_user("admin", email="other-admin@example.com")
    admin_client.post(f"/admin/users/{other.id}/deactivate")
    response = admin_client.post(
        f"/admin/users/{admin.id}/edit",
        data={"email": admin.email, "name": admin.name, "team": "", "roles": []},
    )
    assert response.status_code == 400
    assert role_names(admin.email) == {"admin"}


def test_password_still_works_after_reactivation(app, admin_client, make_user):
    person = make_user(email="pw@example.com")
    admin_client.post(f"/admin/users/{person.id}/deactivate")
    assert sign_in(app.test_client(), "pw@example.com", PASSWORD).status_code == 400
    admin_client.post(f"/admin/users/{person.id}/reactivate")
    assert sign_in(app.test_client(), "pw@example.com", PASSWORD).status_code == 302


def test_two_admins_deactivating_each_other_at_once_leave_one_active(app, make_user):
    """PostgreSQL: the admins' rows are locked, so the second deactivation sees the first."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks need PostgreSQL; SQLite is the single-machine default")
    first = make_user("admin", email="first@example.com")
    second = make_user("admin", email="second@example.com")
    flushed = threading.Event()
    outcome: dict[str, str] = {}

    def first_deactivates_second():
        with app.app_context():
            services.deactivate_user(services.get_user(second.id), by=services.get_user(first.id))
            flushed.set()
            time.sleep(0.5)  # hold the transaction open while the other admin tries
            db.session.commit()
            outcome["first"] = "done"

    def second_deactivates_first():
        flushed.wait(5)
        with app.app_context():
            try:
                services.deactivate_user(
                    services.get_user(first.id), by=services.get_user(second.id)
                )
                db.session.commit()
                outcome["second"] = "done"
            except services.AccountError as exc:
                db.session.rollback()
                outcome["second"] = str(exc)

    threads = [
        threading.Thread(target=first_deactivates_second),
        threading.Thread(target=second_deactivates_first),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcome["first"] == "done"
    assert "last active administrator" in outcome["second"]
    with app.app_context():
        assert services.active_admin_ids() == [first.id]
