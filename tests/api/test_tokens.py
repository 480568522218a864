"""API tokens: created by CLI or on the account page, shown once, stored hashed, revocable."""

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import ApiToken, User
from portal.core.db import db
from portal.core.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token_from


def _database_text(app) -> str:
    """Every row of every table as text: what someone holding a copy of the database could read."""
    with app.app_context():
        return "\n".join(
            repr(tuple(row))
            for table in db.metadata.sorted_tables
            for row in db.session.execute(sa.select(table))
        )


def _token_rows(app) -> list[ApiToken]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))
        db.session.expunge_all()
        return rows


def _cli(app, *args: str):
    # `flask --app wsgi portal ...` runs commands inside an app context; the test runner does not.
    with app.app_context():
        return app.test_cli_runner().invoke(args=["portal", *args])


def test_cli_prints_a_new_token_once_and_stores_only_its_digest(app, make_user):
    user = make_user("admin", email="pipeline@example.com")
    result = _cli(app, "create-token", "Pipeline@Example.com", "--name", "deploy")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"aap_[A-Za-z0-9_-]{40,}", token)
    assert "not shown again" in result.stderr

    [row] = _token_rows(app)
    assert row.user_id == user.id and row.name == "deploy"
    assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(row.prefix) and len(row.prefix) < 12
    assert token not in _database_text(app)

    # The token works at once, as that person.
    response = app.test_client().get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    # A second run makes a different token; the first is never shown again.
    again = _cli(app, "create-token", user.email, "--name", "deploy 2")
    assert again.exit_code == 0
    assert again.stdout.strip() != token


def test_cli_refuses_unknown_email_and_empty_name(app, make_user):
    unknown = _cli(app, "create-token", "nobody@example.com", "--name", "x")
    assert unknown.exit_code == 1
    assert "No account has the email nobody@example.com." in unknown.stderr

    user = make_user()
    empty = _cli(app, "create-token", user.email, "--name", "   ")
    assert empty.exit_code == 1
    assert "Give the token a name" in empty.stderr
    assert _token_rows(app) == []


def test_missing_wrong_or_malformed_token_is_401_json(app, make_user, make_token):
    token = make_token(make_user())
    client = app.test_client()
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer aap_not-a-real-token"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer " + "a" * 5000},
    ):
        response = client.get("/api/v1/agents", headers=headers)
        assert response.status_code == 401, headers
        assert response.is_json
        assert "Bearer" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        client.get("/api/v1/agents", headers={"Authorization": f"bearer {token}"}).status_code
        == 200
    )


def test_revoked_token_is_refused(app, client, login, make_user, make_token):
    user = make_user()
    token = make_token(user, "laptop script")
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/agents", headers=headers).status_code == 200

    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "laptop script" in page
    [row] = _token_rows(app)
    response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert "The token &#39;laptop script&#39; is revoked" in client.get("/account").get_data(
        as_text=True
    )
    assert _token_rows(app)[0].revoked_at is not None
    assert app.test_client().get("/api/v1/agents", headers=headers).status_code == 401


def test_deactivated_persons_token_is_refused(app, make_user, make_token):
    admin = make_user("admin")
    user = make_user()
    token = make_token(user)
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/agents", headers=headers).status_code == 200
    with app.app_context():
        accounts.deactivate_user(db.session.get(User, user.id), db.session.get(User, admin.id))
        db.session.commit()
    assert app.test_client().get("/api/v1/agents", headers=headers).status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(app, make_user, make_token):
    token = make_token(make_user())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert _token_rows(app)[0].last_used_at is None
    client.get("/api/v1/agents", headers=headers)
    first = _token_rows(app)[0].last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)

    client.get("/api/v1/agents", headers=headers)
    assert _token_rows(app)[0].last_used_at == first  # within the minute: no write

    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    client.get("/api/v1/agents", headers=headers)
    assert utcnow() - _token_rows(app)[0].last_used_at < timedelta(seconds=30)


def test_account_page_creates_a_token_and_shows_it_once(app, client, login, make_user):
    user = make_user(name="Rosa Reporter")
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "API tokens" in page and "You have no API tokens." in page

    response = client.post("/account/tokens", data={"token_name": "Support widget"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Copy it now: it is not shown again." in page
    token = re.search(r'id="new-api-token" value="([^"]+)"', page).group(1)
    assert "data-copy-target" in page and "js/portal.js" in page

    [row] = _token_rows(app)
    assert row.name == "Support widget" and row.user_id == user.id
    assert token not in _database_text(app)
    assert "Never" in client.get("/account").get_data(as_text=True)  # not used yet
    api_answer = app.test_client().get(
        "/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}
    )
    assert api_answer.status_code == 200

    # Back on the page: the token is listed by name and prefix, its full text is gone.
    page = client.get("/account").get_data(as_text=True)
    assert "Support widget" in page and f"{row.prefix}…" in page
    assert token not in page and "Never" not in page  # last used: just now


def test_account_page_refuses_bad_token_names_beside_the_field(app, client, login, make_user):
    login(make_user())
    response = client.post("/account/tokens", data={"token_name": ""})
    assert response.status_code == 400
    assert "Give the token a name." in response.get_data(as_text=True)

    client.post("/account/tokens", data={"token_name": "ci"})
    response = client.post("/account/tokens", data={"token_name": "CI"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "You already have a token with this name." in page
    assert 'value="CI"' in page  # what was typed is kept
    assert len(_token_rows(app)) == 1


def test_nobody_can_revoke_someone_elses_token(app, client, login, make_user, make_token):
    owner = make_user()
    token = make_token(owner)
    [row] = _token_rows(app)
    login(make_user("admin"))
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert client.post("/account/tokens/99999999999999999999/revoke").status_code == 404
    assert _token_rows(app)[0].revoked_at is None
    assert (
        app.test_client()
        .get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 200
    )


def test_account_token_forms_need_csrf(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert client.post("/account/tokens", data={"token_name": "x"}).status_code == 400
    assert _token_rows(app) == []
    page = client.get("/account").get_data(as_text=True)
    response = client.post(
        "/account/tokens", data={"token_name": "x", "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 200
    assert len(_token_rows(app)) == 1


def test_a_session_cookie_alone_cannot_use_the_api(app, client, login, make_user):
    login(make_user("admin"))
    assert client.get("/").status_code == 200  # the browser is signed in
    response = client.post(
        "/api/v1/agents", json={"slug": "via-cookie", "name": "Cookie", "version": "1"}
    )
    assert response.status_code == 401
    assert response.is_json
    assert client.get("/api/v1/agents").status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM agents")) == 0
