"""`flask --app wsgi portal ...`: administration commands for operators and scripts."""

import os
import sys

import click
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.core.db import db


@click.group("portal")
def portal_cli() -> None:
    """Agent Adoption Portal administration."""


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@portal_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help=f"A role ({', '.join(r.value for r in Role)}); repeat for several.",
)
@click.option("--team", default=None, help="Team name; created if it does not exist.")
@click.option("--password", default=None, help="Password (else PORTAL_PASSWORD, else a prompt).")
def create_user_command(email, name, roles, team, password) -> None:
    """Create an account that can sign in straight away."""
    try:
        parsed_roles = accounts.parse_roles(roles)
    except accounts.AccountError as exc:
        fail(str(exc))
    password = password or os.environ.get("PORTAL_PASSWORD")
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        team_row = accounts.get_or_create_team(team) if team else None
        user = accounts.create_user(email, name, parsed_roles, team=team_row, password=password)
    except accounts.AccountError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    role_text = ", ".join(sorted(r.value for r in user.assigned_roles)) or "reporter"
    click.echo(f"Created {user.email} ({role_text}).")


@portal_cli.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token, e.g. 'deployment pipeline'.")
def create_token_command(email, name) -> None:
    """Create an API token for EMAIL and print it once (only its digest is stored).

    The token alone goes to stdout, so scripts can capture it; the notice goes to stderr.
    """
    from portal.accounts import tokens

    user = accounts.get_user_by_email(email)
    if user is None:
        fail(f"No account has the email {email}.")
    try:
        issued = tokens.issue_token(user, name)
    except accounts.AccountError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(
        f"Created the API token '{issued.row.name}' for {user.email}. "
        "Copy it now: it is not shown again.",
        err=True,
    )
    click.echo(issued.token)


@portal_cli.command("demo")
def demo_command() -> None:
    """Load demo data into an empty database (does nothing if anyone has an account)."""
    from portal import demo

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("The database already has accounts; demo data not loaded.")
        return
    demo.load(progress=lambda message: click.echo(f"  {message}"))
    db.session.commit()
    click.echo(
        "Demo data loaded. Sign in with any account in README.md (password: demo-password-1)."
    )


@portal_cli.command("sweep")
def sweep_command() -> None:
    """Run the periodic work once (cron it every few minutes; safe to run twice at once)."""
    from portal.core.sweep import run_sweep
    from portal.core.timeutil import utcnow

    results = run_sweep(utcnow())
    if results is None:
        click.echo("Another sweep is running; nothing done.")
        return
    for name, count in results.items():
        click.echo(f"{name}: {'failed (see log)' if count < 0 else count}")
    if any(count < 0 for count in results.values()):
        sys.exit(1)


# Commands defined by feature packages, grouped under `portal`.
from portal.maintenance.cli import backup_command, restore_command  # noqa: E402

portal_cli.add_command(backup_command)
portal_cli.add_command(restore_command)

from portal.surveys.cli import survey_rollups_command  # noqa: E402

portal_cli.add_command(survey_rollups_command)


@portal_cli.command("rebuild-report-tallies")
def rebuild_report_tallies_command() -> None:
    """Rewrite the monthly report tallies (the dashboards' closed-loop counts) from the reports,
    after a bulk import or a repair by hand; every change through the portal keeps them current.
    Also renews the reports' generation token, so no process serves a queue cached before."""
    from portal.feedback.services import reports_written_in_bulk

    rows = reports_written_in_bulk(db.session.connection())
    db.session.commit()
    click.echo(f"report_tallies: {rows} rows")
