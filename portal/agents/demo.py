"""Demo agents in different lifecycles, with owners, routing and thresholds.

Also the calendar of the demo's story, shared by every demo module: six closed months before the
current one, and Claims Triage's bad release (0.9.0) in the third of them. Trust drops that month
(surveys), reports cluster in it and are acted on over the next weeks (feedback), claims officers
re-certify (training) and the council decides "modify" for its quarter (governance).
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from portal.accounts.models import User
from portal.agents.models import Agent, Lifecycle, ReportCategory, RoutingRule
from portal.core.db import db

STORY_MONTHS = 6
BAD_RELEASE_MONTH_INDEX = 2  # the third of the six months, counted from 0


def story_months(today: date) -> list[date]:
    """The first days of the story's six closed months, oldest first (the current month is not one)."""
    months = []
    year, month = today.year, today.month
    for _ in range(STORY_MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(date(year, month, 1))
    return months[::-1]


def bad_release_month(today: date) -> date:
    """The first day of the month Claims Triage 0.9.0 went live and broke policy-number reading."""
    return story_months(today)[BAD_RELEASE_MONTH_INDEX]


def claims_triage_version_at(moment: datetime, now: datetime) -> str:
    """Claims Triage's live version at `moment`: 0.9.0 went live on the 4th of the release month,
    0.9.1 fixed it three weeks later, and 0.9.2 arrived in the last week."""
    released = datetime.combine(bad_release_month(now.date()), time(9), tzinfo=UTC)
    if moment < released + timedelta(days=3):
        return "0.8.4"
    if moment < released + timedelta(days=24):
        return "0.9.0"
    return "0.9.1" if moment < now - timedelta(days=7) else "0.9.2"


AGENTS = [
    {
        "slug": "support-assistant",
        "name": "Support Assistant",
        "description": (
            "Drafts replies to customer emails and chat messages from the knowledge base. "
            "Agents review every draft before it is sent."
        ),
        "version": "2.3.0",
        "lifecycle": Lifecycle.PRODUCTION,
        "owners": ("owner@example.com", "tech@example.com", "governance@example.com"),
        "routing": {
            ReportCategory.UNSAFE: "governance@example.com",
            ReportCategory.USABILITY: "owner@example.com",
        },
        "thresholds": ("92", "0.5", "0.35", "4.0"),
    },
    {
        "slug": "claims-triage",
        "name": "Claims Triage",
        "description": (
            "Reads new insurance claims, extracts the policy details and suggests a priority "
            "and a handler. A claims officer confirms each suggestion."
        ),
        "version": "0.9.2",
        "lifecycle": Lifecycle.PILOT,
        "owners": ("governance@example.com", "tech@example.com", "governance@example.com"),
        "routing": {ReportCategory.INTEGRATION: "tech@example.com"},
        "thresholds": ("95", "0.2", "1.20", "3.8"),
    },
    {
        "slug": "invoice-matcher",
        "name": "Invoice Matcher",
        "description": (
            "Matches supplier invoices to purchase orders and flags mismatches for the finance team. "
            "Paused while a currency-rounding problem is fixed."
        ),
        "version": "1.4.2",
        "lifecycle": Lifecycle.PAUSED,
        "owners": ("priya@example.com", "tech@example.com", "governance@example.com"),
        "routing": {ReportCategory.WRONG_OUTPUT: "priya@example.com"},
        "thresholds": ("98", "0.1", "0.05", "3.5"),
    },
]


def load(people: dict[str, User]) -> dict[str, Agent]:
    agents = {}
    for spec in AGENTS:
        business, technical, governance = (people[email] for email in spec["owners"])
        quality, safety, cost, satisfaction = (Decimal(v) for v in spec["thresholds"])
        agent = Agent(
            slug=spec["slug"],
            name=spec["name"],
            description=spec["description"],
            version=spec["version"],
            lifecycle=spec["lifecycle"],
            business_owner=business,
            technical_owner=technical,
            governance_owner=governance,
            quality_min_pct=quality,
            safety_max_per_1000=safety,
            cost_max_per_unit=cost,
            satisfaction_min=satisfaction,
        )
        for category, email in spec["routing"].items():
            agent.routing_rules.append(RoutingRule(category=category, owner=people[email]))
        db.session.add(agent)
        agents[spec["slug"]] = agent
    db.session.flush()
    return agents
