"""`portal survey-rollups`: rewrite the survey rollups of every closed round."""

import click
from flask.cli import with_appcontext

from portal.core.db import db
from portal.surveys.services import rebuild_survey_rollups


@click.command("survey-rollups")
@with_appcontext
def survey_rollups_command() -> None:
    """Rewrite the survey rollups of every closed round from the answers (after a bulk import or a
    repair by hand; closing a round writes its own). Safe to run at any time."""
    counts = rebuild_survey_rollups()
    db.session.commit()
    for table, rows in counts.items():
        click.echo(f"{table}: {rows} rows")
