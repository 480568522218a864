"""SQLite connection settings: concurrent readers (WAL), waiting instead of 'locked', foreign keys on."""

import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal.accounts.models import Role, UserRole
from portal.core.db import db


def _pragmas(connection) -> dict[str, object]:
    return {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "foreign_keys", "busy_timeout")
    }


def test_every_sqlite_connection_has_wal_foreign_keys_and_a_busy_timeout(make_app, sqlite_file_url):
    app = make_app(sqlite_file_url)
    seen: list[dict] = []

    def connect_elsewhere() -> None:
        with app.app_context(), db.engine.connect() as connection:
            seen.append(_pragmas(connection))

    with app.app_context():
        with db.engine.connect() as first, db.engine.connect() as second:
            seen += [_pragmas(first), _pragmas(second)]
        thread = threading.Thread(target=connect_elsewhere)
        thread.start()
        thread.join()

    assert len(seen) == 3
    for pragmas in seen:
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["foreign_keys"] == 1
        assert pragmas["busy_timeout"] >= 1000


def test_sqlite_refuses_a_row_pointing_at_a_missing_person(make_app, sqlite_file_url):
    app = make_app(sqlite_file_url)
    with app.app_context():
        upgrade()
        db.session.add(UserRole(user_id=424242, role=Role.ADMIN))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserRole)) == 0
