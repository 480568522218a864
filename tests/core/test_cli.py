"""`flask --app wsgi portal demo`: loads into an empty database only, and never twice."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

from portal.accounts.demo import PEOPLE
from portal.accounts.models import User
from portal.agents.demo import AGENTS
from portal.agents.models import Agent
from portal.core.db import db
from portal.demo import DEMO_PASSWORD
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
NOT_LOADED = "The database already has accounts; demo data not loaded."


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _portal(app, *args: str):
    # `flask` pushes the app context for app.cli commands; the test runner does not.
    with app.app_context():
        return app.test_cli_runner().invoke(args=["portal", *args])


def test_demo_loads_into_an_empty_database_and_a_second_run_keeps_it(app, client):
    first = _portal(app, "demo")
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output
    loaded = {model: _count(app, model) for model in (User, Agent)}
    assert loaded[User] >= len(PEOPLE)
    assert loaded[Agent] >= len(AGENTS)
    assert sign_in(client, "admin@example.com", DEMO_PASSWORD).status_code == 302
    assert "Support Assistant" in client.get("/agents/").get_data(as_text=True)

    second = _portal(app, "demo")
    assert second.exit_code == 0, second.output
    assert NOT_LOADED in second.output
    assert "Demo data loaded." not in second.output
    assert {model: _count(app, model) for model in (User, Agent)} == loaded

    # The periodic work runs cleanly on the demo data, and a second run right after has nothing left to do.
    first_sweep = _portal(app, "sweep")
    assert first_sweep.exit_code == 0, first_sweep.output
    assert "failed" not in first_sweep.output
    second_sweep = _portal(app, "sweep")
    assert second_sweep.exit_code == 0, second_sweep.output
    counts = [
        line.rsplit(":", 1)[1].strip() for line in second_sweep.output.splitlines() if ":" in line
    ]
    assert counts and all(count == "0" for count in counts), second_sweep.output


def test_demo_does_nothing_when_someone_already_has_an_account(app, make_user):
    make_user("admin", email="first-admin@example.com")
    result = _portal(app, "demo")
    assert result.exit_code == 0
    assert NOT_LOADED in result.output
    assert _count(app, User) == 1
    assert _count(app, Agent) == 0


def test_make_demo_from_the_command_line_on_a_new_database(tmp_path):
    """What `make demo` runs, as separate processes: migrate, load, and load again."""
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_SECRET_KEY": "test-secret-key-not-for-production",
        "PORTAL_SMTP_HOST": "",
    }

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    upgrade = flask("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    first = flask("portal", "demo")
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded." in first.stdout
    with closing(sqlite3.connect(tmp_path / "portal.db")) as connection:
        people = connection.execute("SELECT count(*) FROM users").fetchone()[0]
    assert people >= len(PEOPLE)

    second = flask("portal", "demo")
    assert second.returncode == 0, second.stderr
    assert NOT_LOADED in second.stdout
    with closing(sqlite3.connect(tmp_path / "portal.db")) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (people,)
