from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.webhooks.models import EventKind
from portal.webhooks.services import NAME_MAX, SECRET_MAX, SECRET_MIN, URL_MAX


class EventsField(SelectMultipleField):
    """The events as labelled checkboxes (templates/admin/_macros.html checkbox_group draws it)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _event_choices() -> list[tuple[str, str]]:
    return [(kind.value, f"{kind.value} — {kind.label}") for kind in EventKind]


class EndpointForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the endpoint a name."), Length(max=NAME_MAX)],
        description="What receives the events, e.g. 'Incident bot'.",
    )
    url = StringField(
        "URL",
        validators=[
            DataRequired(message="Give the URL that receives the events."),
            Length(max=URL_MAX),
        ],
        description="An http:// or https:// address. Events are POSTed to it as signed JSON.",
    )
    events = EventsField("Events", choices=_event_choices())
    submit = SubmitField("Save")


class NewEndpointForm(EndpointForm):
    secret = PasswordField(
        "Signing secret (optional)",
        validators=[
            Optional(),
            Length(
                min=SECRET_MIN,
                max=SECRET_MAX,
                message=f"A secret has at least {SECRET_MIN} and at most {SECRET_MAX} characters.",
            ),
        ],
        description="Leave empty and the portal makes a strong one. It is shown once, after saving.",
    )
    submit = SubmitField("Register endpoint")
