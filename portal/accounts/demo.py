"""Demo teams and people: at least one account per role (README lists them)."""

from portal.accounts import services
from portal.accounts.models import Role, User

TEAMS = [
    ("Customer Support", "Front line for customer questions, works beside the support agents."),
    ("Claims Operations", "Processes insurance claims with the claims triage agent."),
    ("Finance", "Invoices and reconciliation."),
    ("AI Operations", "Runs agents in production: triage, routing, SLAs."),
    ("Governance Council", "Reviews each agent quarterly against its success thresholds."),
]

# email, name, team, roles
PEOPLE = [
    ("admin@example.com", "Ada Admin", "AI Operations", [Role.ADMIN]),
    ("triage@example.com", "Tomas Triage", "AI Operations", [Role.TRIAGE]),
    ("owner@example.com", "Olivia Owner", "Customer Support", [Role.OWNER]),
    ("tech@example.com", "Theo Tech", "AI Operations", [Role.OWNER]),
    (
        "governance@example.com",
        "Grace Governance",
        "Governance Council",
        [Role.OWNER, Role.MANAGER],
    ),
    ("manager@example.com", "Maya Manager", "Customer Support", [Role.MANAGER]),
    ("reporter@example.com", "Rosa Reporter", "Customer Support", [Role.REPORTER]),
    ("trainee@example.com", "Tariq Trainee", "Claims Operations", [Role.TRAINEE]),
    ("sam@example.com", "Sam Skeptic", "Claims Operations", [Role.REPORTER]),
    ("fiona@example.com", "Fiona Finance", "Finance", [Role.REPORTER]),
    ("li@example.com", "Li Wei", "Customer Support", [Role.REPORTER]),
    ("omar@example.com", "Omar Haddad", "Claims Operations", [Role.REPORTER]),
    ("priya@example.com", "Priya Natarajan", "Finance", [Role.OWNER]),
]


def load(password: str) -> dict[str, User]:
    teams = {name: services.create_team(name, text) for name, text in TEAMS}
    people: dict[str, User] = {}
    first: User | None = None
    for email, name, team, roles in PEOPLE:
        # Every demo account has the same documented password: hash it once (Argon2 is slow on
        # purpose, and 13 hashes were most of the demo's loading time).
        person = services.create_user(
            email, name, set(roles), teams[team], password=None if first else password
        )
        if first is None:
            first = person
        else:
            person.password_hash = first.password_hash
            person.password_changed_at = first.password_changed_at
        people[email] = person
    return people
