"""Data generations: one opaque token per area of data (say "reports"), replaced in the same
transaction as any change to that area. Whatever is computed from the area can be cached under
the token it was read at (portal.core.fragments) and is never served once the data changed.

A domain package says which models (and, optionally, which of their columns) belong to an area
with `watch`. Every session then notes, after each flush, the areas its changes touched (and ORM
`UPDATE`/`DELETE` statements on watched models), and just before it commits gives each touched
area a new random token (one `UPDATE` per area, the last statement of the transaction, so its row
lock is held only for the commit). A rolled-back change leaves the old token, and a token is never
used twice, so a cache can never pair an old token with other data.

Writes that bypass the ORM session (bulk loads through a bare connection) must call `renew` in
their transaction, or run before the app serves (caches start empty in each process).
"""

import secrets
from collections.abc import Iterable
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.db import db, insert_for

_TOUCHED = "portal.generations.touched"
# model class -> [(area, the attribute keys that matter, or None for any change)]
_WATCHED: dict[type, list[tuple[str, frozenset[str] | None]]] = {}


class DataGeneration(db.Model):
    __tablename__ = "data_generations"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


def watch(area: str, model: type, columns: Iterable[str] | None = None) -> None:
    """Changes to `model` (or only to the attributes named in `columns`) renew `area`."""
    _WATCHED.setdefault(model, []).append((area, frozenset(columns) if columns else None))


def new_token() -> str:
    return secrets.token_hex(16)


def token_of(area: str) -> sa.ScalarSelect:
    """The area's token as this transaction sees it (NULL before its first change), as a scalar
    subquery: a page reads it in the same statement as the rest of its cache key."""
    return sa.select(DataGeneration.token).where(DataGeneration.name == area).scalar_subquery()


def current(area: str) -> str | None:
    return db.session.scalar(sa.select(token_of(area)))


def renew(connection: sa.Connection, areas: Iterable[str]) -> None:
    """Give each of `areas` a new token, in `connection`'s transaction."""
    insert = insert_for(connection.dialect.name)
    table = DataGeneration.__table__
    for area in sorted(set(areas)):  # always the same order: no lock cycles between writers
        stmt = insert(table).values(name=area, token=new_token())
        # An upsert: two first changes to an area racing each other both succeed.
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.name], set_={"token": stmt.excluded.token}
            )
        )


def _areas_changed(obj, is_dirty: bool) -> list[str]:
    areas = []
    for area, columns in _WATCHED.get(type(obj), ()):
        if is_dirty and columns is not None:
            state = sa.inspect(obj)
            if not any(state.attrs[key].history.has_changes() for key in columns):
                continue
        areas.append(area)
    return areas


@sa.event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _flush_context) -> None:
    if not _WATCHED:
        return
    touched = set()
    for obj in chain(session.new, session.deleted):
        touched.update(_areas_changed(obj, is_dirty=False))
    for obj in session.dirty:
        touched.update(_areas_changed(obj, is_dirty=True))
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@sa.event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        areas = [area for area, _ in _WATCHED.get(state.bind_mapper.class_, ())]
        if areas:
            state.session.info.setdefault(_TOUCHED, set()).update(areas)


@sa.event.listens_for(Session, "before_commit")
def _renew_touched_areas(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook: note its changes too
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        renew(session.connection(), touched)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back_changes(session: Session, transaction) -> None:
    # Only the whole transaction's end: a savepoint rolled back keeps what the rest of it touched.
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)
