"""Forms for reports: filing one, and each action on the report page (each with its own prefix)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.agents.models import ReportCategory
from portal.feedback.attachments import ALLOWED_TEXT
from portal.feedback.models import ActionKind, Severity
from portal.feedback.services import NOTE_MAX, RUN_REF_MAX, SUMMARY_MAX, TEXT_MAX

NOT_SURE = ("", "Not sure")


class ReportForm(FlaskForm):
    agent = SelectField("Agent", validators=[DataRequired(message="Choose the agent.")])
    category = SelectField(
        "What kind of problem",
        choices=[("", "Choose…"), *ReportCategory.choices()],
        validators=[DataRequired(message="Choose what kind of problem it is.")],
    )
    summary = StringField(
        "Summary",
        validators=[
            DataRequired(message="Say in one line what went wrong."),
            Length(max=SUMMARY_MAX, message=f"Keep the summary to {SUMMARY_MAX} characters."),
        ],
        description=f"One line, up to {SUMMARY_MAX} characters.",
        render_kw={"maxlength": SUMMARY_MAX, "autocomplete": "off"},
    )
    severity = SelectField("How bad is it for you?", choices=[NOT_SURE, *Severity.choices()])
    details = TextAreaField("What happened", validators=[Length(max=TEXT_MAX)])
    expected = TextAreaField("What you expected", validators=[Length(max=TEXT_MAX)])
    run_ref = StringField(
        "Run reference",
        validators=[Length(max=RUN_REF_MAX)],
        description="The agent's run or case ID, if its screen shows one.",
    )
    occurred_at = DateTimeLocalField(
        "When it happened",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description="Leave as it is if it just happened.",
    )
    tz_offset = HiddenField()  # minutes behind UTC, set by the browser's script
    confidential = BooleanField(
        "Keep my name confidential",
        description="Only portal administrators will see that this report is yours.",
    )
    attachments = MultipleFileField("Attachments", description=ALLOWED_TEXT + ".")
    submission_key = HiddenField()
    file_anyway = HiddenField()
    submit = SubmitField("Send report")


def _version_field() -> HiddenField:
    return HiddenField(validators=[DataRequired()])


class TriageForm(FlaskForm):
    severity = SelectField("Severity", choices=Severity.choices())
    version = _version_field()
    submit = SubmitField("Save severity")


class RouteForm(FlaskForm):
    assignee = SelectField(
        "Route to", coerce=int, validators=[InputRequired(message="Choose who will act on it.")]
    )
    note = TextAreaField("Note for the owner (optional)", validators=[Length(max=NOTE_MAX)])
    version = _version_field()
    submit = SubmitField("Route")


class StartForm(FlaskForm):
    version = _version_field()
    submit = SubmitField("Start work")


class ActForm(FlaskForm):
    action_kind = SelectField(
        "What was done",
        choices=[("", "Choose…"), *ActionKind.choices()],
        validators=[DataRequired(message="Choose what kind of action was taken.")],
    )
    note = TextAreaField(
        "Note for the reporter",
        validators=[
            DataRequired(message="Tell the reporter what was done."),
            Length(max=NOTE_MAX),
        ],
        description="Plain words: what changed, and what they should notice now.",
    )
    version = _version_field()
    submit = SubmitField("Record action and tell the reporter")


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Reason for the reporter",
        validators=[DataRequired(message="Tell the reporter why."), Length(max=NOTE_MAX)],
    )
    version = _version_field()
    submit = SubmitField("Decline")


class DuplicateForm(FlaskForm):
    primary = IntegerField(
        "Duplicate of report number",
        validators=[InputRequired(message="Give the report's number."), NumberRange(min=1)],
    )
    version = _version_field()
    submit = SubmitField("Mark as duplicate")


class ConfirmForm(FlaskForm):
    fixed = RadioField(
        "Did this fix the problem for you?",
        choices=[("yes", "Yes, it is fixed"), ("no", "No, it is not fixed")],
        validators=[InputRequired(message="Choose yes or no.")],
    )
    comment = TextAreaField(
        "Comment",
        validators=[Length(max=NOTE_MAX)],
        description="If it is not fixed, say what still goes wrong.",
    )
    version = _version_field()
    submit = SubmitField("Send answer")


class NoteForm(FlaskForm):
    note = TextAreaField(
        "Internal note",
        validators=[DataRequired(message="Write the note."), Length(max=NOTE_MAX)],
        description="Seen by triage and the owners only, never by the reporter.",
    )
    submit = SubmitField("Add note")


class BulkForm(FlaskForm):
    """Route or set severity for the reports ticked in the triage queue (the view checks which)."""

    assignee = SelectField("Route to", coerce=int, validate_choice=False)
    severity = SelectField(
        "Set severity", choices=[("", "Choose…"), *Severity.choices()], validate_choice=False
    )
    route = SubmitField("Route selected")
    set_severity = SubmitField("Set severity of selected")
