"""Forms for authoring modules, assigning them and deciding about re-certification.

The knowledge check itself is not a WTForms form: its questions come from the database, so the view
reads the chosen choice ids straight from the request (CSRF still checked by CSRFProtect).
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.training.models import QuestionKind, SectionKind
from portal.training.services import MAX_CHOICES


def select_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ModuleForm(FlaskForm):
    agent = SelectField("Agent", coerce=int, validators=[InputRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(
        "Summary",
        validators=[Length(max=2000)],
        render_kw={"rows": 3},
        description="Two or three sentences: who should take this and what they will be able to do.",
    )
    estimated_minutes = IntegerField(
        "Estimated minutes", default=20, validators=[InputRequired(), NumberRange(1, 600)]
    )
    pass_mark_pct = IntegerField(
        "Pass mark (%)", default=80, validators=[InputRequired(), NumberRange(1, 100)]
    )
    attempt_limit = IntegerField(
        "Attempt limit",
        validators=[Optional(), NumberRange(1, 20)],
        description="How many times a person may take the knowledge check per version. "
        "Leave empty for no limit.",
    )
    submit = SubmitField("Create module")


class DraftForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField("Summary", validators=[Length(max=2000)], render_kw={"rows": 3})
    estimated_minutes = IntegerField(
        "Estimated minutes", validators=[InputRequired(), NumberRange(1, 600)]
    )
    pass_mark_pct = IntegerField("Pass mark (%)", validators=[InputRequired(), NumberRange(1, 100)])
    attempt_limit = IntegerField(
        "Attempt limit",
        validators=[Optional(), NumberRange(1, 20)],
        description="Per person and version. Leave empty for no limit.",
    )
    change_note = TextAreaField(
        "What changed in this version",
        validators=[Length(max=2000)],
        description="Shown to trainees beside the version.",
    )
    requires_recertification = BooleanField(
        "Re-certification required",
        description="Everyone who passed an earlier version is assigned this one again, due on "
        "the date below.",
    )
    recertification_due_on = DateField("Re-certify by", validators=[Optional()])
    submit = SubmitField("Save details")


class SectionForm(FlaskForm):
    kind = SelectField("Kind of section", choices=select_choices(SectionKind.choices()))
    title = StringField("Section title", validators=[DataRequired(), Length(max=200)])
    body_markdown = TextAreaField(
        "Text (Markdown)",
        validators=[Length(max=50_000)],
        render_kw={"rows": 16},
        description="Markdown: **bold**, *italic*, lists, links, tables. HTML is not allowed.",
    )
    submit = SubmitField("Save section")


class ChoiceForm(Form):
    text = StringField("Choice", validators=[Length(max=500)])
    is_correct = BooleanField("Right answer")


class QuestionForm(FlaskForm):
    kind = RadioField(
        "Kind of question", choices=select_choices(QuestionKind.choices()), default="single"
    )
    prompt = TextAreaField(
        "Question", validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3}
    )
    choices = FieldList(FormField(ChoiceForm), min_entries=MAX_CHOICES, max_entries=MAX_CHOICES)
    explanation = TextAreaField(
        "Explanation",
        validators=[DataRequired(), Length(max=5000)],
        render_kw={"rows": 3},
        description="Shown after answering: why the right answer is right.",
    )
    submit = SubmitField("Save question")


class ButtonForm(FlaskForm):
    """The CSRF token for small one-button forms (publish, delete, move)."""


class AssignForm(FlaskForm):
    team_ids = SelectMultipleField("Teams", coerce=int)
    roles = SelectMultipleField("Roles")
    user_ids = SelectMultipleField("People", coerce=int)
    due_on = DateField("Due date", validators=[InputRequired(message="Give a due date.")])
    submit = SubmitField("Assign")


class DecisionForm(FlaskForm):
    module_id = HiddenField()
    decision = RadioField(
        "Does this change need re-certification?",
        choices=select_choices(
            [("needed", "Re-certification needed"), ("not_needed", "No change needed")]
        ),
        validators=[InputRequired(message="Choose one.")],
    )
    deadline = DateField("Re-certify by", validators=[Optional()])
    submit = SubmitField("Save decision")


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    start = DateField("Due from", validators=[Optional()])
    end = DateField("Due before", validators=[Optional()])
