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
from portal.core.generations import DataGeneration
from portal.feedback.models import Report, ReportAttachment, ReportEvent, ReportSubscription
from portal.feedback.tallies import ReportMonthTally
from portal.governance.models import AgentPeriodFigures, GovernanceReview
from portal.maintenance.models import Anonymisation
from portal.notifications.models import Notification
from portal.surveys.models import (
    SurveyAnswer,
    SurveyAudienceRole,
    SurveyCampaign,
    SurveyParticipation,
    SurveyParticipationRollup,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyRoundAudience,
    SurveyScoreRollup,
)
from portal.training.models import (
    AgentVersionChange,
    Assignment,
    AssignmentReminder,
    AssignmentRule,
    Attempt,
    AttemptAnswer,
    Choice,
    ModuleSection,
    ModuleVersion,
    Question,
    RecertificationDecision,
    TrainingModule,
    TrainingProgress,
)
from portal.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "Agent",
    "AgentPeriodFigures",
    "AgentVersionChange",
    "Anonymisation",
    "ApiToken",
    "Assignment",
    "AssignmentReminder",
    "AssignmentRule",
    "Attempt",
    "AttemptAnswer",
    "Choice",
    "DataGeneration",
    "GovernanceReview",
    "ModuleSection",
    "ModuleVersion",
    "Notification",
    "Question",
    "RecertificationDecision",
    "Report",
    "ReportAttachment",
    "ReportEvent",
    "ReportMonthTally",
    "ReportSubscription",
    "Role",
    "RoutingRule",
    "SetPasswordLink",
    "SurveyAnswer",
    "SurveyAudienceRole",
    "SurveyCampaign",
    "SurveyParticipation",
    "SurveyParticipationRollup",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyRound",
    "SurveyRoundAudience",
    "SurveyScoreRollup",
    "Team",
    "TrainingModule",
    "TrainingProgress",
    "User",
    "UserRole",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
