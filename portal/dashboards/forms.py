"""The dashboards' filters: a GET form (no CSRF: it changes nothing), checked like any other form."""

from datetime import date

from wtforms import DateField, Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.accounts.models import Team
from portal.agents.models import Agent
from portal.dashboards.services import MAX_MONTHS, default_window
from portal.governance.periods import add_months

ALL = ""


class FilterForm(Form):
    agent = SelectField("Agent", default=ALL, validate_choice=False)
    team = SelectField("Team", default=ALL, validate_choice=False)
    start = DateField("From", name="from", validators=[Optional()])
    end = DateField("To", name="to", validators=[Optional()])

    def __init__(
        self,
        formdata,
        *,
        agents: list[Agent],
        teams: list[Team],
        all_agents_label: str | None,
        today: date,
    ):
        super().__init__(formdata)
        self.today = today
        agent_choices = [SelectChoice(agent.slug, agent.name) for agent in agents]
        if all_agents_label:
            agent_choices.insert(0, SelectChoice(ALL, all_agents_label))
        self.agent.choices = agent_choices
        self.team.choices = [
            SelectChoice(ALL, "All teams"),
            *(SelectChoice(str(team.id), team.name) for team in teams),
        ]
        self.visible_agents = agents  # in the order given
        self._agents = {agent.slug: agent for agent in agents}
        self._teams = {str(team.id): team for team in teams}
        first, last = default_window(today)
        # Absent or blank dates mean the default window; unreadable ones are reported by validate().
        if self.start.data is None and not "".join(self.start.raw_data or []).strip():
            self.start.data = first
        if self.end.data is None and not "".join(self.end.raw_data or []).strip():
            self.end.data = last

    def validate_agent(self, field) -> None:
        # A slug the person may not see reads the same as an unknown one here; the views answer 403
        # for a URL naming an agent outside their reach before the form is asked.
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the listed agents.")

    def validate_team(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the listed teams.")

    def validate_end(self, field) -> None:
        if self.start.data is None or field.data is None:
            return
        if field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
        if field.data > add_months(self.today, 12):
            raise ValidationError("Choose an end date within the next year.")
        if add_months(self.start.data, MAX_MONTHS) <= field.data:
            raise ValidationError(f"Choose a period of at most {MAX_MONTHS} months.")

    def validate_start(self, field) -> None:
        if field.data is not None and field.data.year < 2000:
            raise ValidationError("Choose a date from the year 2000 on.")

    @property
    def chosen_agent(self) -> Agent | None:
        return self._agents.get(self.agent.data or ALL)

    @property
    def chosen_team(self) -> Team | None:
        return self._teams.get(self.team.data or ALL)
