"""Factories for the accounts tests: a signed-in admin, teams, and reading links out of pages."""

import re

import pytest
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import SetPasswordLink, Team, User
from portal.core.db import db

LINK_PATH = re.compile(r"/set-password/[A-Za-z0-9_-]+")


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin", email="ada@example.com")


@pytest.fixture
def admin_client(client, login, admin):
    """The test client, signed in as `admin`."""
    return login(admin)


@pytest.fixture
def make_team(app):
    def make(name: str, description: str = "") -> Team:
        with app.app_context():
            team = accounts.create_team(name, description)
            db.session.commit()
            db.session.refresh(team)
            db.session.expunge(team)
            return team

    return make


@pytest.fixture
def stored_user(app):
    """stored_user(email) -> the User row as the database has it now (or None)."""

    def read(email: str) -> User | None:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is not None:
                db.session.expunge(user)
            return user

    return read


@pytest.fixture
def role_names(app):
    def read(email: str) -> set[str]:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            return {role.value for role in user.assigned_roles}

    return read


def link_paths(html: str) -> list[str]:
    """Every set-password link path shown on a page, in page order, without repeats."""
    return list(dict.fromkeys(LINK_PATH.findall(html)))


def link_count(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SetPasswordLink)
            .join(User, SetPasswordLink.user_id == User.id)
            .where(User.email == email)
        )


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the page has the checkbox name=value ticked."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return re.search(r"\schecked[\s>]", tag) is not None
    raise AssertionError(f"no checkbox {name}={value} on the page")


@pytest.fixture
def count_statements(app):
    """with count_statements() as seen: ...; len(seen) is the number of SQL statements run."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting
