"""API test helpers: tokens made through the token service, and a client that sends one."""

import pytest
from flask.testing import FlaskClient

from portal.accounts import tokens
from portal.accounts.models import User
from portal.core.db import db


@pytest.fixture
def make_token(app):
    """make_token(user, name) -> the full token text, as the person would copy it."""

    def make(user: User, name: str = "test token") -> str:
        with app.app_context():
            issued = tokens.issue_token(db.session.get(User, user.id), name)
            db.session.commit()
            return issued.token

    return make


class ApiClient:
    """A test client that sends `Authorization: Bearer <token>` with every request."""

    def __init__(self, client: FlaskClient, token: str):
        self.client = client
        self.token = token

    def open(self, url: str, method: str = "GET", headers: dict | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self.open(url, "GET", **kwargs)

    def post(self, url: str, **kwargs):
        return self.open(url, "POST", **kwargs)

    def patch(self, url: str, **kwargs):
        return self.open(url, "PATCH", **kwargs)


@pytest.fixture
def api(app, make_token):
    """api(user) -> an ApiClient acting with a token of `user` (one token per person per test)."""
    clients: dict[int, ApiClient] = {}

    def make(user: User) -> ApiClient:
        if user.id not in clients:
            clients[user.id] = ApiClient(app.test_client(), make_token(user))
        return clients[user.id]

    return make
