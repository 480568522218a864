"""Run figures per period: who may enter them, the rules they follow, and what they add up to."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.agents.models import Agent
from portal.core.db import db
from portal.governance import metrics
from portal.governance.models import AgentPeriodFigures, FiguresSource

URL = "/governance/agents/alpha/figures"
GOOD = {
    "period_start": "2026-10-01",
    "period_end": "2026-10-31",
    "runs": "2500",
    "quality_pct": "95.5",
    "cost_per_unit": "0.29",
}


def stored(app, start: date) -> AgentPeriodFigures | None:
    with app.app_context():
        row = db.session.scalar(
            sa.select(AgentPeriodFigures).where(AgentPeriodFigures.period_start == start)
        )
        if row is not None:
            db.session.expunge(row)
        return row


def test_an_owner_enters_a_period_and_sees_it_listed(app, client, login, world):
    login(world.owner)
    response = client.post(URL, data=GOOD)
    assert response.status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "Figures for 01 Oct 2026 to 31 Oct 2026 recorded." in page
    assert "2,500" in page and "95.50" in page
    row = stored(app, date(2026, 10, 1))
    assert row.runs == 2500 and row.quality_pct == Decimal("95.50")
    assert row.source is FiguresSource.FORM and row.recorded_by_id == world.owner.id


def test_the_same_period_again_replaces_it(app, client, login, world):
    login(world.owner)
    client.post(URL, data=GOOD)
    response = client.post(URL, data={**GOOD, "runs": "2600", "quality_pct": ""})
    assert response.status_code == 302
    assert "replaced" in client.get(URL).get_data(as_text=True)
    row = stored(app, date(2026, 10, 1))
    assert row.runs == 2600 and row.quality_pct is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AgentPeriodFigures)) == 3


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"period_start": "2026-07-15", "period_end": "2026-08-14"}, "period_start", "overlaps"),
        ({"period_end": "2026-09-01"}, "period_end", "The period ends before it starts."),
        ({"runs": "-1"}, "runs", "Number must be between 0"),
        ({"runs": "lots"}, "runs", "Not a valid integer value."),
        ({"quality_pct": "101"}, "quality_pct", "Quality: give a number from 0 to 100."),
        ({"quality_pct": "NaN"}, "quality_pct", "Quality: give a finite number."),
        ({"cost_per_unit": "0.123456"}, "cost_per_unit", "use at most 4 decimal places"),
        ({"period_start": "2099-01-01", "period_end": "2099-01-31"}, "period_start", "not started"),
        ({"period_start": "2025-01-01", "period_end": "2026-10-31"}, "period_end", "at most 366"),
    ],
)
def test_bad_figures_are_answered_beside_the_field(
    app, client, login, world, change, field, message
):
    login(world.owner)
    data = {**GOOD, **change}
    response = client.post(URL, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page.split(f'id="{field}-error"')[1].split("</div>")[0]
    assert f'value="{data[field]}"' in page  # what was typed is kept
    with app.app_context():  # nothing half-saved: only the world's two periods
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AgentPeriodFigures)) == 2


def test_who_may_enter_figures(client, login, make_user, world):
    for person in (world.manager, world.beta_owner, make_user(), make_user("triage")):
        login(person)
        assert client.post(URL, data=GOOD).status_code == 403, person
        client.post("/logout")
    login(make_user("admin"))
    assert client.post(URL, data=GOOD).status_code == 302


def test_who_may_read_figures(client, login, make_user, world):
    login(world.manager)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Enter a period" not in page.get_data(as_text=True)  # managers read, owners enter
    client.post("/logout")
    login(world.beta_owner)
    assert client.get(URL).status_code == 403
    client.post("/logout")
    login(make_user())
    assert client.get(URL).status_code == 403


def test_run_figures_add_up_by_hand(app, world):
    """Jul 1,000 runs (90 %, 0.30), Aug 3,000 (94 %, 0.34); one unsafe report in each month."""
    with app.app_context():
        figures = metrics.run_figures(date(2026, 7, 1), date(2026, 10, 1), world.alpha.id)
        assert figures.periods == 2 and figures.runs == 4000
        assert figures.unsafe_reports == 2
        assert figures.safety_per_1000 == Decimal("0.500")
        assert figures.quality_pct == Decimal("93.00")  # (90 x 1,000 + 94 x 3,000) / 4,000
        assert figures.cost_per_unit == Decimal("0.3300")
        # A figure belongs to the window its period starts in.
        july = metrics.run_figures(date(2026, 7, 1), date(2026, 8, 1), world.alpha.id)
        assert (july.runs, july.unsafe_reports, july.safety_per_1000) == (1000, 1, Decimal("1.000"))
        assert metrics.run_figures(date(2026, 9, 1), date(2026, 10, 1), world.alpha.id).runs == 0
        other = db.session.get(Agent, world.beta.id)
        assert metrics.run_figures(date(2026, 7, 1), date(2026, 10, 1), other.id).periods == 0
