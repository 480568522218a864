"""The results page and its CSV exports: figures per agent, comments, and the anonymity threshold."""

import csv
import io
from datetime import date

import sqlalchemy as sa

from portal.core.db import db
from portal.surveys import services
from portal.surveys.models import Cadence, SurveyRound
from tests.surveys.conftest import add_answers, at, close_round


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _closed_round_with(app, make_campaign, answers_by_agent, teams=None, comments=None, **kwargs):
    agents = list(answers_by_agent)
    ref = make_campaign(agents, **kwargs)
    with app.app_context():
        for agent, scores in answers_by_agent.items():
            add_answers(
                ref.round_id,
                agent.id,
                scores,
                team=(teams or {}).get(agent.id),
                comment=(comments or {}).get(agent.id, ""),
            )
        close_round(ref.round_id)
    return ref


def test_four_answers_are_withheld_five_are_shown(
    app, client, login, make_user, make_agent, make_campaign
):
    small = make_agent(name="Claims Triage")
    large = make_agent(name="Support Assistant")
    ref = _closed_round_with(
        app,
        make_campaign,
        {
            small: [(2, 2, 3)] * 4,
            large: [(5, 4, 10), (4, 4, 9), (4, 3, 8), (3, 3, 6), (4, 5, 10)],
        },
        comments={small.id: "Secret about claims", large.id: "Cite the article it used"},
    )
    login(make_user("manager"))
    page = client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "withheld: fewer than 5 answers" in html
    assert "Secret about claims" not in html and "2.00" not in html
    assert "Cite the article it used" in html
    assert "4.00" in html and "3.80" in html and "+40" in html  # sat 20/5, trust 19/5, NPS 3-1 of 5

    rows = {
        row["agent"]: row
        for row in _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv?round={ref.round_id}"))
        if row["team"] == "All teams"
    }
    assert rows["Claims Triage"]["responses"] == "withheld: fewer than 5 answers"
    assert rows["Claims Triage"]["satisfaction_mean"] == "withheld: fewer than 5 answers"
    assert rows["Claims Triage"]["nps"] == "withheld: fewer than 5 answers"
    assert (
        rows["Support Assistant"]["responses"],
        rows["Support Assistant"]["satisfaction_mean"],
    ) == (
        "5",
        "4.00",
    )
    assert rows["Support Assistant"]["trust_mean"] == "3.80"
    assert rows["Support Assistant"]["nps"] == "+40"

    comments = client.get(f"/surveys/campaigns/{ref.id}/comments.csv?round={ref.round_id}")
    text = comments.get_data(as_text=True)
    assert "Secret about claims" not in text
    assert "Cite the article it used" in text
    assert "Claims Triage" in text and "withheld: fewer than 5 answers" in text


def test_all_rounds_view_and_csv_withhold_the_same_way(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent(name="Invoice Matcher")
    ref = _closed_round_with(app, make_campaign, {agent: [(1, 1, 0)] * 4})
    login(make_user("admin"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results").get_data(as_text=True)
    assert "All closed rounds" in html and "withheld: fewer than 5 answers" in html
    assert "1.00" not in html
    rows = _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv"))
    assert all("1.00" not in value for row in rows for value in row.values())


def test_small_team_is_withheld_and_cannot_be_worked_out_from_the_total(
    app, client, login, make_user, make_agent, make_campaign
):
    """Team Alpha has 6 answers, Beta 4: Beta is withheld, and so is Alpha, since the agent's total
    minus Alpha would give Beta. Neither team is even named."""
    agent = make_agent(name="Support Assistant")
    ref = make_campaign([agent])
    with app.app_context():
        add_answers(ref.round_id, agent.id, [(5, 5, 10)] * 6, team="Alpha")
        add_answers(ref.round_id, agent.id, [(1, 1, 0)] * 4, team="Beta")
        close_round(ref.round_id)
    login(make_user("manager"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}").get_data(
        as_text=True
    )
    assert "3.40" in html  # the agent's figure: (30 + 4) / 10
    assert "5.00" not in html and "1.00" not in html
    assert "Alpha" not in html and "Beta" not in html
    assert "No team can be shown on its own" in html
    rows = _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv?round={ref.round_id}"))
    assert [(row["team"], row["satisfaction_mean"]) for row in rows] == [("All teams", "3.40")]


def test_teams_too_small_to_show_are_shown_only_together(
    app, client, login, make_user, make_agent, make_campaign
):
    """Alpha 6, Gamma 5, Beta 4 answers: Beta is too small; Gamma, the smallest other team, is
    withheld with it, and the two appear only together (9 answers)."""
    agent = make_agent(name="Support Assistant")
    ref = make_campaign([agent])
    with app.app_context():
        add_answers(ref.round_id, agent.id, [(5, 5, 10)] * 6, team="Alpha")
        add_answers(ref.round_id, agent.id, [(4, 4, 8)] * 5, team="Gamma")
        add_answers(ref.round_id, agent.id, [(1, 1, 0)] * 4, team="Beta")
        close_round(ref.round_id)
    login(make_user("manager"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}").get_data(
        as_text=True
    )
    assert "Alpha" in html and "Gamma" not in html and "Beta" not in html
    assert "Other teams together" in html and "2.67" in html
    rows = _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv?round={ref.round_id}"))
    assert [(r["team"], r["responses"], r["satisfaction_mean"], r["nps"]) for r in rows] == [
        ("All teams", "15", "3.60", "+13"),  # (30 + 20 + 4) / 15; NPS (6 - 4) / 15
        ("Alpha", "6", "5.00", "+100"),
        ("Other teams together", "9", "2.67", "-44"),  # (20 + 4) / 9; NPS -4 / 9
    ]


def test_a_small_round_cannot_be_worked_out_from_the_campaign_total(
    app, client, login, make_user, make_agent, make_campaign
):
    """January 6 answers, February 4: February is withheld, and January too (the total minus
    January would give February), but the total of both is shown."""
    agent = make_agent(name="Claims Triage")
    ref = make_campaign(
        [agent], cadence=Cadence.MONTHLY, opens_on=date(2026, 1, 1), now=at(2026, 1, 1)
    )
    with app.app_context():
        add_answers(ref.round_id, agent.id, [(5, 5, 10)] * 6)
        services.advance_survey_rounds(at(2026, 2, 1, 0))
        db.session.commit()
        february = db.session.scalar(sa.select(SurveyRound.id).where(SurveyRound.number == 1))
        add_answers(february, agent.id, [(1, 1, 0)] * 4)
        services.advance_survey_rounds(at(2026, 3, 1, 0))
        db.session.commit()
    login(make_user("manager"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results").get_data(as_text=True)
    assert "3.40" in html and "5.00" not in html and "1.00" not in html
    assert "withheld: fewer than 5 answers" in html
    assert "withheld: it would reveal a group of fewer than 5 answers" in html
    rows = _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv"))
    by_period = {row["period"]: row["satisfaction_mean"] for row in rows}
    assert by_period == {
        "All closed rounds": "3.40",
        "January 2026": "withheld: it would reveal a group of fewer than 5 answers",
        "February 2026": "withheld: fewer than 5 answers",
    }
    # Choosing the round itself shows nothing more.
    january = client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}")
    assert "5.00" not in january.get_data(as_text=True)


def test_a_campaign_threshold_of_three_shows_three_answers(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent(name="Claims Triage")
    ref = _closed_round_with(app, make_campaign, {agent: [(3, 2, 7)] * 3}, threshold=3)
    login(make_user("manager"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}").get_data(
        as_text=True
    )
    assert "3.00" in html and "2.00" in html
    rows = _csv(client.get(f"/surveys/campaigns/{ref.id}/results.csv?round={ref.round_id}"))
    assert [(r["team"], r["responses"], r["satisfaction_mean"], r["trust_mean"]) for r in rows] == [
        ("All teams", "3", "3.00", "2.00"),
        ("No team", "3", "3.00", "2.00"),
    ]


def test_open_round_shows_only_its_total_count(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent(name="Support Assistant")
    ref = make_campaign([agent])
    people = [make_user(team="Alpha") for _ in range(6)]
    for person in people:
        browser = app.test_client()
        login_response = browser.post(
            "/login", data={"email": person.email, "password": "correct-horse-battery"}
        )
        assert login_response.status_code == 302
        browser.post(
            f"/surveys/rounds/{ref.round_id}",
            data={
                f"satisfaction_{agent.id}": "5",
                f"trust_{agent.id}": "5",
                f"nps_{agent.id}": "10",
            },
        )
    login(make_user("manager"))
    html = client.get(f"/surveys/campaigns/{ref.id}/results").get_data(as_text=True)
    assert "is open" in html and "6 of" in html
    assert "No closed rounds yet" in html
    assert "5.00" not in html and "Alpha" not in html
    assert (
        client.get(f"/surveys/campaigns/{ref.id}/results?round={ref.round_id}").status_code == 404
    )


def test_results_are_for_managers_and_admins(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    ref = _closed_round_with(app, make_campaign, {agent: [(4, 4, 9)] * 5})
    draft = make_campaign([agent], name="Draft", launch=False)
    for role in ("reporter", "owner", "triage"):
        login(make_user(role))
        for url in (
            f"/surveys/campaigns/{ref.id}/results",
            f"/surveys/campaigns/{ref.id}/results.csv",
            f"/surveys/campaigns/{ref.id}/comments.csv",
        ):
            assert client.get(url).status_code == 403, (role, url)
        client.post("/logout")
    login(make_user("manager"))
    assert client.get(f"/surveys/campaigns/{ref.id}/results").status_code == 200
    assert client.get(f"/surveys/campaigns/{draft.id}/results").status_code == 404
    assert "Draft" not in client.get("/surveys/results/").get_data(as_text=True)


def test_csv_cells_cannot_run_as_spreadsheet_formulas(
    app, client, login, make_user, make_agent, make_campaign
):
    agent = make_agent()
    ref = _closed_round_with(
        app,
        make_campaign,
        {agent: [(4, 4, 9)] * 5},
        comments={agent.id: '=HYPERLINK("http://evil.example","x")'},
    )
    login(make_user("manager"))
    text = client.get(f"/surveys/campaigns/{ref.id}/comments.csv?round={ref.round_id}").get_data(
        as_text=True
    )
    assert "'=HYPERLINK" in text
    with app.app_context():
        db.session.remove()
