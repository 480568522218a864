"""Admins list, find, add and edit people through the pages."""

import re

from tests.accounts.conftest import is_checked, link_paths
from tests.conftest import sign_in


def test_people_list_shows_each_person_with_a_link_to_their_page(
    admin_client, make_user, make_team
):
    make_team("Finance")
    person = make_user("triage", name="Tomas Triage", email="tomas@example.com", team="Finance")
    page = admin_client.get("/admin/users")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tomas Triage" in html and "tomas@example.com" in html and "Finance" in html
    assert f'href="/admin/users/{person.id}/edit"' in html
    assert "Showing 1 to 2 of 2 people." in html


def test_search_matches_name_or_email_case_insensitively(admin_client, make_user):
    make_user(name="Priya Natarajan", email="priya@example.com")
    make_user(name="Omar Haddad", email="omar.h@example.com")
    by_name = admin_client.get("/admin/users?q=natara").get_data(as_text=True)
    assert "Priya Natarajan" in by_name and "Omar Haddad" not in by_name
    by_email = admin_client.get("/admin/users?q=OMAR.H@").get_data(as_text=True)
    assert "Omar Haddad" in by_email and "Priya Natarajan" not in by_email
    # LIKE wildcards typed by a person are matched literally.
    assert "Nobody matches" in admin_client.get("/admin/users?q=%25_").get_data(as_text=True)


def test_filter_by_role_team_and_status(admin_client, admin, make_user, make_team, app):
    make_team("Claims")
    owner = make_user("owner", name="Olivia Owner", team="Claims")
    make_user("manager", name="Maya Manager")
    gone = make_user(name="Gone Person", team="Claims")
    with app.app_context():
        from portal.accounts import services
        from portal.core.db import db

        services.deactivate_user(services.get_user(gone.id), by=services.get_user(admin.id))
        db.session.commit()

    by_role = admin_client.get("/admin/users?role=owner").get_data(as_text=True)
    assert "Olivia Owner" in by_role and "Maya Manager" not in by_role

    team_id = owner.team_id
    by_team = admin_client.get(f"/admin/users?team={team_id}").get_data(as_text=True)
    assert "Olivia Owner" in by_team and "Maya Manager" not in by_team
    assert "Gone Person" not in by_team  # active people by default

    no_team = admin_client.get("/admin/users?team=none").get_data(as_text=True)
    assert "Maya Manager" in no_team and "Olivia Owner" not in no_team

    deactivated = admin_client.get(f"/admin/users?team={team_id}&status=deactivated")
    html = deactivated.get_data(as_text=True)
    assert "Gone Person" in html and "Olivia Owner" not in html
    everyone = admin_client.get("/admin/users?status=all").get_data(as_text=True)
    assert "Gone Person" in everyone and "Maya Manager" in everyone


def test_hand_edited_filters_are_ignored_not_an_error(admin_client, make_user):
    make_user(name="Li Wei")
    for query in ("role=wizard", "team=abc", "status=sleeping", "page=-4", "page=x", "team=999"):
        response = admin_client.get(f"/admin/users?{query}")
        assert response.status_code == 200, query
    assert "Li Wei" in admin_client.get("/admin/users?role=wizard").get_data(as_text=True)


def test_people_are_paged_25_at_a_time(admin_client, make_user):
    for n in range(30):
        make_user(name=f"Member {n:02d}")
    first = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Showing 1 to 25 of 31 people." in first
    assert "Member 00" in first and "Member 29" not in first
    second = admin_client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Showing 26 to 31 of 31 people." in second
    assert "Member 29" in second and "Member 00" not in second
    # Past the last page: the last page.
    assert "Showing 26 to 31" in admin_client.get("/admin/users?page=99").get_data(as_text=True)


def test_empty_search_shows_a_clear_empty_state(admin_client):
    html = admin_client.get("/admin/users?q=zebra").get_data(as_text=True)
    assert "Nobody matches" in html
    assert "Show all active people" in html


def test_admin_adds_a_person_and_sees_their_set_password_link(
    app, admin_client, make_team, stored_user, role_names
):
    team = make_team("Customer Support")
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert re.search(r'<option selected value="">No team</option>', form)
    assert "Agent owner" in form and is_checked(form, "roles", "reporter")

    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": "New.Person@Example.com",
            "name": "New Person",
            "team": str(team.id),
            "roles": ["triage", "owner"],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "New Person is added" in html
    assert "not emailed" in html and "email is not set up" in html
    assert response.headers["Cache-Control"] == "no-store"
    [path] = link_paths(html)
    assert f'value="http://portal.test{path}"' in html and "readonly" in html
    assert 'data-copy-target="set-password-link"' in html
    assert "js/portal.js" in html

    user = stored_user("new.person@example.com")
    assert user.name == "New Person" and user.team_id == team.id
    assert user.password_hash is None
    assert role_names("new.person@example.com") == {"triage", "owner"}

    # The person uses the link and is signed in.
    newcomer = app.test_client()
    assert "Choose a password" in newcomer.get(path).get_data(as_text=True)
    done = newcomer.post(
        path, data={"new_password": "a-fresh-passphrase", "confirm": "a-fresh-passphrase"}
    )
    assert done.status_code == 302
    assert "Welcome, New Person" in newcomer.get("/").get_data(as_text=True)


def test_a_person_added_without_roles_is_a_reporter(admin_client, role_names):
    response = admin_client.post(
        "/admin/users/new", data={"email": "plain@example.com", "name": "Plain", "team": ""}
    )
    assert response.status_code == 200
    assert role_names("plain@example.com") == {"reporter"}


def test_bad_new_person_keeps_what_was_typed_and_says_why(admin_client, make_user, stored_user):
    make_user(email="taken@example.com")
    response = admin_client.post(
        "/admin/users/new",
        data={"email": "not-an-email", "name": "Typed Name", "team": "", "roles": ["manager"]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="not-an-email"' in html and 'value="Typed Name"' in html
    assert is_checked(html, "roles", "manager") and not is_checked(html, "roles", "owner")
    assert "is-invalid" in html

    taken = admin_client.post(
        "/admin/users/new", data={"email": "TAKEN@example.com", "name": "Someone", "team": ""}
    )
    assert taken.status_code == 400
    assert "An account with the email taken@example.com already exists." in taken.get_data(
        as_text=True
    )

    missing = admin_client.post("/admin/users/new", data={"email": "", "name": "", "team": ""})
    assert missing.status_code == 400
    assert "This field is required." in missing.get_data(as_text=True)

    bad_role = admin_client.post(
        "/admin/users/new",
        data={"email": "x@example.com", "name": "X", "team": "", "roles": ["wizard"]},
    )
    assert bad_role.status_code == 400
    assert stored_user("x@example.com") is None


def test_admin_edits_email_name_team_and_roles(
    admin_client, make_user, make_team, stored_user, role_names
):
    make_team("Finance")
    person = make_user("owner", name="Fiona", email="fiona@example.com")
    page = admin_client.get(f"/admin/users/{person.id}/edit")
    assert page.status_code == 200
    assert 'value="fiona@example.com"' in page.get_data(as_text=True)

    finance = make_team("Finance Ops")
    response = admin_client.post(
        f"/admin/users/{person.id}/edit",
        data={
            "email": "fiona.f@example.com",
            "name": "Fiona Finance",
            "team": str(finance.id),
            "roles": ["manager"],
        },
    )
    assert response.status_code == 302
    shown = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved the changes to Fiona Finance." in shown
    user = stored_user("fiona.f@example.com")
    assert user.name == "Fiona Finance" and user.team_id == finance.id
    assert role_names("fiona.f@example.com") == {"manager"}

    # Back to no team.
    admin_client.post(
        f"/admin/users/{person.id}/edit",
        data={"email": "fiona.f@example.com", "name": "Fiona Finance", "team": ""},
    )
    assert stored_user("fiona.f@example.com").team_id is None


def test_edit_refuses_a_taken_email_beside_the_field(admin_client, make_user, stored_user):
    make_user(email="first@example.com")
    second = make_user(email="second@example.com", name="Second")
    response = admin_client.post(
        f"/admin/users/{second.id}/edit",
        data={"email": "first@example.com", "name": "Second Renamed", "team": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An account with the email first@example.com already exists." in html
    assert 'value="Second Renamed"' in html
    assert stored_user("second@example.com").name == "Second"


def test_missing_person_is_404(admin_client):
    assert admin_client.get("/admin/users/9999/edit").status_code == 404
    assert admin_client.post("/admin/users/9999/deactivate").status_code == 404
    assert admin_client.post("/admin/users/9999/set-password-link").status_code == 404


def test_admin_who_gives_up_admin_role_loses_the_admin_pages(client, make_user, role_names):
    me = make_user("admin", email="me@example.com", name="Me")
    make_user("admin", email="other-admin@example.com")
    sign_in(client, me)
    response = client.post(
        f"/admin/users/{me.id}/edit",
        data={"email": "me@example.com", "name": "Me", "team": "", "roles": ["triage"]},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert role_names("me@example.com") == {"triage"}
    assert client.get("/admin/users").status_code == 403


def test_people_list_costs_the_same_statements_for_5_or_25_people(
    admin_client, make_user, make_team, count_statements
):
    make_team("Support")
    for n in range(4):
        make_user("owner", name=f"Early {n}", team="Support")
    with count_statements() as few:
        assert admin_client.get("/admin/users").status_code == 200
    for n in range(20):
        make_user("triage", "manager", name=f"Later {n}", team="Support")
    with count_statements() as many:
        html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Showing 1 to 25 of 25 people." in html
    assert len(many) == len(few) <= 10  # no statement per person
