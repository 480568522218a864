"""The quarterly review: the scorecard, recording the decision, freezing its figures, the history."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.agents.models import Agent
from portal.core.db import db
from portal.governance import services
from portal.governance.models import Decision, GovernanceReview

NEW = "/governance/agents/alpha/reviews/new"


def test_scorecard_against_the_thresholds_worked_out_by_hand(app, world):
    with app.app_context():
        agent = db.session.get(Agent, world.alpha.id)
        lines = {
            line.spec.name: line
            for line in services.scorecard(agent, date(2026, 7, 1), date(2026, 10, 1))
        }
    quality, safety = lines["quality_min_pct"], lines["safety_max_per_1000"]
    cost, satisfaction = lines["cost_max_per_unit"], lines["satisfaction_min"]
    assert (quality.measured, quality.status) == (Decimal("93.00"), "met")  # >= 92
    assert (safety.measured, safety.status) == (Decimal("0.500"), "missed")  # <= 0.4
    assert safety.basis == "2 unsafe reports in 4,000 runs"
    assert (cost.measured, cost.status) == (Decimal("0.3300"), "met")  # <= 0.35
    assert (satisfaction.measured, satisfaction.status) == (Decimal("3.71"), "missed")  # 63 / 17
    assert satisfaction.basis == "17 survey answers"


def test_satisfaction_from_too_few_answers_is_withheld_on_the_scorecard(app, world):
    with app.app_context():
        agent = db.session.get(Agent, world.alpha.id)
        # September alone: 4 answers.
        line = services.scorecard(agent, date(2026, 9, 1), date(2026, 10, 1))[3]
    assert line.status == "withheld"
    assert line.measured is None
    assert line.basis == "withheld: fewer than 5 answers"


def record(client, quarter="2026-Q3", decision="modify", notes="Fix the extraction first."):
    return client.post(NEW, data={"quarter": quarter, "decision": decision, "notes": notes})


def test_a_manager_records_a_decision_and_it_is_listed(client, login, world):
    login(world.manager)
    form = client.get(NEW)
    assert form.status_code == 200
    assert "Q3 2026: the scorecard that will be frozen" in form.get_data(as_text=True)
    response = record(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Quarterly review: Alpha Assistant, Q3 2026" in page
    assert "Modify" in page and "Fix the extraction first." in page
    assert "Maya Manager" in page
    history = client.get("/governance/agents/alpha/reviews").get_data(as_text=True)
    assert "Q3 2026" in history and "Modify" in history
    overview = client.get("/governance/").get_data(as_text=True)
    assert "Q3 2026" in overview


def test_the_recorded_review_keeps_its_figures_and_thresholds(app, client, login, world):
    login(world.manager)
    location = record(client).headers["Location"]
    before = client.get(location).get_data(as_text=True)
    assert "at most 0.4" in before and "0.5" in before
    with app.app_context():
        agent = db.session.get(Agent, world.alpha.id)
        # Later: thresholds are relaxed and a late figure changes the quarter's safety rate.
        agent.safety_max_per_1000 = Decimal("2")
        agent.satisfaction_min = Decimal("3.5")
        figures = db.session.scalars(sa.select(services.AgentPeriodFigures)).all()
        figures[0].runs = 100_000
        db.session.commit()
        review = db.session.scalar(sa.select(GovernanceReview))
        assert review.thresholds["safety_max_per_1000"] == "0.400"
        assert review.measured["safety_per_1000"]["value"] == "0.500"
        lines = services.scorecard_lines(review.measured, review.thresholds)
        assert [line.status for line in lines] == ["met", "missed", "met", "missed"]
    after = client.get(location).get_data(as_text=True)
    assert "at most 0.4" in after and "at most 2" not in after
    assert "2 unsafe reports in 4,000 runs" in after
    assert "at least 4" in after  # satisfaction threshold as it was
    # The live scorecard moved on; the record did not.
    live = client.get(
        "/dashboards/agents/alpha", query_string={"from": "2026-07-01", "to": "2026-09-30"}
    )
    assert "at most 2" in live.get_data(as_text=True)


def test_one_decision_per_quarter_and_never_for_the_future(app, client, login, world):
    login(world.manager)
    assert record(client).status_code == 302
    again = record(client, decision="scale")
    assert again.status_code == 400
    assert "already recorded" in again.get_data(as_text=True)
    future = record(client, quarter="2099-Q1")
    assert future.status_code == 400
    assert "Choose one of the listed quarters." in future.get_data(as_text=True)
    no_decision = record(client, quarter="2026-Q2", decision="")
    assert no_decision.status_code == 400
    assert "Choose continue, scale, modify or pause." in no_decision.get_data(as_text=True)
    assert "Fix the extraction first." in no_decision.get_data(as_text=True)  # notes kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(GovernanceReview)) == 1
        with pytest.raises(services.GovernanceError, match="not started"):
            services.record_review(
                db.session.get(Agent, world.alpha.id),
                services.ReviewInput(2099, 1, Decision.PAUSE),
                db.session.get(services.User, world.manager.id),
            )


def test_only_managers_record_and_owners_read_their_own(client, login, make_user, world):
    for person in (world.owner, make_user("admin"), make_user("triage"), make_user()):
        login(person)
        assert client.get(NEW).status_code == 403
        assert record(client).status_code == 403
        client.post("/logout")
    login(world.manager)
    location = record(client).headers["Location"]
    client.post("/logout")

    login(world.owner)  # Alpha's owner reads Alpha's review
    assert client.get(location).status_code == 200
    assert client.get("/governance/agents/alpha/reviews").status_code == 200
    client.post("/logout")
    login(world.beta_owner)
    assert client.get(location).status_code == 403
    assert client.get("/governance/agents/alpha/reviews").status_code == 403
    governance = client.get("/governance/").get_data(as_text=True)
    assert "Beta Bot" in governance and "Alpha Assistant" not in governance
    client.post("/logout")
    login(make_user())
    assert client.get(location).status_code == 403
    assert client.get("/governance/").status_code == 403


def test_history_is_newest_first_and_the_record_prints(client, login, world):
    login(world.manager)
    record(client, quarter="2026-Q2", decision="continue", notes="On track.")
    location = record(client, quarter="2026-Q3", decision="pause").headers["Location"]
    history = client.get("/governance/agents/alpha/reviews").get_data(as_text=True)
    listed = history.split('<ol class="list-unstyled')[1]
    assert listed.index("Q3 2026") < listed.index("Q2 2026")
    page = client.get(location).get_data(as_text=True)
    assert "data-print-page" in page and "/static/js/dashboards-print.js" in page
    assert "onclick" not in page.lower()
    assert 'class="breadcrumb"' in page and "no-print" in page
