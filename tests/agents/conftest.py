"""Factories for the agent registry tests: a filled-in registry form and a SQL statement counter."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal.agents.models import ReportCategory
from portal.core.db import db
from tests.conftest import sign_in


def registry_form(**overrides) -> dict[str, str]:
    """What a person submits on /agents/new (or the edit page, without the slug)."""
    data = {
        "slug": "refund-helper",
        "name": "Refund Helper",
        "description": "Suggests refund amounts for disputed orders.",
        "version": "1.0.0",
        "lifecycle": "pilot",
        "business_owner": "",
        "technical_owner": "",
        "governance_owner": "",
        "quality_min_pct": "95",
        "safety_max_per_1000": "0.5",
        "cost_max_per_unit": "0.25",
        "satisfaction_min": "4",
    }
    data.update({f"routing-{category.value}": "" for category in ReportCategory})
    data.update({key: str(value) for key, value in overrides.items()})
    return data


@pytest.fixture
def browser_as(app):
    """browser_as(user) -> a fresh test client signed in as `user` (several people in one test)."""

    def make(user):
        browser = app.test_client()
        assert sign_in(browser, user).status_code == 302
        return browser

    return make


@pytest.fixture
def count_statements(app):
    """with count_statements() as statements: ... -> the SQL statements the block ran."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        with app.app_context():
            engine = db.engine
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting
