"""`portal backup` copies a live SQLite database consistently; `portal restore` brings it back and
refuses anything that is not a portal backup. On PostgreSQL it points to pg_dump."""

import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from portal import create_app
from portal.accounts.models import User
from portal.core.db import db
from portal.notifications.models import Notification
from portal.notifications.services import notify
from tests.conftest import base_config, migrate_to_head


def _sqlite_app(path: Path, tmp: Path):
    config = base_config(f"sqlite:///{path}", tmp)
    if not path.exists():
        migrate_to_head(config)
    return create_app(config)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_backup_while_writing_then_restore_into_a_new_database(tmp_path):
    live = tmp_path / "live.db"
    live_app = _sqlite_app(live, tmp_path)
    with live_app.app_context():
        from portal.accounts import services as accounts

        user = accounts.create_user("rosa@example.com", "Rosa", set(), password="a-long-password")
        db.session.commit()
        user_id = user.id

    stop = threading.Event()
    written = []

    def keep_writing():
        with live_app.app_context():
            while not stop.is_set():
                notify(db.session.get(User, user_id), "test", f"Note {len(written)}", "", "/")
                db.session.commit()
                written.append(1)
        with live_app.app_context():
            db.engine.dispose()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    while len(written) < 20:
        time.sleep(0.01)
    target = tmp_path / "backups" / "portal-backup.db"
    target.parent.mkdir()
    result = live_app.test_cli_runner().invoke(args=["portal", "backup", str(target)])
    stop.set()
    writer.join()
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output and "upload folder" in result.output
    assert not (tmp_path / "backups" / "portal-backup.db-wal").exists()

    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_backup = copy.execute("SELECT count(*) FROM notifications").fetchone()[0]
    copy.close()
    assert 20 <= in_backup <= len(written)
    again = live_app.test_cli_runner().invoke(args=["portal", "backup", str(target)])
    assert again.exit_code == 1 and "already exists" in again.output

    restored_path = tmp_path / "restored" / "portal.db"
    restored_app = create_app(base_config(f"sqlite:///{restored_path}", tmp_path))
    result = restored_app.test_cli_runner().invoke(args=["portal", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"Restored {restored_path}" in result.output
    assert _count(restored_app, Notification) == in_backup
    with restored_app.app_context():
        assert db.session.scalar(sa.select(User.email)) == "rosa@example.com"
        assert db.session.scalar(sa.text("PRAGMA integrity_check")) == "ok"
        db.engine.dispose()
    assert restored_app.test_client().get("/readyz").status_code == 200
    with live_app.app_context():
        db.engine.dispose()


def test_restore_refuses_what_is_not_a_portal_backup_and_asks_first(tmp_path):
    target_app = _sqlite_app(tmp_path / "portal.db", tmp_path)
    runner = target_app.test_cli_runner()
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database at all " * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE things (id INTEGER)").connection.commit()

    result = runner.invoke(args=["portal", "restore", str(text_file), "--yes"])
    assert result.exit_code == 1 and "not a SQLite database" in result.output
    result = runner.invoke(args=["portal", "restore", str(other), "--yes"])
    assert result.exit_code == 1 and "not a portal backup" in result.output
    result = runner.invoke(args=["portal", "restore", str(tmp_path / "missing.db"), "--yes"])
    assert result.exit_code == 1 and "There is no file" in result.output

    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["portal", "backup", str(backup)]).exit_code == 0
    with target_app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO teams (name, description, created_at) VALUES ('After', '', '2026-01-01')"
            )
        )
        db.session.commit()
    result = runner.invoke(args=["portal", "restore", str(backup)], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    with target_app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM teams")) == 1
    result = runner.invoke(args=["portal", "restore", str(backup)], input="y\n")
    assert result.exit_code == 0, result.output
    with target_app.app_context():
        db.session.remove()
        assert db.session.scalar(sa.text("SELECT count(*) FROM teams")) == 0
        db.engine.dispose()


def test_backup_on_postgresql_points_to_pg_dump(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["portal", "backup", str(tmp_path / "b.dump")])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert result.exit_code == 1
        assert "pg_dump --format=custom" in result.output
        assert "pg_restore" in result.output
        assert not (tmp_path / "b.dump").exists()
    else:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "b.dump").exists()
