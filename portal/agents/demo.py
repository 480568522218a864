"""Demo agents in different lifecycles, with owners, routing and thresholds."""

from decimal import Decimal

from portal.accounts.models import User
from portal.agents.models import Agent, Lifecycle, ReportCategory, RoutingRule
from portal.core.db import db

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
        "version": "0.9.1",
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
