"""Demo API tokens, so the "API tokens" card on the account page shows what integrations look like.

The tokens' text is thrown away (only digests are stored), so nothing can use them: create your own
on /account or with `flask --app wsgi portal create-token`.
"""

from datetime import timedelta

from portal.accounts import tokens
from portal.accounts.models import User
from portal.core.timeutil import utcnow

# email, token name, hours since last use (None: never used)
TOKENS = [
    ("admin@example.com", "Deployment pipeline", 3),
    ("tech@example.com", "Support Assistant run hook", 0.2),
    ("tech@example.com", "Old staging script", None),
    ("triage@example.com", "Queue export to the ops dashboard", 26),
]


def load(people: dict[str, User]) -> None:
    now = utcnow()
    for email, name, hours in TOKENS:
        issued = tokens.issue_token(people[email], name)
        issued.row.created_at = now - timedelta(days=40)
        if hours is not None:
            issued.row.last_used_at = now - timedelta(hours=hours)
