"""Twenty API clients file reports at once into gunicorn (gunicorn.conf.py, 4 workers) for five
seconds, on SQLite and on PostgreSQL: no errors, and every acknowledged report stored exactly once."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.client import Client, Request
from bench.seed import seed
from portal.core.security import hash_password
from tests.conftest import FAST_ARGON2, base_config, migrate_to_head

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 20
SECONDS = 5.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database(request, tmp_path) -> str:
    """A migrated database holding the benchmark's smallest data set (agents, people, a token)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = server.create_database(f"portal_load_{worker}_{uuid.uuid4().hex[:8]}")
    migrate_to_head(base_config(url, tmp_path))
    return url


def is_ready(client: Client) -> bool:
    try:
        return client.get("/readyz").status == 200
    except (OSError, http.client.HTTPException):  # not listening yet
        return False


@pytest.fixture
def gunicorn(served_database, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": served_database,
        "PORTAL_SECRET_KEY": "load-test-secret-key",
        "PORTAL_WORKERS": "4",
        "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    client = Client("127.0.0.1", port)
    deadline = time.monotonic() + 60
    while not is_ready(client):
        assert process.poll() is None and time.monotonic() < deadline, (
            tmp_path / "gunicorn.log"
        ).read_text()[-3000:]
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(30)
    log.close()


def test_concurrent_filing_loses_and_doubles_nothing(served_database, gunicorn, tmp_path):
    engine = sa.create_engine(served_database)
    from portal import create_app

    with create_app(
        {**base_config(served_database, tmp_path), "ARGON2_PARAMS": FAST_ARGON2}
    ).app_context():
        seeded = seed(engine, 0.00005, lambda _: None, password_hash=hash_password("x"))
    with engine.connect() as conn:
        before = conn.scalar(sa.text("SELECT count(*) FROM reports"))

    accepted: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def file_reports(n: int) -> None:
        client = Client("127.0.0.1", gunicorn, timeout=30)
        headers = {
            "Authorization": f"Bearer {seeded.api_token}",
            "Content-Type": "application/json",
        }
        while time.monotonic() < stop_at:
            body = json.dumps(
                {
                    "agent": seeded.agent_slugs[n % len(seeded.agent_slugs)],
                    "category": "unavailable",
                    "summary": f"Client {n} saw a timeout",
                }
            ).encode()
            request = Request(
                "POST", "/api/v1/reports", body, {**headers, "Idempotency-Key": uuid.uuid4().hex}
            )
            try:
                response = client.send(request)
            except Exception as exc:
                with lock:
                    failures.append(repr(exc))
                continue
            with lock:
                if response.status == 201:
                    accepted.append(response.json()["id"])
                else:
                    failures.append(f"{response.status}: {response.text[:200]}")

    threads = [threading.Thread(target=file_reports, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(accepted) >= CLIENTS  # the load really happened
    assert len(set(accepted)) == len(accepted)
    with engine.connect() as conn:
        stored = conn.scalar(
            sa.select(sa.func.count())
            .select_from(sa.table("reports", sa.column("id")))
            .where(sa.column("id").in_(accepted))
        )
        total = conn.scalar(sa.text("SELECT count(*) FROM reports"))
    engine.dispose()
    assert stored == len(accepted)
    assert total == before + len(accepted)
