"""Demo data: a populated portal after `make run`. Each domain package adds its own part here."""

from collections.abc import Callable

from portal.accounts import demo as accounts_demo
from portal.agents import demo as agents_demo

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - documented demo credential, demo data only


def load(progress: Callable[[str], None] = print) -> None:
    progress("teams and people")
    people = accounts_demo.load(DEMO_PASSWORD)
    progress("agents")
    agents_demo.load(people)
