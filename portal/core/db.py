"""The SQLAlchemy handle, column types shared by every model, and connection settings."""

import enum
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from portal.core.timeutil import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that always comes back timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite stores text; keep it naive UTC so comparisons sort correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class LabelledEnum(enum.Enum):
    """An enum whose members carry a stable id (stored, used in the API) and a label for people."""

    def __new__(cls, value: str, label: str):
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its id as plain VARCHAR, so adding a member needs no database type change."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def insert_for(dialect: str):
    """The INSERT construct with ON CONFLICT clauses for `dialect` ("postgresql" or "sqlite"):
    both spell upserts and insert-or-ignore the same way."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL for concurrent readers, a busy timeout instead of instant 'database is locked', FKs on.

    The driver's own transaction handling stays on purpose: it begins a transaction at the first write,
    so reads never hold a snapshot that would make a later write fail at once with "database is locked"
    instead of waiting for the busy timeout. The price: on SQLite a released savepoint commits.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_IDLE_SINCE = "portal_idle_since"


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Before a pooled connection is used, ping it if it has been idle `idle_seconds` or longer.

    A connection the database or a firewall closed while it sat in the pool (a restart, a
    failover, an idle timeout) is then replaced instead of failing the request, as with SQLAlchemy's
    `pool_pre_ping`; but a connection back in use within the second is not pinged: under load that
    ping is a round trip on every request, guarding a connection that just worked.
    """

    @sa.event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one that just worked
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # leave it as the pool hands it out: in no transaction
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(exc)) from exc  # the pool connects afresh
            raise
