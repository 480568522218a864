"""Filters: defaults, bad input answered beside the field, and plotly.js served by the portal."""

import json
import re
from datetime import date
from pathlib import Path

import plotly

from portal.accounts import services as accounts
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.dashboards.services import default_window
from portal.training.models import TrainingModule
from tests.dashboards.conftest import WINDOW, add_assignment, add_person


def test_the_default_period_is_the_last_six_months(client, login, world):
    login(world.manager)
    first, last = default_window(utcnow().date())
    page = client.get("/dashboards/").get_data(as_text=True)
    assert f"{first:%d %b %Y} to {last:%d %b %Y}" in page
    assert first.day == 1 and (last.year - first.year) * 12 + last.month - first.month == 5
    assert f'value="{first.isoformat()}"' in page


def test_bad_dates_are_answered_beside_the_field_and_kept(client, login, world):
    login(world.manager)
    response = client.get(
        "/dashboards/agents/alpha", query_string={"from": "2026-13-40", "to": "x"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not a valid date value." in page
    assert 'id="from-error"' in page and 'aria-invalid="true"' in page
    assert 'value="2026-13-40"' in page  # what the person typed is kept
    assert 'data-figure="' not in page

    backwards = client.get("/dashboards/", query_string={"from": "2026-09-01", "to": "2026-08-01"})
    assert backwards.status_code == 400
    assert "The end date is before the start date." in backwards.get_data(as_text=True)

    too_long = client.get("/dashboards/", query_string={"from": "2020-01-01", "to": "2026-08-01"})
    assert too_long.status_code == 400
    assert "at most 36 months" in too_long.get_data(as_text=True)

    unknown_team = client.get("/dashboards/", query_string={**WINDOW, "team": "99999"})
    assert unknown_team.status_code == 400
    assert "Choose one of the listed teams." in unknown_team.get_data(as_text=True)

    csv = client.get(
        "/dashboards/charts/closed_loop.csv", query_string={"agent": "alpha", "from": "soon"}
    )
    assert csv.status_code == 400
    assert "Not a valid date value." in csv.get_data(as_text=True)


def test_plotly_js_comes_from_the_plotly_package_never_a_cdn(client, login, world):
    login(world.manager)
    page = client.get("/dashboards/agents/alpha", query_string=WINDOW).get_data(as_text=True)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert "/dashboards/assets/plotly.min.js" in scripts
    assert "/static/js/dashboards.js" in scripts
    assert all(src.startswith("/") and not src.startswith("//") for src in scripts)

    response = client.get("/dashboards/assets/plotly.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert response.get_data() == shipped.read_bytes()
    assert "max-age=" in response.headers["Cache-Control"]


def test_names_in_a_figure_cannot_close_its_data_block(app, client, login, world):
    """Team names become axis labels inside the <script type="application/json"> block."""
    evil = "</script><script>alert(1)</script>"
    with app.app_context():
        team = accounts.get_or_create_team(evil)
        module = db.session.scalar(
            db.select(TrainingModule).where(TrainingModule.agent_id == world.alpha.id)
        )
        person = add_person(team, "evil")
        db.session.flush()
        add_assignment(module, person, date(2026, 7, 20), False)
        db.session.commit()
    login(world.manager)
    page = client.get("/dashboards/agents/alpha", query_string=WINDOW).get_data(as_text=True)
    training = page.split('id="chart-training-figure">')[1].split("</script>")[0]
    assert "<" not in training and ">" not in training
    assert evil in json.loads(training)["data"][0]["x"]  # the name itself survives, escaped
    assert "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page  # the table and the team filter


def test_csv_files_are_named_after_their_scope(client, login, world):
    login(world.manager)
    response = client.get(
        "/dashboards/charts/closed_loop.csv",
        query_string={**WINDOW, "agent": "alpha", "team": str(world.support)},
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="closed-loop_alpha_team-{world.support}_2026-07-01_2026-09-30.csv"'
    )
