"""Health probes, friendly error pages and CSRF: what load balancers and people see when things go wrong."""

import logging
import socket

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.accounts import services as accounts
from portal.accounts.models import Role, Team
from portal.core.db import db
from tests.conftest import PASSWORD, csrf_token_from, sign_in


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket closes


def test_healthz_answers_even_when_the_database_is_unreachable(make_app):
    app = make_app(f"postgresql+psycopg://portal@127.0.0.1:{_closed_port()}/portal")
    client = app.test_client()

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok"}

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "unavailable"


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_unavailable_until_the_database_is_migrated_to_head(empty_database_url, make_app):
    app = make_app(empty_database_url)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "not migrated" in response.get_json()["reason"]

    with app.app_context():
        upgrade()
        downgrade(revision="-1")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "database not migrated to head"

    with app.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200


def test_unknown_page_shows_a_friendly_404_with_a_way_home(client, login, make_user):
    for who in ("anonymous", "signed in"):
        if who == "signed in":
            login(make_user())
        response = client.get("/no/such/page")
        assert response.status_code == 404, who
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "Page not found" in page
        assert 'href="/"' in page and "Go to the home page" in page


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]


def test_unexpected_error_shows_a_friendly_page_without_traceback_and_saves_nothing(app, caplog):
    def explode():
        db.session.add(Team(name="Half-saved team"))
        db.session.flush()
        raise RuntimeError("internal detail: connection string postgres://secret")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/api/v1/explode", "api_explode", explode)
    client = app.test_client()

    with caplog.at_level(logging.ERROR, logger="portal"):
        response = client.get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert 'href="/"' in page
    assert "Traceback" not in page and "internal detail" not in page
    assert any("unhandled error on GET /explode" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info for r in caplog.records)  # logged with its traceback, for operators

    response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.is_json and "internal detail" not in response.get_data(as_text=True)

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0


def test_post_without_csrf_token_is_refused_with_a_friendly_message(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    client = app.test_client()

    response = sign_in(client, user)
    assert response.status_code == 400
    assert "Your form had expired or came from elsewhere." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in

    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_cross_site_sign_out_without_token_does_not_sign_out(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})

    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_error_page_still_shows_to_a_signed_in_person_when_the_database_is_down(
    make_app, sqlite_file_url
):
    working = make_app(sqlite_file_url)
    with working.app_context():
        upgrade()
    with working.app_context():
        accounts.create_user("ada@example.com", "Ada Admin", {Role.ADMIN}, password=PASSWORD)
        db.session.commit()
    browser = working.test_client()
    assert sign_in(browser, "ada@example.com").status_code == 302
    cookie = browser.get_cookie("session").value

    # The same portal (same secret key) after its database went away.
    down = make_app(f"postgresql+psycopg://portal@127.0.0.1:{_closed_port()}/portal")
    browser = down.test_client()
    browser.set_cookie("session", cookie)
    response = browser.get("/agents/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and 'href="/"' in page
    assert "Traceback" not in page and "Connection refused" not in page
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
