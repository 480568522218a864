from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField
from wtforms.validators import DataRequired


class AnonymiseForm(FlaskForm):
    confirm = BooleanField(
        "I understand: this person's name and email are removed for good and cannot be restored",
        validators=[DataRequired(message="Tick the box to confirm.")],
    )
    submit = SubmitField("Anonymise")
