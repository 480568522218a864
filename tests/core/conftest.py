"""Fixtures for platform tests: brand-new empty databases (no migrations run) of each kind."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.core.db import db
from tests.conftest import base_config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """A database with no tables at all: a new SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"portal_empty_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def make_app(tmp_path) -> Iterator[Callable[..., Flask]]:
    """make_app(database_url, **overrides) -> an app on that database; engines disposed afterwards."""
    made: list[Flask] = []

    def make(database_url: str, **overrides) -> Flask:
        app = create_app({**base_config(database_url, tmp_path), **overrides})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'portal.db'}"
