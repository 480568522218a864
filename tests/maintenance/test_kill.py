"""Nothing acknowledged is lost when the server dies mid-request: gunicorn (2 workers) on a SQLite
file takes a burst of API reports from several threads, is killed with SIGKILL (master and
workers) midway, restarts, and every report answered 201 is in the database exactly once."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts import tokens
from portal.agents.models import Agent, Lifecycle
from portal.core.db import db
from tests.conftest import base_config, migrate_to_head

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
THREADS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(database: Path, tmp: Path) -> list[str]:
    """A migrated database with one person, an agent, and a token per sending thread."""
    config = base_config(f"sqlite:///{database}", tmp)
    migrate_to_head(config)
    app = create_app(config)
    with app.app_context():
        user = accounts.create_user("sender@example.com", "Sam Sender", set())
        db.session.add(
            Agent(
                slug="burst-agent", name="Burst Agent", version="1", lifecycle=Lifecycle.PRODUCTION
            )
        )
        made = [tokens.issue_token(user, f"thread {n}").token for n in range(THREADS)]
        db.session.commit()
        db.engine.dispose()
    return made


class Server:
    def __init__(self, database: Path, tmp: Path):
        self.port = _free_port()
        self.env = {
            **os.environ,
            "PORTAL_DATABASE_URL": f"sqlite:///{database}",
            "PORTAL_SECRET_KEY": "kill-test-secret",
            "PORTAL_UPLOAD_FOLDER": str(tmp / "uploads"),
            "PORTAL_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.log = tmp / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    str(GUNICORN),
                    "--config",
                    "gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill reaches every worker
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.kill()
        pytest.fail(f"gunicorn did not become ready:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _post_report(base: str, token: str, summary: str) -> int | None:
    body = json.dumps(
        {"agent": "burst-agent", "category": "wrong_output", "summary": summary}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http
        f"{base}/api/v1/reports",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None  # the server died under the request: not acknowledged


def test_every_acknowledged_report_survives_a_kill(tmp_path):
    database = tmp_path / "portal.db"
    sent_tokens = _seed(database, tmp_path)
    server = Server(database, tmp_path)
    server.start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def burst(n: int) -> None:
        count = 0
        while not stop.is_set():
            summary = f"burst report {n}-{count}"
            count += 1
            if _post_report(server.url, sent_tokens[n], summary) == 201:
                acknowledged.append(summary)

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # SIGKILL to master and workers, with requests in flight
        killed_at = len(acknowledged)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert killed_at >= 40, server.log.read_text()[-3000:]

        server.start()
        assert _post_report(server.url, sent_tokens[0], "after the restart") == 201
    finally:
        stop.set()
        server.stop()

    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(
            connection.execute("SELECT summary, count(*) FROM reports GROUP BY summary").fetchall()
        )
    finally:
        connection.close()
    missing = [s for s in acknowledged if s not in stored]
    doubled = [s for s in acknowledged if stored.get(s, 0) > 1]
    assert not missing, f"acknowledged but lost: {missing}"
    assert not doubled, f"stored more than once: {doubled}"
    assert stored["after the restart"] == 1
