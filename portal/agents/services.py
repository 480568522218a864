"""Rules about agents: lookup, routing suggestions, and the registry's create and update.

The agent pages and the JSON API both call `create_agent` / `update_agent`; every rule about what an
agent may look like lives here once. Services flush; the caller (view, API, CLI) commits.
"""

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Role, User
from portal.agents.models import Agent, Lifecycle, OwnerKind, ReportCategory, RoutingRule
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


# --- The registry: rules ----------------------------------------------------------------------


class AgentError(ValueError):
    """A rule about agents was broken. `field` names the AgentFields attribute at fault
    (`routing.<category>` for one routing rule), so a form or the API can show it beside the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class _Unset(enum.Enum):
    UNSET = "unset"


# "Not given": update_agent leaves such a field as it is (a PATCH that omits it).
UNSET = _Unset.UNSET

OwnerRef = User | int | None
Number = Decimal | int | float | str


@dataclass
class AgentFields:
    """What a page or an API client says about an agent.

    Owners (and routing owners) are User objects or user ids; None means "nobody" (for a routing rule:
    the fallback, the technical owner). `routing` maps every category that has a rule to its owner and
    replaces the agent's rules as a whole; categories left out use the fallback. Thresholds are
    numbers (or numeric strings), None for "not set". A field left UNSET is not changed by update_agent.
    """

    slug: str | _Unset = UNSET
    name: str | _Unset = UNSET
    description: str | _Unset = UNSET
    version: str | _Unset = UNSET
    lifecycle: Lifecycle | str | _Unset = UNSET
    business_owner: OwnerRef | _Unset = UNSET
    technical_owner: OwnerRef | _Unset = UNSET
    governance_owner: OwnerRef | _Unset = UNSET
    routing: Mapping[ReportCategory | str, OwnerRef] | _Unset = UNSET
    quality_min_pct: Number | _Unset | None = UNSET
    safety_max_per_1000: Number | _Unset | None = UNSET
    cost_max_per_unit: Number | _Unset | None = UNSET
    satisfaction_min: Number | _Unset | None = UNSET

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "AgentFields":
        """Build from a dict of given fields; a nested `thresholds` dict is accepted (the API's shape)."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "thresholds" and isinstance(value, Mapping):
                for name, number in value.items():
                    if name not in THRESHOLDS:
                        raise AgentError(f"Unknown threshold '{name}'.", f"thresholds.{name}")
                    values[name] = number
            elif key in known:
                values[key] = value
            else:
                raise AgentError(f"Unknown field '{key}'.", key)
        return cls(**values)

    def given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNSET
        }


@dataclass(frozen=True)
class Threshold:
    """One success threshold: its column, how people read it, its bounds and the decimals kept."""

    name: str
    label: str
    unit: str
    direction: str  # "minimum" or "maximum"
    lowest: Decimal
    highest: Decimal
    places: int

    @property
    def comparator(self) -> str:
        return "at least" if self.direction == "minimum" else "at most"


# Bounds keep values inside the columns' precision (a larger number would fail on PostgreSQL).
THRESHOLDS: dict[str, Threshold] = {
    t.name: t
    for t in (
        Threshold(
            "quality_min_pct",
            "Quality",
            "% of outputs meeting the accuracy standard",
            "minimum",
            Decimal(0),
            Decimal(100),
            2,
        ),
        Threshold(
            "safety_max_per_1000",
            "Safety",
            "policy violations or escalations per 1,000 runs",
            "maximum",
            Decimal(0),
            Decimal(1_000_000),
            3,
        ),
        Threshold(
            "cost_max_per_unit",
            "Efficiency",
            "cost per unit of work",
            "maximum",
            Decimal(0),
            Decimal(99_999_999),
            4,
        ),
        Threshold(
            "satisfaction_min",
            "User satisfaction",
            "survey score (1-5)",
            "minimum",
            Decimal(1),
            Decimal(5),
            2,
        ),
    )
}

SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# Paths under /agents/ that a slug would shadow.
RESERVED_SLUGS = frozenset({"new"})
MAX_NAME = 120
MAX_VERSION = 40
MAX_DESCRIPTION = 10_000
OWNER_FIELDS = {kind: f"{kind.value}_owner" for kind in OwnerKind}
# PostgreSQL refuses NUL in text; other control characters are never meant.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name an agent (format only; uniqueness is checked on create), or None."""
    if not 2 <= len(slug) <= 64:
        return "Use 2 to 64 characters."
    if not SLUG_PATTERN.fullmatch(slug):
        return (
            "Use lowercase letters, digits and hyphens only, starting and ending with a letter "
            "or digit."
        )
    if slug in RESERVED_SLUGS:
        return f"'{slug}' is reserved by the portal; choose another slug."
    return None


def parse_threshold(name: str, value: Number | None) -> Decimal | None:
    """The threshold as a Decimal (None for "not set"), or AgentError naming the field."""
    spec = THRESHOLDS[name]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise AgentError(f"{spec.label}: give a number.", name)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise AgentError(f"{spec.label}: give a number.", name) from None
    if not number.is_finite():
        raise AgentError(f"{spec.label}: give a finite number.", name)
    if not spec.lowest <= number <= spec.highest:
        raise AgentError(
            f"{spec.label}: give a number from {spec.lowest} to {spec.highest}."
            if spec.highest < 1000
            else f"{spec.label}: give a number of {spec.lowest} or more (up to {spec.highest:,}).",
            name,
        )
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > spec.places:
        raise AgentError(f"{spec.label}: use at most {spec.places} decimal places.", name)
    return number


def plain_number(value: Decimal) -> str:
    """92.00 -> "92", 0.3500 -> "0.35": how a stored threshold reads to people."""
    return format(value.normalize(), "f")


def threshold_problem(name: str, value: Number | None) -> str | None:
    """The message parse_threshold would raise, for form validators."""
    try:
        parse_threshold(name, value)
    except AgentError as exc:
        return exc.message
    return None


def _text(
    value: Any, field: str, label: str, max_length: int, *, required: bool, multiline: bool = False
) -> str:
    if not isinstance(value, str):
        raise AgentError(f"{label}: give text.", field)
    value = value.strip()
    if required and not value:
        raise AgentError(f"Give the agent's {label.lower()}.", field)
    if len(value) > max_length:
        raise AgentError(f"{label}: use at most {max_length:,} characters.", field)
    if (_CONTROL if multiline else _CONTROL_OR_BREAK).search(value):
        raise AgentError(f"{label}: remove control characters and line breaks.", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise AgentError(f"{label}: the text is not valid Unicode.", field) from None
    return value


def _lifecycle(value: Any) -> Lifecycle:
    if isinstance(value, Lifecycle):
        return value
    try:
        return Lifecycle(value)
    except ValueError:
        valid = ", ".join(item.value for item in Lifecycle)
        raise AgentError(f"Unknown lifecycle '{value}'. Valid: {valid}.", "lifecycle") from None


def _category(value: Any) -> ReportCategory:
    if isinstance(value, ReportCategory):
        return value
    try:
        return ReportCategory(value)
    except ValueError:
        valid = ", ".join(item.value for item in ReportCategory)
        raise AgentError(f"Unknown report category '{value}'. Valid: {valid}.", "routing") from None


def _person(ref: OwnerRef, field: str, current_id: int | None) -> User | None:
    """The attached User for `ref`. A deactivated person may stay where they are, not be newly put."""
    if ref is None:
        return None
    if isinstance(ref, bool) or not isinstance(ref, User | int):
        raise AgentError("Choose a person.", field)
    user_id = ref.id if isinstance(ref, User) else ref
    user = db.session.get(User, user_id)
    if user is None:
        raise AgentError("That person was not found.", field)
    if not user.is_active_account and user.id != current_id:
        raise AgentError(f"{user.name}'s account is deactivated; choose someone else.", field)
    return user


def resolve_owner_email(email: str, field: str | None = None) -> User:
    """The active account with this email (for the API, which names owners by email)."""
    if not isinstance(email, str) or not email.strip():
        raise AgentError("Give an email address.", field)
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AgentError(f"No account has the email {email.strip()}.", field)
    if not user.is_active_account:
        raise AgentError(f"The account {user.email} is deactivated.", field)
    return user


def _checked_changes(given: dict[str, Any], agent: Agent | None) -> dict[str, Any]:
    """Validate every given field before anything changes, so a refusal leaves nothing half-saved."""
    changes: dict[str, Any] = {}
    if "slug" in given:
        slug = given["slug"]
        if agent is not None:
            if slug != agent.slug:
                raise AgentError(
                    "The slug cannot change after registration: integrations use it.", "slug"
                )
        else:
            if not isinstance(slug, str):
                raise AgentError("Slug: give text.", "slug")
            slug = slug.strip()
            if problem := slug_problem(slug):
                raise AgentError(problem, "slug")
            if get_agent_by_slug(slug) is not None:
                raise AgentError(f"An agent with the slug '{slug}' already exists.", "slug")
            changes["slug"] = slug
    if "name" in given:
        changes["name"] = _text(given["name"], "name", "Name", MAX_NAME, required=True)
    if "description" in given:
        changes["description"] = _text(
            given["description"] or "",
            "description",
            "Description",
            MAX_DESCRIPTION,
            required=False,
            multiline=True,
        )
    if "version" in given:
        changes["version"] = _text(
            given["version"], "version", "Version", MAX_VERSION, required=True
        )
    if "lifecycle" in given:
        changes["lifecycle"] = _lifecycle(given["lifecycle"])
    for field in OWNER_FIELDS.values():
        if field in given:
            current = getattr(agent, f"{field}_id") if agent is not None else None
            changes[field] = _person(given[field], field, current)
    if "routing" in given:
        routing = given["routing"] or {}
        if not isinstance(routing, Mapping):
            raise AgentError("Routing: give a category -> owner map.", "routing")
        current_rules = (
            {rule.category: rule.owner_id for rule in agent.routing_rules} if agent else {}
        )
        rules: dict[ReportCategory, User] = {}
        for key, ref in routing.items():
            category = _category(key)
            owner = _person(ref, f"routing.{category.value}", current_rules.get(category))
            if owner is not None:
                rules[category] = owner
        changes["routing"] = rules
    for name in THRESHOLDS:
        if name in given:
            changes[name] = parse_threshold(name, given[name])
    return changes


def _replace_routing(agent: Agent, rules: dict[ReportCategory, User]) -> None:
    # Update rows in place: deleting and re-adding a category in one flush would trip its unique key.
    existing = {rule.category: rule for rule in agent.routing_rules}
    for category, rule in existing.items():
        if category not in rules:
            agent.routing_rules.remove(rule)
        elif rule.owner_id != rules[category].id:
            rule.owner = rules[category]
    for category, owner in rules.items():
        if category not in existing:
            agent.routing_rules.append(RoutingRule(category=category, owner=owner))


def _apply(agent: Agent, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "routing":
            _replace_routing(agent, value)
        else:
            setattr(agent, key, value)


def _as_fields(fields_or_dict: AgentFields | Mapping[str, Any]) -> AgentFields:
    if isinstance(fields_or_dict, AgentFields):
        return fields_or_dict
    return AgentFields.from_mapping(fields_or_dict)


def can_register_agents(user: User) -> bool:
    """Admins and people with the owner role may register agents (from the page)."""
    return user.is_authenticated and user.has_any_role(Role.ADMIN, Role.OWNER)


def create_agent(fields_or_dict: AgentFields | Mapping[str, Any], by: User) -> Agent:
    """Register an agent. Slug, name and version are required; the rest defaults to empty / pilot.

    When an owner-role person (not an admin) leaves the business owner empty, they become it, so
    they can go on managing what they registered. Raises AgentError; the caller checks who may call.
    """
    given = _as_fields(fields_or_dict).given()
    for required in ("slug", "name", "version"):
        if given.get(required) is None:
            raise AgentError(f"Give the agent's {required}.", required)
    changes = _checked_changes(given, None)
    if changes.get("business_owner") is None and not by.is_admin and by.has_role(Role.OWNER):
        changes["business_owner"] = db.session.get(User, by.id)
    agent = Agent(description="", lifecycle=changes.pop("lifecycle", Lifecycle.PILOT))
    _apply(agent, changes)
    db.session.add(agent)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Someone registered the same slug between our check and this insert.
        db.session.rollback()
        raise AgentError(
            f"An agent with the slug '{changes['slug']}' already exists.", "slug"
        ) from None
    return agent


def update_agent(agent: Agent, fields_or_dict: AgentFields | Mapping[str, Any], by: User) -> Agent:
    """Change the given fields of `agent` (UNSET or absent ones stay). The slug is fixed.

    When the current version changes, `agent_version_changed` is sent after the flush.
    Raises AgentError before changing anything; the caller checks who may call (Agent.can_manage).
    """
    changes = _checked_changes(_as_fields(fields_or_dict).given(), agent)
    old_version = agent.version
    _apply(agent, changes)
    db.session.flush()
    if agent.version != old_version:
        agent_version_changed.send(agent, old_version=old_version, new_version=agent.version, by=by)
    return agent


# --- The registry: reading ----------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_agents(search: str | None = None, lifecycle: Lifecycle | None = None) -> list[Agent]:
    """The directory: agents by name, matching `search` in name, slug or description, with owners
    and routing rules loaded eagerly (the number of statements does not grow with the agents)."""
    # Owners' roles are not shown: skip their eager selectin load. Routing rules come in one more
    # statement, for the API's listing.
    stmt = (
        sa.select(Agent)
        .options(
            *(
                joinedload(relationship).lazyload(User.role_rows)
                for relationship in (
                    Agent.business_owner,
                    Agent.technical_owner,
                    Agent.governance_owner,
                )
            ),
            selectinload(Agent.routing_rules)
            .joinedload(RoutingRule.owner)
            .lazyload(User.role_rows),
        )
        .order_by(sa.func.lower(Agent.name), Agent.id)
    )
    if search and search.strip():
        pattern = f"%{_escape_like(search.strip().lower())}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Agent.name).like(pattern, escape="\\"),
                sa.func.lower(Agent.slug).like(pattern, escape="\\"),
                sa.func.lower(Agent.description).like(pattern, escape="\\"),
            )
        )
    if lifecycle is not None:
        stmt = stmt.where(Agent.lifecycle == lifecycle)
    return list(db.session.scalars(stmt).unique())


def get_agent_with_routing(slug: str) -> Agent | None:
    """One agent with its owners and routing rules, for its page."""
    return db.session.scalar(
        sa.select(Agent)
        .options(
            joinedload(Agent.business_owner),
            joinedload(Agent.technical_owner),
            joinedload(Agent.governance_owner),
            selectinload(Agent.routing_rules)
            .joinedload(RoutingRule.owner)
            .lazyload(User.role_rows),
        )
        .where(Agent.slug == slug)
    )


def owner_candidates() -> list[User]:
    """Active people, by name: who may be chosen as an owner or a routing target."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.is_active_account.is_(True)).order_by(User.name, User.id)
        )
    )


def agent_to_dict(agent: Agent) -> dict[str, Any]:
    """The agent as the API shows it: owners by email, routing {category: email}, thresholds."""

    def email(user: User | None) -> str | None:
        return user.email if user is not None else None

    return {
        "slug": agent.slug,
        "name": agent.name,
        "description": agent.description,
        "version": agent.version,
        "lifecycle": agent.lifecycle.value,
        "business_owner": email(agent.business_owner),
        "technical_owner": email(agent.technical_owner),
        "governance_owner": email(agent.governance_owner),
        "routing": {rule.category.value: rule.owner.email for rule in agent.routing_rules},
        "thresholds": {
            name: (float(value) if (value := getattr(agent, name)) is not None else None)
            for name in THRESHOLDS
        },
        "created_at": agent.created_at.isoformat(),
        "updated_at": agent.updated_at.isoformat(),
    }
