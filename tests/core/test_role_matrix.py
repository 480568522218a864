"""Every route x every role: allowed, or refused (sign-in redirect for the anonymous, 403 or 404 otherwise).

The table is checked against the app's URL map, so a new route without an entry here fails the test.
When you add a route, add its entry to ACCESS: who may use it and how to build a sample URL.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import sign_in

ANONYMOUS = "anonymous"
ROLES = ("reporter", "trainee", "triage", "owner", "manager", "admin")
SIGNED_IN = frozenset(ROLES)
PUBLIC = frozenset((ANONYMOUS, *ROLES))


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


@dataclass
class Access:
    allowed: frozenset[str]
    # Builds the URL from the sample objects (see `samples`); a plain string for routes without arguments.
    url: str | Callable[[dict], str]
    # What a signed-in person who may not use the route gets: 403, or 404 where the object is hidden.
    refused_with: int = 403
    # Statuses that still count as "allowed" (for example 400 for a POST sent without a form).
    note: str = ""
    skip_methods: frozenset[str] = field(default_factory=frozenset)


ACCESS: dict[str, Access] = {
    "static": Access(PUBLIC, "/static/css/portal.css"),
    "health.healthz": Access(PUBLIC, "/healthz"),
    "health.readyz": Access(PUBLIC, "/readyz"),
    "accounts.login": Access(PUBLIC, "/login"),
    "accounts.set_password": Access(
        PUBLIC, "/set-password/not-a-real-token", note="unknown link: 404 page"
    ),
    "accounts.logout": Access(SIGNED_IN, "/logout"),
    "accounts.account": Access(SIGNED_IN, "/account"),
    "home.index": Access(SIGNED_IN, "/"),
    "admin.users": Access(only("admin"), "/admin/users"),
    "agents.directory": Access(SIGNED_IN, "/agents/"),
}


@pytest.fixture
def samples(make_user, make_agent) -> dict:
    """One person per role and sample objects; the 'owner' person owns the sample agent."""
    people = {role: make_user(role, email=f"{role}@matrix.example.com") for role in ROLES}
    agent = make_agent("matrix-agent", owner=people["owner"])
    return {"people": people, "agent": agent}


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _request(client, method: str, url: str):
    return client.open(url, method=method)


def test_every_route_has_an_access_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    stale = sorted(ACCESS.keys() - endpoints)
    assert not missing, f"routes without an entry in ACCESS: {missing}"
    assert not stale, f"entries in ACCESS for routes that no longer exist: {stale}"


@pytest.mark.parametrize("who", (ANONYMOUS, *ROLES))
def test_role_matrix(app, samples, who):
    client = app.test_client()
    if who != ANONYMOUS:
        assert sign_in(client, samples["people"][who]).status_code == 302
    failures = []
    for rule in app.url_map.iter_rules():
        access = ACCESS[rule.endpoint]
        url = access.url(samples) if callable(access.url) else access.url
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"} - access.skip_methods):
            if rule.endpoint == "accounts.logout":
                continue  # signing out here would end the session the rest of the loop needs
            response = _request(client, method, url)
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {url}: {status} (server error) as {who}")
            elif who in access.allowed:
                if status in (401, 403) or _is_login_redirect(response):
                    failures.append(f"{method} {url}: refused ({status}) but {who} is allowed")
            elif who == ANONYMOUS:
                if not (_is_login_redirect(response) or status == 401):
                    failures.append(f"{method} {url}: {status} for anonymous, expected sign-in")
            elif status != access.refused_with:
                failures.append(
                    f"{method} {url}: {status} for {who}, expected {access.refused_with}"
                )
    assert not failures, "\n".join(failures)


def test_logout_needs_sign_in_and_works_for_everyone(app, samples):
    anonymous = app.test_client()
    assert _is_login_redirect(anonymous.post("/logout"))
    for role in ROLES:
        client = app.test_client()
        sign_in(client, samples["people"][role])
        assert client.post("/logout").status_code == 302
        assert _is_login_redirect(client.get("/"))
