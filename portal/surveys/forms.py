"""Forms: campaign settings, the campaign's own questions, and the answer form built per campaign."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.models import Role
from portal.surveys.models import (
    DEFAULT_ANONYMITY_THRESHOLD,
    MIN_ANONYMITY_THRESHOLD,
    Cadence,
    QuestionKind,
    SurveyCampaign,
)
from portal.surveys.services import MAX_ANONYMITY_THRESHOLD, MAX_TEXT_ANSWER, AgentAnswers


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


# Reporter and trainee are everybody's roles: "Everyone" says that more plainly.
AUDIENCE_ROLES = (Role.TRIAGE, Role.OWNER, Role.MANAGER, Role.ADMIN)

SATISFACTION_SCALE = choices(
    [
        (1, "Very dissatisfied"),
        (2, "Dissatisfied"),
        (3, "Neither"),
        (4, "Satisfied"),
        (5, "Very satisfied"),
    ]
)
AGREEMENT_SCALE = choices(
    [
        (1, "Strongly disagree"),
        (2, "Disagree"),
        (3, "Neither"),
        (4, "Agree"),
        (5, "Strongly agree"),
    ]
)
NPS_SCALE = choices((n, str(n)) for n in range(11))


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignDetailsForm(FlaskForm):
    """What may still change after a campaign has opened."""

    name = StringField("Campaign name", validators=[DataRequired(), Length(max=160)])
    description = TextAreaField(
        "Introduction for people answering",
        validators=[Length(max=2000)],
        description="Shown at the top of the survey. Say why you ask and what happens next.",
    )
    closes_on = DateField(
        "Close date",
        validators=[Optional()],
        description="The last day answers are taken. Leave empty for a recurring campaign "
        "that runs until you end it.",
    )
    submit = SubmitField("Save campaign")


class CampaignForm(CampaignDetailsForm):
    agents = CheckboxListField("Agents to ask about", coerce=int)
    is_for_everyone = BooleanField("Everyone in the organisation")
    teams = CheckboxListField("Teams", coerce=int)
    roles = CheckboxListField(
        "Roles", choices=choices((role.value, role.label) for role in AUDIENCE_ROLES)
    )
    cadence = RadioField(
        "Cadence",
        choices=choices(Cadence.choices()),
        default=Cadence.MONTHLY.value,
        validators=[InputRequired()],
        description="Monthly and quarterly campaigns open a new round each period, counted from "
        "the open date (open on the 1st for calendar months), and close the last one.",
    )
    opens_on = DateField("Open date", validators=[DataRequired()])
    anonymity_threshold = IntegerField(
        "Anonymity threshold",
        default=DEFAULT_ANONYMITY_THRESHOLD,
        validators=[
            InputRequired(),
            NumberRange(
                min=MIN_ANONYMITY_THRESHOLD,
                max=MAX_ANONYMITY_THRESHOLD,
                message=f"Use a number from {MIN_ANONYMITY_THRESHOLD} to {MAX_ANONYMITY_THRESHOLD}.",
            ),
        ],
        description="Figures and comments of a group with fewer answers than this are withheld. "
        f"At least {MIN_ANONYMITY_THRESHOLD}; fixed once the campaign opens.",
    )


class QuestionForm(FlaskForm):
    kind = RadioField(
        "Kind of answer",
        choices=choices(QuestionKind.choices()),
        default=QuestionKind.LIKERT.value,
        validators=[InputRequired()],
    )
    prompt = StringField(
        "Question",
        validators=[DataRequired(), Length(max=200)],
        description="Asked about each agent. For 1-5 questions, write a statement people agree "
        "or disagree with.",
    )
    submit = SubmitField("Add question")


class RoundChoiceForm(FlaskForm):
    """The results page's scope: one closed round or all of them (GET, so no CSRF)."""

    class Meta:
        csrf = False

    round = SelectField("Show", coerce=str)


class ButtonForm(FlaskForm):
    """A bare POST button (launch, end, remove): only its CSRF token."""


# --- Answering ---------------------------------------------------------------------------------


class _RequiredUnlessSkipped:
    """An answer is required for an agent unless the person said they do not work with it."""

    def __init__(self, skip_field: str, message: str):
        self.skip_field = skip_field
        self.message = message

    def __call__(self, form, field):
        if form[self.skip_field].data:
            field.errors.clear()
            raise StopValidation()
        valid = {choice.value for choice in field.choices}
        if field.data not in valid:
            raise StopValidation(self.message)


class _SkipAware:
    def __init__(self, skip_field: str):
        self.skip_field = skip_field

    def __call__(self, form, field):
        if form[self.skip_field].data:
            field.errors.clear()
            raise StopValidation()


class AnswerForm(FlaskForm):
    submit = SubmitField("Send my answers")


def field_name(kind: str, agent_id: int, question_id: int | None = None) -> str:
    return f"{kind}_{agent_id}" if question_id is None else f"{kind}_{agent_id}_{question_id}"


def answer_form_class(campaign: SurveyCampaign) -> type[AnswerForm]:
    """The answer form for one campaign: for each agent the standard questions and its own ones."""

    class CampaignAnswerForm(AnswerForm):
        pass

    for agent in campaign.agents:
        skip = field_name("skip", agent.id)
        setattr(
            CampaignAnswerForm,
            skip,
            BooleanField(f"I don't work with {agent.name}: skip it"),
        )
        setattr(
            CampaignAnswerForm,
            field_name("satisfaction", agent.id),
            RadioField(
                f"Overall, how satisfied are you with {agent.name}?",
                choices=SATISFACTION_SCALE,
                coerce=int,
                validate_choice=False,
                validators=[_RequiredUnlessSkipped(skip, "Choose how satisfied you are.")],
            ),
        )
        setattr(
            CampaignAnswerForm,
            field_name("trust", agent.id),
            RadioField(
                "I can rely on this agent's outputs.",
                choices=AGREEMENT_SCALE,
                coerce=int,
                validate_choice=False,
                validators=[_RequiredUnlessSkipped(skip, "Choose how much you agree.")],
            ),
        )
        setattr(
            CampaignAnswerForm,
            field_name("nps", agent.id),
            RadioField(
                f"How likely are you to recommend {agent.name} to a colleague?",
                choices=NPS_SCALE,
                coerce=int,
                validate_choice=False,
                validators=[_RequiredUnlessSkipped(skip, "Choose a number from 0 to 10.")],
                description="0 means not at all likely, 10 extremely likely.",
            ),
        )
        setattr(
            CampaignAnswerForm,
            field_name("change", agent.id),
            TextAreaField(
                "What one change would help most?",
                validators=[_SkipAware(skip), Length(max=MAX_TEXT_ANSWER)],
                description="Optional. Please leave out names and anything that identifies you.",
            ),
        )
        for question in campaign.questions:
            name = field_name("q", agent.id, question.id)
            if question.kind is QuestionKind.LIKERT:
                extra = RadioField(
                    question.prompt,
                    choices=AGREEMENT_SCALE,
                    coerce=int,
                    validate_choice=False,
                    validators=[_RequiredUnlessSkipped(skip, "Choose how much you agree.")],
                )
            else:
                extra = TextAreaField(
                    question.prompt,
                    validators=[_SkipAware(skip), Length(max=MAX_TEXT_ANSWER)],
                    description="Optional.",
                )
            setattr(CampaignAnswerForm, name, extra)
    return CampaignAnswerForm


def answers_from(form: AnswerForm, campaign: SurveyCampaign) -> list[AgentAnswers]:
    """The validated form as the service's answers; skipped agents are left out."""
    answers = []
    for agent in campaign.agents:
        if form[field_name("skip", agent.id)].data:
            continue
        extra: dict[int, int | str] = {}
        for question in campaign.questions:
            value = form[field_name("q", agent.id, question.id)].data
            if question.kind is QuestionKind.LIKERT or (value and value.strip()):
                extra[question.id] = value
        answers.append(
            AgentAnswers(
                agent_id=agent.id,
                satisfaction=form[field_name("satisfaction", agent.id)].data,
                trust=form[field_name("trust", agent.id)].data,
                nps=form[field_name("nps", agent.id)].data,
                change_text=form[field_name("change", agent.id)].data or "",
                extra=extra,
            )
        )
    return answers
