"""The survey anonymity rule on the dashboards: page, CSV and API agree, filters included."""

from tests.dashboards.conftest import WINDOW

W = "withheld: fewer than 5 answers"


def test_a_team_filter_below_the_threshold_withholds_on_page_and_csv(client, login, world):
    login(world.manager)
    # Claims gave 3 answers about Alpha in the whole period (2 in July, 1 in September).
    args = {**WINDOW, "team": str(world.claims)}
    page = client.get("/dashboards/agents/alpha", query_string=args).get_data(as_text=True)
    assert W in page
    tiles = page.split('id="headline-heading"')[1].split("</section>")[0]
    assert tiles.count(W) >= 4  # satisfaction, trust, NPS, answers
    # The scorecard is agent-wide (thresholds are not per team): all 17 of Alpha's answers.
    scorecard = page.split('id="scorecard-heading"')[1].split("</section>")[0]
    assert "17 survey answers" in scorecard
    csv_text = client.get(
        "/dashboards/charts/satisfaction.csv", query_string={**args, "agent": "alpha"}
    ).get_data(as_text=True)
    assert "Jul 2026," + ",".join([W] * 4) in csv_text
    assert "3.00" not in csv_text and "4.00" not in csv_text
    rate = client.get(
        "/dashboards/charts/response_rate.csv", query_string={**args, "agent": "alpha"}
    ).get_data(as_text=True)
    assert "Jul 2026,5," + W in rate


def test_four_answers_are_withheld_and_five_shown(client, login, world, app):
    from portal.core.db import db
    from portal.surveys.models import SurveyResponse, SurveyRound

    login(world.manager)
    args = {"from": "2026-09-01", "to": "2026-09-30", "agent": "alpha"}
    four = client.get("/dashboards/charts/satisfaction.csv", query_string=args).get_data(
        as_text=True
    )
    assert four.splitlines()[1] == "Sep 2026," + ",".join([W] * 4) + ","
    with app.app_context():
        september = (
            db.session.scalar(
                db.select(SurveyRound).where(SurveyRound.period_start == db.func.date("2026-09-01"))
            )
            or db.session.scalars(db.select(SurveyRound).order_by(SurveyRound.period_start)).all()[
                -1
            ]
        )
        db.session.add(
            SurveyResponse(
                round_id=september.id,
                agent_id=world.alpha.id,
                team_id=world.support,
                period_start=september.period_start,
                satisfaction=2,
                trust=1,
                nps=0,
            )
        )
        db.session.commit()
    five = client.get("/dashboards/charts/satisfaction.csv", query_string=args).get_data(
        as_text=True
    )
    # (4+4+5+5+2)/5, (4+4+4+5+1)/5, (4 promoters - 1 detractor)/5
    assert five.splitlines()[1] == "Sep 2026,5,4.00,3.60,60.0,Meets threshold (min 4)"


def test_a_team_is_withheld_when_the_rest_of_its_agent_would_give_a_small_team_away(
    client, login, world
):
    """Support gave 14 of Alpha's 17 answers. Shown beside Alpha's figure for all teams, Support's
    figure would reveal the other 3 (Claims') by subtraction: so Support's is withheld too."""
    login(world.manager)
    everyone = client.get("/dashboards/agents/alpha", query_string=WINDOW).get_data(as_text=True)
    assert "3.71" in everyone  # (24 + 21 + 18) / 17, shown for all teams
    support = client.get(
        "/dashboards/agents/alpha", query_string={**WINDOW, "team": str(world.support)}
    ).get_data(as_text=True)
    tiles = support.split('id="headline-heading"')[1].split("</section>")[0]
    assert W in tiles
    assert "3.71" not in tiles and "3.57" not in tiles  # all teams, and Support alone (50 / 14)


def test_the_all_agents_total_is_withheld_when_it_would_give_a_small_agent_away(
    app, client, login, world
):
    """Beta gets 3 answers in August. Alpha's 7 stay shown on Alpha's page; the all-agents August
    figure is withheld instead, or it minus Alpha's would be Beta's."""
    from portal.agents.models import Agent
    from portal.core.db import db
    from portal.surveys.models import SurveyRound
    from tests.dashboards.conftest import add_answers

    with app.app_context():
        august = db.session.scalars(db.select(SurveyRound).order_by(SurveyRound.id)).all()[1]
        add_answers(august, db.session.get(Agent, world.beta.id), None, [(1, 1, 0)] * 3)
        db.session.commit()
    login(world.manager)
    alpha = client.get(
        "/dashboards/charts/satisfaction.csv", query_string={**WINDOW, "agent": "alpha"}
    ).get_data(as_text=True)
    assert "Aug 2026,7,3.00,2.57,14.3" in alpha
    beta = client.get(
        "/dashboards/charts/satisfaction.csv", query_string={**WINDOW, "agent": "beta"}
    ).get_data(as_text=True)
    assert "Aug 2026," + ",".join([W] * 4) in beta
    everyone = client.get("/dashboards/charts/satisfaction.csv", query_string=WINDOW).get_data(
        as_text=True
    )
    august = next(line for line in everyone.splitlines() if line.startswith("Aug 2026"))
    assert "withheld: it would reveal a group of fewer than 5 answers" in august
    assert "10" not in august.split(",")[1]
