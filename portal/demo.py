"""Demo data: a populated portal after `make run`. Each domain package adds its own part here."""

from collections.abc import Callable

from portal.accounts import demo as accounts_demo
from portal.agents import demo as agents_demo
from portal.api import demo as api_demo
from portal.feedback import demo as feedback_demo
from portal.governance import demo as governance_demo
from portal.surveys import demo as surveys_demo
from portal.training import demo as training_demo
from portal.webhooks import demo as webhooks_demo

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - documented demo credential, demo data only


def load(progress: Callable[[str], None] = print) -> None:
    progress("teams and people")
    people = accounts_demo.load(DEMO_PASSWORD)
    # Before training: the demo teams' other members get their team's assignments too.
    progress("survey respondents (team members without an account to sign in with)")
    surveys_demo.add_respondents()
    progress("agents")
    agents_demo.load(people)
    progress("reports (six months of the feedback loop)")
    feedback_demo.load(people)
    progress("training")
    training_demo.load(people)
    progress("surveys")
    surveys_demo.load(people)
    progress("API tokens")
    api_demo.load(people)
    # Last: the quarterly reviews freeze what the other demos produced.
    progress("run figures and quarterly reviews")
    governance_demo.load(people)
    # After the reports: the demo endpoints should not collect an event for every demo report.
    progress("webhook endpoints")
    webhooks_demo.load(people)
