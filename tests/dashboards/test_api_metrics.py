"""GET /api/v1/metrics: the dashboards' numbers, the same anonymity rule, managers and owners."""

import csv
import io

W = "withheld"
W_TEXT = "withheld: fewer than 5 answers"
WINDOW = {"from": "2026-07-01", "to": "2026-09-30"}


def test_a_manager_gets_the_dashboards_numbers(api, world):
    response = api(world.manager).get("/api/v1/metrics", query_string={**WINDOW, "agent": "alpha"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scope"] == {
        "agent": "alpha",
        "team": None,
        "from": "2026-07-01",
        "to": "2026-09-30",
    }
    # Reports 1, 2, 4, 6 closed of 7 (the duplicate is left out); report 8 in flight.
    assert body["closed_loop_rate"] == round(4 / 7, 4)
    assert body["closed_loop"] == {"closed": 4, "filed": 7, "in_flight": 1}
    # Answered: 1 fixed, 4 fixed, 7 not fixed.
    assert body["confirmed_fix_rate"] == round(2 / 3, 4)
    # 4, 6, 10, 24, 48 hours: median 10, p90 = 24 + 0.6 x 24.
    assert body["time_to_act_hours"] == {"median": 10.0, "p90": 38.4, "acted_on": 5}
    assert body["sla_attainment"] == round(4 / 6, 4)
    assert body["satisfaction"] == round(63 / 17, 2)
    assert body["trust"] == round(55 / 17, 2)
    assert body["nps"] == round(100 * (9 - 4) / 17, 1)
    assert body["response_count"] == 17
    assert body["training_completion"] == round(3 / 4, 4)
    assert body["training"]["overdue"] == 1


def test_the_api_and_the_page_show_the_same_numbers(api, client, login, world):
    body = api(world.manager).get("/api/v1/metrics", query_string={**WINDOW, "agent": "alpha"})
    login(world.manager)
    page = client.get("/dashboards/agents/alpha", query_string=WINDOW).get_data(as_text=True)
    tiles = page.split('id="headline-heading"')[1].split("</section>")[0]
    numbers = body.get_json()
    assert f"{numbers['closed_loop_rate'] * 100:.1f}%" in tiles
    assert f"{numbers['satisfaction']:.2f}" in tiles
    assert f"{numbers['trust']:.2f}" in tiles
    assert f"{numbers['time_to_act_hours']['median']:.1f} h" in tiles


def test_a_team_below_the_threshold_is_withheld_in_the_api(api, client, login, world):
    response = api(world.manager).get(
        "/api/v1/metrics", query_string={**WINDOW, "agent": "alpha", "team": "Claims"}
    )
    body = response.get_json()
    assert body["scope"]["team"] == {"id": world.claims, "name": "Claims"}
    for key in ("satisfaction", "trust", "nps", "response_count"):
        assert body[key] == W, key
    assert body["anonymity_threshold"] == 5
    # The same scope on the page and in the CSV.
    login(world.manager)
    csv_text = client.get(
        "/dashboards/charts/satisfaction.csv",
        query_string={**WINDOW, "agent": "alpha", "team": str(world.claims)},
    ).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(csv_text)))[1:]
    assert [row[1:3] for row in rows] == [[W_TEXT, W_TEXT], ["0", ""], [W_TEXT, W_TEXT]]


def test_owners_ask_for_their_own_agents_only(api, make_user, world):
    owner = api(world.owner)
    assert owner.get("/api/v1/metrics", query_string={"agent": "alpha"}).status_code == 200
    refused = owner.get("/api/v1/metrics", query_string={"agent": "beta"})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "Only managers and this agent's owners see its numbers."
    assert owner.get("/api/v1/metrics").status_code == 403  # without agent=
    for role in (None, "triage", "trainee"):
        person = make_user(*([role] if role else []))
        assert (
            api(person).get("/api/v1/metrics", query_string={"agent": "alpha"}).status_code == 403
        )
    assert api(world.manager).get("/api/v1/metrics").status_code == 200  # all agents
    assert api(make_user("admin")).get("/api/v1/metrics").status_code == 200


def test_bad_questions_get_json_errors(api, world):
    manager = api(world.manager)
    unknown = manager.get("/api/v1/metrics", query_string={"agent": "nobody"})
    assert unknown.status_code == 404
    bad_date = manager.get("/api/v1/metrics", query_string={"from": "2026-02-30"})
    assert bad_date.status_code == 422 and "from" in bad_date.get_json()["fields"]
    backwards = manager.get(
        "/api/v1/metrics", query_string={"from": "2026-09-01", "to": "2026-08-01"}
    )
    assert backwards.status_code == 422
    team = manager.get("/api/v1/metrics", query_string={"team": "Nobody's team"})
    assert team.status_code == 422 and team.get_json()["fields"] == {
        "team": "Give a team id or its exact name."
    }
    assert (
        manager.get("/api/v1/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
