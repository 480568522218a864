"""`flask --app wsgi portal create-user`: accounts for operators and scripts."""

import sqlalchemy as sa

from portal.accounts.models import Team, User
from portal.core.db import db
from tests.conftest import sign_in

PASSWORD = "Long-pass-123!"


def _create_user(app, *args: str, env: dict | None = None, input: str | None = None):
    # `flask` pushes the app context for app.cli commands; the test runner does not.
    with app.app_context():
        return app.test_cli_runner().invoke(
            args=["portal", "create-user", *args], env=env, input=input
        )


def _user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_created_user_can_sign_in_with_their_roles_and_team(app, client):
    result = _create_user(
        app,
        "A@Example.com",
        "--name",
        "A Person",
        "--role",
        "admin",
        "--role",
        "triage",
        "--team",
        "AI Operations",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Created a@example.com (admin, triage)." in result.output
    assert sign_in(client, "a@example.com", PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200  # the admin role took effect
    page = client.get("/admin/teams").get_data(as_text=True)
    assert "AI Operations" in page
    assert sign_in(app.test_client(), "a@example.com", "wrong-password-here").status_code == 400


def test_password_from_portal_password(app, client):
    result = _create_user(
        app, "env@example.com", "--name", "From Env", env={"PORTAL_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    assert "Created env@example.com (reporter)." in result.output
    assert sign_in(client, "env@example.com", PASSWORD).status_code == 302


def test_password_from_a_prompt_when_nothing_else_gives_one(app, client):
    result = _create_user(
        app, "prompt@example.com", "--name", "Prompted", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "prompt@example.com", PASSWORD).status_code == 302


def test_unknown_role_is_a_clear_error_with_exit_code_1(app):
    result = _create_user(
        app, "x@example.com", "--name", "X", "--role", "wizard", "--password", PASSWORD
    )
    assert result.exit_code == 1
    assert "Error: Unknown role 'wizard'." in result.output
    assert "Valid roles: reporter, trainee, triage, owner, manager, admin." in result.output
    assert _user_count(app) == 0


def test_duplicate_email_is_a_clear_error_with_exit_code_1(app, make_user):
    make_user(email="taken@example.com")
    result = _create_user(
        app, "Taken@example.com", "--name", "Again", "--team", "New Team", "--password", PASSWORD
    )
    assert result.exit_code == 1
    assert "Error: An account with the email taken@example.com already exists." in result.output
    assert _user_count(app) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0


def test_bad_email_or_short_password_is_refused(app):
    bad_email = _create_user(app, "not-an-email", "--name", "X", "--password", PASSWORD)
    assert bad_email.exit_code == 1
    assert "Error:" in bad_email.output and "@" in bad_email.output
    short = _create_user(app, "short@example.com", "--name", "X", "--password", "short")
    assert short.exit_code == 1
    assert "Error: Use at least 12 characters." in short.output
    assert _user_count(app) == 0


def test_deactivated_cli_user_cannot_sign_in(app, client, make_user):
    assert (
        _create_user(app, "cli@example.com", "--name", "Cli", "--password", PASSWORD).exit_code == 0
    )
    admin = make_user("admin")
    sign_in(client, admin)
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "cli@example.com"))
    client.post(f"/admin/users/{user_id}/deactivate")
    assert sign_in(app.test_client(), "cli@example.com", PASSWORD).status_code == 400
