"""Periodic work (`flask --app wsgi portal sweep`): SLA escalation, reminders, survey rounds, retries.

Domain packages register idempotent tasks here; one command runs them all, and two runs at once are
safe because each task only acts on rows still due (and, on PostgreSQL, a lock keeps runs apart).
"""

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from portal.core.db import db

log = logging.getLogger(__name__)

SweepTask = Callable[[datetime], int]
_TASKS: dict[str, SweepTask] = {}
_PG_LOCK_ID = 7_301_112  # an arbitrary constant, the same in every process


def sweep_task(name: str) -> Callable[[SweepTask], SweepTask]:
    """Register `func(now) -> number of things done` as part of `portal sweep`."""

    def register(func: SweepTask) -> SweepTask:
        _TASKS[name] = func
        return func

    return register


def registered_tasks() -> dict[str, SweepTask]:
    return dict(_TASKS)


def run_sweep(now: datetime) -> dict[str, int] | None:
    """Run every task once, each committed on its own. None if another sweep holds the lock."""
    is_pg = db.engine.dialect.name == "postgresql"
    if is_pg and not db.session.scalar(sa.text(f"SELECT pg_try_advisory_lock({_PG_LOCK_ID})")):
        return None
    results = {}
    try:
        for name, task in _TASKS.items():
            try:
                results[name] = task(now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("sweep task %s failed", name)
                results[name] = -1
    finally:
        if is_pg:
            db.session.execute(sa.text(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})"))
            db.session.commit()
    return results
