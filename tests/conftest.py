"""Fixtures shared by every test: the app on SQLite and on PostgreSQL, clients, and small factories.

Every test that takes `app` (or anything built on it) runs twice: once on SQLite, once on a real
PostgreSQL server started for the session. The schema comes from the Alembic migrations, once per
database; each test starts from empty tables.
"""

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.agents.models import Agent, Lifecycle
from portal.core.db import db
from tests.pg import PostgresServer, PostgresUnavailable
from tests.smtp import SmtpServer

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery"
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        _unavailable(f"PostgreSQL unavailable: {exc}")
    yield server
    server.stop()


def base_config(database_url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_PARAMS": FAST_ARGON2,
        "SMTP_HOST": "",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "BASE_URL": "http://portal.test",
        "RATELIMIT_ENABLED": False,
    }


def migrate_to_head(config: dict) -> None:
    from flask_migrate import upgrade

    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each kind, made once per session (and per xdist worker)."""
    tmp = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'portal.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = server.create_database(f"portal_test_{worker}")
    migrate_to_head(base_config(url, tmp))
    return url


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path) -> Iterator[Flask]:
    app = create_app(base_config(database_url, tmp_path))
    with app.app_context():
        _empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app):
    """make_user("triage", email=..., team=...) -> a committed, active user with PASSWORD."""
    counter = iter(range(1, 100_000))

    def make(
        *roles: str, email: str | None = None, name: str | None = None, team: str | None = None
    ):
        n = next(counter)
        with app.app_context():
            team_row = accounts.get_or_create_team(team) if team else None
            user = accounts.create_user(
                email or f"user{n}@example.com",
                name or f"Person {n}",
                {Role(r) for r in roles},
                team=team_row,
                password=PASSWORD,
            )
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def make_agent(app):
    counter = iter(range(1, 100_000))

    def make(slug: str | None = None, *, owner: User | None = None, **fields):
        n = next(counter)
        with app.app_context():
            agent = Agent(
                slug=slug or f"agent-{n}",
                name=fields.pop("name", f"Agent {n}"),
                description=fields.pop("description", "Helps with things."),
                version=fields.pop("version", "1.0.0"),
                lifecycle=fields.pop("lifecycle", Lifecycle.PRODUCTION),
                technical_owner_id=owner.id if owner else None,
                **fields,
            )
            db.session.add(agent)
            db.session.commit()
            db.session.refresh(agent)
            db.session.expunge(agent)
            return agent

    return make


def sign_in(client: FlaskClient, user_or_email, password: str = PASSWORD):
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def login(client):
    """login(user) signs the test client in as `user` and returns the client."""

    def do(user, password: str = PASSWORD) -> FlaskClient:
        response = sign_in(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture(scope="session")
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="portal-tests-") as tmp:
        yield Path(tmp)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1: `smtp_server.messages` (EmailMessage list), `.port`."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp_server) -> Flask:
    """`app` sending its email to `smtp_server` (the `client` fixture uses this same app)."""
    app.config.update(smtp_server.config())
    return app


# The browser fixtures are defined once, here, so that every package's browser tests share one
# Playwright instance per process (a second sync Playwright in the same process fails).
from tests.browser_support import (  # noqa: E402, F401
    browser,
    live_server,
    open_page,
    page,
    seeded_database,
)


def pytest_terminal_summary(terminalreporter) -> None:
    """Say plainly how many tests ran on PostgreSQL and in Chromium, so a skip cannot hide."""
    counts = {"PostgreSQL": [0, 0, 0], "Chromium (browser)": [0, 0, 0]}
    for outcome, index in (("passed", 0), ("failed", 1), ("skipped", 2)):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome != "skipped":
                continue
            if "[postgresql" in report.nodeid or "-postgresql" in report.nodeid:
                counts["PostgreSQL"][index] += 1
            if "browser" in report.keywords:
                counts["Chromium (browser)"][index] += 1
    terminalreporter.section("databases and browser")
    for name, (passed, failed, skipped) in counts.items():
        terminalreporter.write_line(f"{name}: {passed} passed, {failed} failed, {skipped} skipped")


@pytest.fixture
def statements_of(app):
    """statements_of(fn) -> (fn's result, the SQL statements it ran)."""

    def count(fn):
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            result = fn()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        return result, statements

    return count
