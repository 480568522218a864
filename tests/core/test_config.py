"""The secret key: generated once into the instance folder, private, and the same for every worker."""

import stat
import threading
from pathlib import Path

import pytest
from flask import Flask

from portal import config as portal_config
from portal import create_app
from tests.conftest import base_config


@pytest.fixture
def config_without_key(tmp_path, monkeypatch) -> dict:
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    config = base_config(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path)
    del config["SECRET_KEY"]
    return {**config, "INSTANCE_PATH": str(tmp_path / "instance")}


def _session_cookie_made_by(app: Flask) -> str:
    return app.session_interface.get_signing_serializer(app).dumps({"signed_in": "yes"})


def _session_read_by(app: Flask, cookie: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(cookie)


def test_secret_key_is_generated_once_with_mode_0600_and_reused(config_without_key):
    key_file = Path(config_without_key["INSTANCE_PATH"]) / "secret_key"
    assert not key_file.exists()

    first = create_app(config_without_key)
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert first.config["SECRET_KEY"] == key
    assert len(key) >= 64

    restarted = create_app(config_without_key)
    assert restarted.config["SECRET_KEY"] == key
    assert key_file.read_text().strip() == key
    # People stay signed in across a restart: the new process reads the old process's cookies.
    assert _session_read_by(restarted, _session_cookie_made_by(first)) == {"signed_in": "yes"}
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no leftovers


def test_secret_key_from_the_environment_wins_and_nothing_is_written(
    config_without_key, monkeypatch
):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "a-key-set-by-the-operator")
    app = create_app(config_without_key)
    assert app.config["SECRET_KEY"] == "a-key-set-by-the-operator"
    assert not (Path(config_without_key["INSTANCE_PATH"]) / "secret_key").exists()


def test_workers_starting_together_share_one_key(config_without_key):
    """gunicorn starts its workers at once; each must read the same complete key."""
    workers = 12
    barrier = threading.Barrier(workers)
    keys: list[str] = []
    errors: list[BaseException] = []

    instance = Path(config_without_key["INSTANCE_PATH"])

    # The key-reading step each worker runs at start-up (building whole apps in threads at once trips
    # CPython's compiler, which real worker processes never share).
    def start_worker() -> None:
        barrier.wait()
        try:
            keys.append(portal_config.from_environment(instance)["SECRET_KEY"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start_worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(keys) == workers
    assert len(set(keys)) == 1 and len(keys[0]) >= 64
