"""The registry form: one form for registering and editing an agent (the slug only on registration)."""

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.models import User
from portal.agents import services
from portal.agents.models import Agent, Lifecycle, OwnerKind, ReportCategory

NOBODY = ""
OWNER_FIELD_NAMES = tuple(services.OWNER_FIELDS.values())


def _slug_rule(form, field) -> None:
    if field.data and (problem := services.slug_problem(field.data)):
        raise ValidationError(problem)


def _threshold_rule(form, field) -> None:
    # The raw text, so "NaN" or "1e999" are judged by the same rule as the API's numbers.
    text = field.raw_data[0] if field.raw_data else None
    if text and (problem := services.threshold_problem(field.short_name, text)):
        raise ValidationError(problem)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Threshold(StringField):
    """A threshold input: optional, parsed by the service's rule, the typed text kept on error.

    A text input (inputmode decimal) rather than type=number: browsers blank an unparsable number,
    which would quietly save "not set" instead of showing the mistake.
    """

    def __init__(self, threshold: str, **kwargs):
        spec = services.THRESHOLDS[threshold]
        super().__init__(
            f"{spec.label} ({spec.direction})",
            validators=[Optional(), _threshold_rule],
            description=f"{spec.comparator.capitalize()}: {spec.unit}. Leave empty if not set yet.",
            render_kw={"inputmode": "decimal", "autocomplete": "off"},
            **kwargs,
        )

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = services.parse_threshold(self.short_name, valuelist[0])
            except services.AgentError:
                self.data = None  # _threshold_rule reports it beside the field

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return services.plain_number(self.data) if self.data is not None else ""


class RoutingForm(Form):
    """One owner select per report category; blank means the fallback (the technical owner)."""


for _category in ReportCategory:
    setattr(
        RoutingForm,
        _category.value,
        SelectField(_category.label, choices=[], default=NOBODY),
    )


class AgentForm(FlaskForm):
    slug = StringField(
        "Slug",
        validators=[
            DataRequired(message="Give the agent a slug."),
            Length(min=2, max=64),
            _slug_rule,
        ],
        filters=[_strip],
        description="Lowercase letters, digits and hyphens, e.g. claims-triage. "
        "It cannot change later: integrations and report links use it.",
    )
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the agent's name."), Length(max=services.MAX_NAME)],
        filters=[_strip],
    )
    description = TextAreaField(
        "What it is for",
        validators=[Length(max=services.MAX_DESCRIPTION)],
        filters=[_strip],
        description="What the agent does, for whom, and where a person checks its work.",
        render_kw={"rows": 4},
    )
    version = StringField(
        "Current version",
        validators=[
            DataRequired(message="Give the current version."),
            Length(max=services.MAX_VERSION),
        ],
        filters=[_strip],
        description="Changing it asks training owners whether people need re-certifying.",
    )
    lifecycle = SelectField(
        "Lifecycle",
        choices=[SelectChoice(value, label) for value, label in Lifecycle.choices()],
        default=Lifecycle.PILOT.value,
    )
    business_owner = SelectField(OwnerKind.BUSINESS.label, choices=[], default=NOBODY)
    technical_owner = SelectField(
        OwnerKind.TECHNICAL.label,
        choices=[],
        default=NOBODY,
        description="Reports without a routing rule go to the technical owner.",
    )
    governance_owner = SelectField(OwnerKind.GOVERNANCE.label, choices=[], default=NOBODY)
    routing = FormField(RoutingForm, label="Routing rules")
    quality_min_pct = _Threshold("quality_min_pct")
    safety_max_per_1000 = _Threshold("safety_max_per_1000")
    cost_max_per_unit = _Threshold("cost_max_per_unit")
    satisfaction_min = _Threshold("satisfaction_min")

    def offer_people(self, people: Iterable[User], keep: Iterable[User | None] = ()) -> None:
        """Fill every person select with active people, plus anyone already in place (deactivated)."""
        listed = list(people)
        seen = {person.id for person in listed}
        for person in keep:
            if person is not None and person.id not in seen:
                listed.append(person)
                seen.add(person.id)
        choices = [
            SelectChoice(
                str(p.id),
                f"{p.name} ({p.email})" + ("" if p.is_active_account else " - deactivated"),
            )
            for p in listed
        ]
        for name in OWNER_FIELD_NAMES:
            getattr(self, name).choices = [SelectChoice(NOBODY, "Nobody yet"), *choices]
        for select in self.routing.form:
            select.choices = [SelectChoice(NOBODY, "Fallback: technical owner"), *choices]

    def field_for(self, error_field: str | None):
        """The form field an AgentError's `field` belongs beside (the slug when unknown)."""
        if error_field and error_field.startswith("routing."):
            category = error_field.removeprefix("routing.")
            return getattr(self.routing.form, category, self.routing)
        return getattr(self, error_field or "", None) or self.name

    def to_fields(self, *, with_slug: bool) -> services.AgentFields:
        def person(value: str | None) -> int | None:
            return int(value) if value else None

        return services.AgentFields(
            slug=self.slug.data if with_slug else services.UNSET,
            name=self.name.data,
            description=self.description.data or "",
            version=self.version.data,
            lifecycle=Lifecycle(self.lifecycle.data),
            business_owner=person(self.business_owner.data),
            technical_owner=person(self.technical_owner.data),
            governance_owner=person(self.governance_owner.data),
            routing={
                ReportCategory(select.short_name): person(select.data)
                for select in self.routing.form
            },
            quality_min_pct=self.quality_min_pct.data,
            safety_max_per_1000=self.safety_max_per_1000.data,
            cost_max_per_unit=self.cost_max_per_unit.data,
            satisfaction_min=self.satisfaction_min.data,
        )


def form_data_for(agent: Agent) -> dict:
    """What the edit form starts with."""

    def person(user_id: int | None) -> str:
        return str(user_id) if user_id is not None else NOBODY

    return {
        "name": agent.name,
        "description": agent.description,
        "version": agent.version,
        "lifecycle": agent.lifecycle.value,
        "business_owner": person(agent.business_owner_id),
        "technical_owner": person(agent.technical_owner_id),
        "governance_owner": person(agent.governance_owner_id),
        "routing": {rule.category.value: str(rule.owner_id) for rule in agent.routing_rules},
        **{name: getattr(agent, name) for name in services.THRESHOLDS},
    }
