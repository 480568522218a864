"""Sign-in defences: password rules everywhere a password is set, equal work for unknown accounts,
re-authentication for email changes, sessions that end, rate limits on links and API tokens, and
logs that record every attempt without a password or token in them."""

import logging
import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.core import security
from portal.core.db import db
from tests.conftest import PASSWORD, base_config, sign_in

NEW_PASSWORD = "violet-harbour-lantern"


# --- Password rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak",
    [
        "password123456",
        "qwertyuiop12",
        "Password1234!",
        "aaaaaaaaaaaaaa",
        "abababababab",
        "1234567890123",
        "abcdefghijklm",
        "agentadoptionportal",
        "portal-portal-9",
        "iloveyou1234",
    ],
)
def test_common_and_patterned_passwords_are_refused(weak):
    assert security.password_problem(weak) is not None, weak


def test_passwords_built_from_the_person_are_refused():
    context = ("ada.lovelace@example.com", "Ada Lovelace")
    for weak in ("ada.lovelace.2024", "Lovelace-Ada-99!", "adalovelace1234"):
        problem = security.password_problem(weak, context)
        assert problem and "name" in problem, weak
    assert security.password_problem("violet-harbour-lantern", context) is None


def test_length_rules_are_12_to_at_least_128():
    assert "at least 12" in security.password_problem("kq8#vz1!mt4")
    assert security.password_problem("kq8#vz1!mt4p") is None
    long_password = ("violet harbour lantern " * 6)[:128]
    assert security.password_problem(long_password) is None
    assert security.MAX_PASSWORD_LENGTH >= 128
    assert "at most" in security.password_problem("x" * (security.MAX_PASSWORD_LENGTH + 1))


def test_the_shipped_common_password_list_is_substantial():
    common = security.common_passwords()
    assert len(common) >= 500
    assert {"password", "123456", "qwerty", "iloveyou", "password123456"} <= common


def test_change_password_refuses_a_common_one_and_keeps_the_old(app, client, login, make_user):
    user = make_user()
    login(user)
    response = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "password123456",
            "confirm": "password123456",
        },
    )
    assert response.status_code == 400
    assert "one of the most common passwords" in response.get_data(as_text=True)
    client.post("/logout")
    assert sign_in(client, user).status_code == 302  # the old password still works


def test_set_password_link_refuses_a_password_made_of_the_persons_name(app, client, make_user):
    user = make_user(email="grace.hopper@example.com", name="Grace Hopper")
    with app.app_context():
        issued = accounts.issue_set_password_link(db.session.get(User, user.id))
        db.session.commit()
    response = client.post(
        issued.path, data={"new_password": "grace-hopper-2024", "confirm": "grace-hopper-2024"}
    )
    assert response.status_code == 400
    assert "your name, your email" in response.get_data(as_text=True)
    response = client.post(
        issued.path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302


def test_cli_create_user_refuses_a_common_password(app):
    with app.app_context():  # `flask` pushes it for app.cli commands; the test runner does not
        result = app.test_cli_runner().invoke(
            args=[
                "portal",
                "create-user",
                "cli@example.com",
                "--name",
                "Cli Person",
                "--password",
                "qwerty123456",
            ]
        )
    assert result.exit_code != 0
    assert "most common passwords" in result.output
    with app.app_context():
        assert accounts.get_user_by_email("cli@example.com") is None


# --- The same work for unknown accounts -----------------------------------------------------------


class CountingHasher(PasswordHasher):
    """A real argon2 hasher that counts the hashes and verifications it is asked for."""

    calls = 0

    def hash(self, *args, **kwargs):
        CountingHasher.calls += 1
        return super().hash(*args, **kwargs)

    def verify(self, *args, **kwargs):
        CountingHasher.calls += 1
        return super().verify(*args, **kwargs)


def test_unknown_email_costs_a_password_hash_like_a_wrong_password(client, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr(security, "PasswordHasher", CountingHasher)
    CountingHasher.calls = 0
    assert sign_in(client, user, "not-the-right-password").status_code == 400
    wrong_password_work = CountingHasher.calls
    CountingHasher.calls = 0
    assert sign_in(client, "nobody-here@example.com", "not-the-right-password").status_code == 400
    assert wrong_password_work == CountingHasher.calls == 1


def test_unknown_email_and_wrong_password_take_similar_time(app, client, make_user):
    import time

    app.config["ARGON2_PARAMS"] = {}  # production cost, so the hash dominates the timing
    user = make_user()
    with app.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.id == user.id)
            .values(password_hash=security.hash_password(PASSWORD))
        )
        db.session.commit()

    def median_time(email: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert sign_in(client, email, "not-the-right-password").status_code == 400
            times.append(time.perf_counter() - started)
        return sorted(times)[2]

    wrong_password = median_time(user.email)
    unknown = median_time("nobody-here@example.com")
    assert 0.5 < unknown / wrong_password < 2, (unknown, wrong_password)


# --- Re-authentication and sessions ---------------------------------------------------------------


def test_change_email_needs_the_current_password(app, client, login, make_user):
    user = make_user(email="old@example.com")
    login(user)
    refused = client.post(
        "/account/email",
        data={"new_email": "new@example.com", "email_password": "not-the-right-password"},
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Your current password is not right." in page
    assert 'value="new@example.com"' in page  # what was typed is kept

    taken = make_user(email="taken@example.com")
    response = client.post(
        "/account/email", data={"new_email": taken.email, "email_password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Another account uses this email address." in response.get_data(as_text=True)

    response = client.post(
        "/account/email", data={"new_email": "New@Example.com", "email_password": PASSWORD}
    )
    assert response.status_code == 302
    assert "You now sign in with new@example.com" in client.get("/account").get_data(as_text=True)
    client.post("/logout")
    assert sign_in(client, "old@example.com").status_code == 400
    assert sign_in(client, "new@example.com").status_code == 302


def test_changing_email_tells_the_old_address(mail_app, client, login, make_user, smtp_server):
    login(make_user(email="before@example.com"))
    response = client.post(
        "/account/email", data={"new_email": "after@example.com", "email_password": PASSWORD}
    )
    assert response.status_code == 302
    [message] = smtp_server.messages
    assert message["To"] == "before@example.com"
    assert "after@example.com" in message.get_content()


@pytest.mark.parametrize("change", ["password", "email"])
def test_other_sessions_end_when_password_or_email_changes(app, make_user, change):
    user = make_user()
    this_browser, other_browser = app.test_client(), app.test_client()
    sign_in(this_browser, user)
    sign_in(other_browser, user)
    assert other_browser.get("/").status_code == 200
    if change == "password":
        data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert this_browser.post("/account", data=data).status_code == 302
    else:
        data = {"new_email": "moved@example.com", "email_password": PASSWORD}
        assert this_browser.post("/account/email", data=data).status_code == 302
    assert this_browser.get("/").status_code == 200
    ended = other_browser.get("/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]


def test_change_email_form_is_on_the_account_page(client, login, make_user):
    login(make_user())
    page = client.get("/account").get_data(as_text=True)
    assert "Change email" in page
    assert 'action="/account/email"' in page
    assert '<label class="form-label" for="new_email">New email address</label>' in page


# --- Rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def limited_app(database_url, tmp_path, monkeypatch):
    """The app with rate limits on (build it after the users: Flask-Limiter's switch is shared),
    the API's set as an operator would: PORTAL_API_RATE_LIMIT."""
    monkeypatch.setenv("PORTAL_API_RATE_LIMIT", "5 per minute")
    return create_app(base_config(database_url, tmp_path) | {"RATELIMIT_ENABLED": True})


def test_a_set_password_link_is_limited_per_link(app, make_user, limited_app):
    user = make_user()
    with app.app_context():
        issued = accounts.issue_set_password_link(db.session.get(User, user.id))
        db.session.commit()
    client = limited_app.test_client()
    bad = {"new_password": "short", "confirm": "short"}
    statuses = [client.post(issued.path, data=bad).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    # From another address the same link is still limited: the key is the link.
    other = client.post(issued.path, data=bad, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 429


def test_api_use_is_limited_per_token_with_a_json_429(app, make_user, limited_app):
    from portal.accounts import tokens

    user, other = make_user(), make_user()
    with app.app_context():
        token = tokens.issue_token(db.session.get(User, user.id), "busy").token
        other_token = tokens.issue_token(db.session.get(User, other.id), "calm").token
        db.session.commit()
    client = limited_app.test_client()

    def call(bearer: str):
        return client.get("/api/v1/agents", headers={"Authorization": f"Bearer {bearer}"})

    assert [call(token).status_code for _ in range(5)] == [200] * 5
    refused = call(token)
    assert refused.status_code == 429
    assert refused.is_json and "Too many requests" in refused.get_json()["error"]
    assert int(refused.headers["Retry-After"]) > 0
    assert call(other_token).status_code == 200  # another token has its own allowance


# --- Logs -----------------------------------------------------------------------------------------


def test_sign_in_attempts_are_logged_without_email_or_password(client, make_user, caplog):
    user = make_user(email="logged@example.com")
    caplog.set_level(logging.INFO, logger="portal")
    sign_in(client, user, "not-the-right-password")
    sign_in(client, "ghost@example.com", "not-the-right-password")
    sign_in(client, user)
    lines = [r.getMessage() for r in caplog.records if "sign-in" in r.getMessage()]
    assert len(lines) == 3
    assert f"account={security.account_digest('logged@example.com')}" in lines[0]
    assert "reason=wrong password" in lines[0]
    assert "reason=unknown account" in lines[1]
    assert f"sign-in ok: user={user.id}" in lines[2]
    assert "logged@example.com" not in caplog.text and "ghost@example.com" not in caplog.text


def test_no_password_or_token_reaches_the_logs(app, client, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user("admin")
    # Sign-in, a refusal, a password typed into the email field, a password change...
    sign_in(client, user, "typo-password-secret")
    client.post("/login", data={"email": "mistyped-secret-pw", "password": PASSWORD})
    sign_in(client, user)
    client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    # ...a token made on the account page, and API calls with it and with a wrong one.
    page = client.post("/account/tokens", data={"token_name": "logging check"})
    token = re.search(r"aap_[A-Za-z0-9_-]+", page.get_data(as_text=True)).group(0)
    assert client.get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"}).is_json
    wrong_token = "aap_" + "x" * 43
    client.get("/api/v1/agents", headers={"Authorization": f"Bearer {wrong_token}"})
    client.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
    logged = caplog.text
    assert "api token refused" in logged and "sign-in ok" in logged
    for secret in (
        PASSWORD,
        NEW_PASSWORD,
        "typo-password-secret",
        "mistyped-secret-pw",
        token,
        token[:20],
        wrong_token,
    ):
        assert secret not in logged, secret


def test_permission_refusals_are_logged(client, login, make_user, caplog):
    caplog.set_level(logging.INFO, logger="portal")
    user = make_user()
    login(user)
    assert client.get("/admin/users").status_code == 403
    assert f"status=403 user={user.id} endpoint=admin.users" in caplog.text
    page = client.post("/account/tokens", data={"token_name": "probe"}).get_data(as_text=True)
    token = re.search(r"aap_[A-Za-z0-9_-]+", page).group(0)
    refused = client.post(
        "/api/v1/agents",
        json={"slug": "x", "name": "X", "version": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403
    assert f"api permission refused: user={user.id} endpoint=api.create_agent" in caplog.text


def test_limited_routes_answer_signed_out_visitors_without_an_error(make_user, limited_app):
    client = limited_app.test_client()
    response = client.post("/account/email", data={"new_email": "x@example.com"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/agents").status_code == 401  # keyed by address without a token
