"""Rules about agents: lookup, routing suggestions, and the registry's create and update."""

import sqlalchemy as sa
from blinker import Namespace

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory, RoutingRule
from portal.core.db import db

_signals = Namespace()

# Sent with (agent, old_version=..., new_version=..., by=...) after an agent's current version changes,
# from the page or the API. Training listens to ask module owners about re-certification.
agent_version_changed = _signals.signal("agent-version-changed")


def get_agent_by_slug(slug: str) -> Agent | None:
    return db.session.scalar(sa.select(Agent).where(Agent.slug == slug))


def suggest_owner(agent: Agent, category: ReportCategory) -> User | None:
    """Who a report of `category` should go to: the routing rule's owner, else the technical owner."""
    owner = db.session.scalar(
        sa.select(User)
        .join(RoutingRule, RoutingRule.owner_id == User.id)
        .where(RoutingRule.agent_id == agent.id, RoutingRule.category == category)
    )
    if owner is not None and owner.is_active_account:
        return owner
    technical = agent.technical_owner
    return technical if technical is not None and technical.is_active_account else None
