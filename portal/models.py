"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from portal.accounts.models import Role, SetPasswordLink, Team, User, UserRole, UserSession
from portal.agents.models import Agent, RoutingRule

__all__ = [
    "Agent",
    "Role",
    "RoutingRule",
    "SetPasswordLink",
    "Team",
    "User",
    "UserRole",
    "UserSession",
]
