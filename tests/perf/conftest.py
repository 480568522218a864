"""Seed the benchmark's data set (bench/seed.py) at test size, and count a request's SQL statements."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from bench.seed import Seeded, seed
from portal.core.db import db
from portal.core.security import hash_password
from tests.conftest import PASSWORD, _empty_all_tables, sign_in

# BENCH_SCALE values: 10 reports, 50 survey answers, ... and 1,000 reports, 5,000 answers, ...
SMALL, LARGE = 0.00005, 0.005


@dataclass
class World:
    seeded: Seeded
    clients: dict[str, FlaskClient]


@pytest.fixture
def seed_world(app) -> Callable[[float], World]:
    """seed_world(scale) -> the benchmark's data set at `scale` (tables emptied first), with a
    signed-in test client for each of reporter, triage, manager and trainee."""

    def make(scale: float) -> World:
        with app.app_context():
            _empty_all_tables()
            seeded = seed(db.engine, scale, lambda _: None, password_hash=hash_password(PASSWORD))
        clients = {}
        for role in ("reporter", "triage", "manager", "trainee"):
            client = app.test_client()
            response = sign_in(client, seeded.emails[role])
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            clients[role] = client
        return World(seeded, clients)

    return make
