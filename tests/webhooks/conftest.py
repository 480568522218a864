"""A real HTTP receiver on loopback that checks signatures, and factories for webhook tests."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.accounts.models import User
from portal.core.db import db
from portal.webhooks import services as webhooks
from portal.webhooks.models import EventKind

SECRET = "test-signing-secret-0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a receiver would do: verify X-Portal-Signature over the raw body, reject stale
    timestamps and event ids already seen (replays), answer with `status`."""

    secret: str = SECRET
    status: int = 204
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    replays_rejected: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/portal"

    def accept(self, headers: dict[str, str], body: bytes) -> int:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, headers.get("X-Portal-Signature", ""))
        self.received.append(Received(headers, body, ok))
        if not ok:
            return 401
        envelope = json.loads(body)
        if abs(time.time() - envelope["timestamp"]) > 300 or envelope["id"] in self.seen_ids:
            self.replays_rejected += 1
            return 409
        if self.status < 300:
            self.seen_ids.add(envelope["id"])
        return self.status


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.delay:
                time.sleep(state.delay)
            status = state.accept(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_endpoint(app):
    """make_endpoint(admin, url, events=[...]) -> the endpoint's id (secret: SECRET)."""

    def make(admin, url: str, events: list[str] | None = None, name: str = "Incident bot") -> int:
        with app.app_context():
            endpoint = webhooks.create_endpoint(
                name,
                url,
                events or [kind.value for kind in EventKind],
                db.session.get(User, admin.id),
                SECRET,
            )
            db.session.commit()
            return endpoint.id

    return make


@pytest.fixture
def deliver(app):
    """deliver(now=None) runs the sweep's webhook task once; returns how many were delivered."""

    def run(now=None) -> int:
        from portal.core.timeutil import utcnow

        with app.app_context():
            done = webhooks.deliver_due_webhooks(now or utcnow())
            db.session.commit()
            db.session.remove()
            return done

    return run
