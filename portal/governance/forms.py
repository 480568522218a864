"""Forms: an agent's run figures for one period, and a quarter's decision."""

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from portal.governance.models import Decision
from portal.governance.services import MAX_RUNS, NOTES_MAX


class FiguresForm(FlaskForm):
    period_start = DateField("First day of the period", validators=[DataRequired()])
    period_end = DateField(
        "Last day of the period",
        validators=[DataRequired()],
        description="Usually a calendar month. The same dates again replace that period's figures.",
    )
    runs = IntegerField(
        "Runs",
        validators=[InputRequired(message="Give the number of runs."), NumberRange(0, MAX_RUNS)],
        description="How many times the agent ran in the period (the base of the safety rate).",
        render_kw={"inputmode": "numeric", "min": 0},
    )
    quality_pct = StringField(
        "Quality (%)",
        description="Share of outputs meeting the accuracy standard, 0 to 100. Leave empty if not measured.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    cost_per_unit = StringField(
        "Cost per unit of work",
        description="Leave empty if not measured.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )

    def validate_period_end(self, field) -> None:
        if self.period_start.data and field.data and field.data < self.period_start.data:
            raise ValidationError("The period ends before it starts.")


class ReviewForm(FlaskForm):
    quarter = HiddenField()
    decision = RadioField(
        "Decision",
        choices=[SelectChoice(value, label) for value, label in Decision.choices()],
        validators=[InputRequired(message="Choose continue, scale, modify or pause.")],
    )
    notes = TextAreaField(
        "Notes",
        validators=[Length(max=NOTES_MAX)],
        description="Why, and what happens next: conditions, owners, dates.",
        render_kw={"rows": 6},
    )
