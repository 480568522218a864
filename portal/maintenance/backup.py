"""Backups of the SQLite database while the portal runs, and bringing one back.

SQLite's online backup API copies the database page by page from one read snapshot, so the copy is
consistent even while app servers write (WAL mode lets them carry on). PostgreSQL has its own tools:
`pg_dump` and `pg_restore` (docs/operations.md). Attachments live in the upload folder, not in the
database: back that folder up beside the database.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """The backup or restore was refused; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size_bytes: int
    revisions: tuple[str, ...]


def sqlite_path(database_url: str | sa.URL) -> Path | None:
    """The database file behind a SQLite URL, or None for another database (or in-memory)."""
    url = sa.make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def postgres_commands(database_url: str | sa.URL, path: str) -> tuple[str, str]:
    """The pg_dump and pg_restore commands for this database (password hidden)."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    return (
        f"pg_dump --format=custom --no-owner --file={path} '{shown}'",
        f"pg_restore --clean --if-exists --no-owner --dbname='{shown}' {path}",
    )


def _integrity(connection: sqlite3.Connection) -> str:
    return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _revisions(connection: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return ()
    return tuple(sorted(row[0] for row in rows))


def backup_sqlite(source: Path, target: Path) -> BackupInfo:
    """Copy the live database at `source` to a new file `target`, consistently, and check the copy.

    Written under a temporary name and moved into place at the end, so `target` is either a whole,
    checked backup or absent.
    """
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if target.exists():
        raise BackupError(f"{target} already exists; give a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one read snapshot, writers are not blocked (WAL)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        integrity = _integrity(dst)
        revisions = _revisions(dst)
    finally:
        dst.close()
        src.close()
    if integrity != "ok" or not revisions:
        partial.unlink(missing_ok=True)
        raise BackupError(
            f"The copy failed its check ({integrity}); nothing was written."
            if integrity != "ok"
            else f"{source} is not a portal database (it has no migration version)."
        )
    os.replace(partial, target)
    return BackupInfo(target, target.stat().st_size, revisions)


def inspect_backup(path: Path, known_revisions: set[str]) -> BackupInfo:
    """Check that `path` is a whole portal backup this code can migrate; refuse anything else."""
    if not path.is_file():
        raise BackupError(f"There is no file at {path}.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            integrity = _integrity(connection)
            revisions = _revisions(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database ({exc}).") from None
    if not revisions:
        raise BackupError(f"{path} is not a portal backup: it has no migration version.")
    if integrity != "ok":
        raise BackupError(f"{path} is damaged: the integrity check says {integrity}.")
    unknown = set(revisions) - known_revisions
    if unknown:
        raise BackupError(
            f"{path} was made by a newer version of the portal (migration {', '.join(unknown)}); "
            "restore it with that version."
        )
    return BackupInfo(path, path.stat().st_size, revisions)


def restore_sqlite(backup: Path, target: Path) -> None:
    """Write the backup's pages into the database at `target` (created if missing).

    Through the backup API rather than a file copy, so a WAL file beside `target` cannot be
    replayed over the restored pages. Stop the app servers first: open transactions are lost.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        integrity = _integrity(dst)
    finally:
        dst.close()
        src.close()
    if integrity != "ok":
        raise BackupError(f"The restored database failed its check: {integrity}.")
