"""`portal backup PATH` and `portal restore PATH`: the SQLite database, while the portal runs."""

import sys
from pathlib import Path

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from portal.core.db import db
from portal.maintenance import backup


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(cfg)


def _sqlite_file_or_refuse(path: str) -> Path:
    url = db.engine.url
    database = backup.sqlite_path(url)
    if database is None:
        dump, restore = backup.postgres_commands(url, path)
        _fail(
            "this command backs up SQLite only. For PostgreSQL use its own tools "
            f"(docs/operations.md):\n  backup:  {dump}\n  restore: {restore}"
        )
    return database


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a consistent copy of the SQLite database to PATH (safe while the portal runs).

    The upload folder (attachments) is not in the database: back it up separately.
    """
    database = _sqlite_file_or_refuse(path)
    try:
        info = backup.backup_sqlite(database, Path(path))
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(
        f"Backup written to {info.path} ({info.size_bytes:,} bytes, migration "
        f"{', '.join(info.revisions)}, integrity ok). Back up the upload folder "
        f"{current_app.config['UPLOAD_FOLDER']} separately."
    )


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH. Stop the app servers first.

    Refuses a file that is not a whole portal backup. Attachments are restored separately.
    """
    database = _sqlite_file_or_refuse(path)
    scripts = _scripts()
    known = {revision.revision for revision in scripts.walk_revisions()}
    try:
        info = backup.inspect_backup(Path(path), known)
    except backup.BackupError as exc:
        _fail(str(exc))
    if not yes:
        click.confirm(
            f"Replace everything in {database} with the backup {path}?", abort=True, err=True
        )
    db.session.remove()
    db.engine.dispose()
    try:
        backup.restore_sqlite(Path(path), database)
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(f"Restored {database} from {path}.")
    if set(info.revisions) != set(scripts.get_heads()):
        click.echo("The backup is from an older version: run `flask --app wsgi db upgrade` now.")
    click.echo(
        f"Restore the attachments into {current_app.config['UPLOAD_FOLDER']} from their own backup."
    )
