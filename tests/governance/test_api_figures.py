"""POST /api/v1/agents/{slug}/metrics: an agent (or its owners) posts run figures per period."""

from datetime import date

import sqlalchemy as sa

from portal.core.db import db
from portal.governance.models import AgentPeriodFigures, FiguresSource

URL = "/api/v1/agents/alpha/metrics"
BODY = {"period_start": "2026-10-01", "period_end": "2026-10-31", "runs": 4200, "quality_pct": 93.5}


def figures(app) -> list[AgentPeriodFigures]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AgentPeriodFigures).order_by(AgentPeriodFigures.period_start)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_an_owners_token_posts_and_reposts_a_period(app, api, world):
    client = api(world.owner)
    created = client.post(URL, json=BODY)
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {
        "agent": "alpha",
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
        "runs": 4200,
        "quality_pct": 93.5,
        "cost_per_unit": None,
        "source": "api",
        "updated_at": created.get_json()["updated_at"],
    }
    # The same period again replaces its figures as a whole: quality is no longer stated.
    again = {"period_start": "2026-10-01", "period_end": "2026-10-31", "runs": 4300}
    replaced = client.post(URL, json={**again, "cost_per_unit": "0.3125"})
    assert replaced.status_code == 200
    october = figures(app)[-1]
    assert (october.period_start, october.runs) == (date(2026, 10, 1), 4300)
    assert str(october.cost_per_unit) == "0.3125" and october.quality_pct is None
    assert october.source is FiguresSource.API


def test_who_may_post(api, make_user, world):
    for person in (world.beta_owner, world.manager, make_user(), make_user("triage")):
        assert api(person).post(URL, json=BODY).status_code == 403
    assert api(make_user("admin")).post(URL, json=BODY).status_code == 201
    assert api(world.owner).post("/api/v1/agents/nobody/metrics", json=BODY).status_code == 404


def test_bad_figures_get_json_errors_and_nothing_is_saved(app, api, world):
    client = api(world.owner)
    cases = [
        ({**BODY, "runs": -1}, 422, "runs"),
        ({**BODY, "runs": True}, 422, "runs"),
        ({**BODY, "runs": "4200"}, 422, "runs"),
        ({**BODY, "quality_pct": 120}, 422, "quality_pct"),
        ({**BODY, "cost_per_unit": 1e400}, 422, "cost_per_unit"),
        ({**BODY, "period_end": "2026-09-01"}, 422, "period_end"),
        ({**BODY, "period_start": "2026-08-15"}, 409, "period_start"),  # overlaps August
        ({**BODY, "surprise": 1}, 422, "surprise"),
        ({"runs": 1}, 422, "period_start"),
    ]
    for body, status, field in cases:
        response = client.post(URL, json=body)
        assert response.status_code == status, (body, response.get_json())
        assert field in response.get_json()["fields"], (body, response.get_json())
    not_json = client.post(URL, data="runs=1", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400
    broken = client.post(URL, data="{", content_type="application/json")
    assert broken.status_code == 400
    assert len(figures(app)) == 2  # only the world's July and August
