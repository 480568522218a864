"""The shapes the API accepts, checked with pydantic before any service sees them.

Schemas check types and shape only (unknown fields, wrong types, text a database cannot store);
the rules about what a valid agent or report is live in the domain services, once.
"""

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from portal.agents.models import Lifecycle, ReportCategory
from portal.feedback.models import ActionKind, ReportStatus, Severity

# NUL cannot be stored by PostgreSQL; other control characters are never meant.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 20_000


def _single_line(value: str) -> str:
    if _CONTROL_IN_LINE.search(value):
        raise ValueError("Remove control characters and line breaks.")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("Remove control characters.")
    return value


Line = Annotated[str, Field(max_length=1_000), AfterValidator(_single_line)]
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_multi_line)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_single_line)]
# A report's `version` (optimistic locking): send the one you read, to be told if it changed since.
Version = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Payload(BaseModel):
    """A JSON body: exact types (no "yes" for true), no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query-string parameters: text converted to numbers; parameters we do not know are ignored."""

    model_config = ConfigDict(extra="ignore")


class PageQuery(Query):
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=100)


# --- Agents ---------------------------------------------------------------------------------------


class Thresholds(Payload):
    quality_min_pct: Decimal | None = None
    safety_max_per_1000: Decimal | None = None
    cost_max_per_unit: Decimal | None = None
    satisfaction_min: Decimal | None = None


class AgentChanges(Payload):
    """PATCH /agents/{slug}: only the fields sent change. Owners by email; null clears."""

    slug: Line | None = None
    name: Line | None = None
    description: Text | None = None
    version: Line | None = None
    lifecycle: Lifecycle = Lifecycle.PILOT  # sent: never null; not sent: unchanged (new: pilot)
    business_owner: Email | None = None
    technical_owner: Email | None = None
    governance_owner: Email | None = None
    routing: dict[Line, Email | None] | None = None
    thresholds: Thresholds = Thresholds()


class NewAgent(AgentChanges):
    """POST /agents: slug, name and version are required."""

    slug: Line
    name: Line
    version: Line


class AgentListQuery(Query):
    search: Line | None = None
    lifecycle: Lifecycle | None = None


# --- Notifications --------------------------------------------------------------------------------


class NotificationQuery(PageQuery):
    unread: bool = False


# --- Reports --------------------------------------------------------------------------------------


class NewReport(Payload):
    agent: Line
    category: ReportCategory
    summary: Line
    severity: Severity | None = None
    details: Text = ""
    expected: Text = ""
    run_ref: Line = ""
    occurred_at: datetime | None = None
    confidential: bool = False


class RouteReport(Payload):
    assignee: Email
    note: Text = ""
    version: Version | None = None


class ActOnReport(Payload):
    action_kind: ActionKind
    note: Text
    version: Version | None = None


class ConfirmFix(Payload):
    fixed: bool
    comment: Text = ""
    version: Version | None = None


class ReportListQuery(PageQuery):
    agent: Line | None = None
    status: ReportStatus | None = None
    category: ReportCategory | None = None
    severity: Severity | None = None
