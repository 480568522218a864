"""Only admins reach the administration pages: every admin route, every method, every other role."""

import io

import pytest

from tests.accounts.conftest import link_count
from tests.conftest import sign_in

NON_ADMIN_ROLES = ("reporter", "trainee", "triage", "owner", "manager")


def _admin_urls(app, target_id: int, team_id: int) -> list[tuple[str, str]]:
    """(method, url) for every route of the admin blueprint, built from the URL map."""
    calls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {"user_id": target_id, "team_id": team_id}
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            calls.append((method, url))
    return calls


@pytest.fixture
def target(make_user):
    return make_user("triage", email="target@example.com", name="Target", team="Target Team")


def test_the_admin_blueprint_has_the_expected_routes(app, target):
    calls = _admin_urls(app, target.id, target.team_id)
    assert len(calls) >= 16  # a route that vanished would shrink the walk below
    assert ("POST", f"/admin/users/{target.id}/deactivate") in calls


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_every_admin_route_refuses_other_roles_with_403(app, make_user, target, role, stored_user):
    person = make_user(role, email=f"{role}@example.com")
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    for method, url in _admin_urls(app, target.id, target.team_id):
        data = {
            "email": "sneaky@example.com",
            "name": "Sneaky",
            "roles": ["admin"],
            "description": "x",
            "file": (io.BytesIO(b"email,name\nsneaky2@example.com,Sneaky\n"), "p.csv"),
        }
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, f"{method} {url} as {role}"
        assert "Not allowed" in response.get_data(as_text=True)
    # Nothing changed.
    assert stored_user("target@example.com").is_active_account
    assert stored_user("target@example.com").name == "Target"
    assert stored_user("sneaky@example.com") is None
    assert stored_user("sneaky2@example.com") is None
    assert link_count(app, "target@example.com") == 0
    assert client.get("/").status_code == 200  # still signed in: a refusal, not a sign-out


def test_admin_routes_send_the_signed_out_to_sign_in(app, target):
    client = app.test_client()
    for method, url in _admin_urls(app, target.id, target.team_id):
        response = client.open(url, method=method)
        assert response.status_code == 302, f"{method} {url}"
        assert "/login" in response.headers["Location"]


def test_admin_reaches_every_admin_page(admin_client, app, target):
    for method, url in _admin_urls(app, target.id, target.team_id):
        if method == "GET":
            assert admin_client.get(url).status_code == 200, url


def test_navigation_shows_people_and_teams_to_admins_only(app, admin_client, make_user):
    html = admin_client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in html and 'href="/admin/teams"' in html
    reporter = app.test_client()
    sign_in(reporter, make_user(email="plain@example.com"))
    html = reporter.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in html and 'href="/admin/teams"' not in html


def test_a_demoted_admin_loses_access_on_their_next_request(app, admin_client, make_user):
    other = make_user("admin", email="soon-former@example.com", name="Soon Former")
    browser = app.test_client()
    sign_in(browser, other)
    assert browser.get("/admin/users").status_code == 200
    admin_client.post(
        f"/admin/users/{other.id}/edit",
        data={"email": other.email, "name": other.name, "roles": ["owner"]},
    )
    assert browser.get("/admin/users").status_code == 403
