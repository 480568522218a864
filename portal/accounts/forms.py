"""Forms for signing in, passwords, API tokens, and the administration of people and teams."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    Field,
    Form,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts import services
from portal.accounts.models import Role
from portal.core.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField("Sign in")


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A short sentence works well.",
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = _new_password_field("New password")
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )
    submit = SubmitField("Change password")


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(
        "New email address",
        validators=[DataRequired(message="Give your new email address."), Length(max=254)],
        description="You will sign in with this address from now on.",
    )
    email_password = PasswordField(
        "Current password",
        validators=[DataRequired(message="Enter your current password to confirm it is you.")],
    )
    submit_email = SubmitField("Change email")


class ApiTokenForm(FlaskForm):
    token_name = StringField(
        "Token name",
        validators=[DataRequired(message="Give the token a name."), Length(max=120)],
        description="What will use it, for example 'deployment pipeline'.",
    )
    submit = SubmitField("Create token")


class SetPasswordForm(FlaskForm):
    new_password = _new_password_field("Choose a password")
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )
    submit = SubmitField("Set password and sign in")


def _valid_account_email(_form: Form, field: Field) -> None:
    if field.data and (problem := services.email_problem(field.data)):
        raise ValidationError(problem)


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of labelled checkboxes (templates/admin/_macros.html draws it)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _team_choices() -> list[SelectChoice]:
    return _choices((str(team.id), team.name) for team in services.all_teams())


class PersonForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _valid_account_email])
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    team = SelectField("Team", default="")
    roles = CheckboxesField(
        "Roles",
        choices=_choices(Role.choices()),
        description="Everybody can report problems and take training. No role ticked: reporter.",
    )
    submit = SubmitField("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [SelectChoice("", "No team"), *_team_choices()]

    @property
    def chosen_roles(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or ()}

    @property
    def chosen_team_id(self) -> int | None:
        return int(self.team.data) if self.team.data else None


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=2000)],
        description="What the team does, in a sentence or two.",
    )
    submit = SubmitField("Save")


class PeopleFilterForm(FlaskForm):
    """The filters above the people list (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=_choices([("", "Any role"), *Role.choices()]))
    team = SelectField("Team", default="")
    status = SelectField(
        "Status",
        choices=_choices(
            [("active", "Active"), ("deactivated", "Deactivated"), ("all", "Everyone")]
        ),
        default="active",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [*_choices([("", "Any team"), ("none", "No team")]), *_team_choices()]

    def people_filter(self) -> services.PeopleFilter:
        """The filter to apply; a value that did not validate (a hand-edited URL) is ignored."""
        self.validate()
        q = "" if self.q.errors else (self.q.data or "")
        role = Role(self.role.data) if self.role.data and not self.role.errors else None
        team_id = None
        if self.team.data and not self.team.errors:
            team_id = 0 if self.team.data == "none" else int(self.team.data)
        status = self.status.data if not self.status.errors and self.status.data else "active"
        return services.PeopleFilter(query=q, role=role, team_id=team_id, status=status)


class ImportPeopleForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file to upload.")],
        description="A UTF-8 CSV file with the header email,name,team,roles; at most 1 MB.",
    )
    submit = SubmitField("Import people")
