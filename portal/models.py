"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from portal.accounts.models import (
    ApiToken,
    Role,
    SetPasswordLink,
    Team,
    User,
    UserRole,
    UserSession,
)
from portal.agents.models import Agent, RoutingRule
from portal.notifications.models import Notification

__all__ = [
    "Agent",
    "ApiToken",
    "Notification",
    "Role",
    "RoutingRule",
    "SetPasswordLink",
    "Team",
    "User",
    "UserRole",
    "UserSession",
]
