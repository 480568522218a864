"""Pooled connections: one the database closed while it sat idle is replaced before a request uses
it (portal.core.db.ping_when_idle), on a real PostgreSQL whose server process is terminated."""

import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from portal.core.db import db

BACKEND = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return postgres_server.create_database(f"portal_ping_{uuid.uuid4().hex[:12]}")


def _pooled_backend(app) -> int:
    """The server process behind the pool's connection (back in the pool on return)."""
    with app.app_context():
        backend = db.session.scalar(BACKEND)
        db.session.remove()
    return backend


def _terminate(url: str, backend: int) -> None:
    """What a database restart, a failover or a firewall's idle timeout does to a connection."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as admin:
        assert admin.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    engine.dispose()


def test_a_connection_closed_while_idle_in_the_pool_is_replaced_before_use(make_app, postgres_url):
    app = make_app(postgres_url, DB_PING_AFTER=0.05)
    backend = _pooled_backend(app)
    _terminate(postgres_url, backend)
    time.sleep(0.1)  # idle past DB_PING_AFTER: pinged, found closed, replaced

    with app.app_context():
        assert db.session.scalar(BACKEND) != backend  # answered, on a new connection


def test_a_connection_back_in_use_within_the_idle_time_is_not_pinged(make_app, postgres_url):
    """The other side of the trade: no ping (no round trip) for a connection that just worked. Its
    closing surfaces on use; the pool then drops every connection opened before it."""
    app = make_app(postgres_url, DB_PING_AFTER=3600)
    backend = _pooled_backend(app)
    _terminate(postgres_url, backend)

    with app.app_context():
        with pytest.raises(sa.exc.OperationalError):
            db.session.scalar(BACKEND)
        db.session.rollback()
        assert db.session.scalar(BACKEND) != backend  # the next use reconnects


def test_ping_after_zero_pings_before_every_use(make_app, postgres_url):
    app = make_app(postgres_url, DB_PING_AFTER=0)
    backend = _pooled_backend(app)
    _terminate(postgres_url, backend)

    with app.app_context():
        assert db.session.scalar(BACKEND) != backend
