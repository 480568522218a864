"""Every chart's numbers: worked out by hand on the `world` fixture, and equal to what the metric
functions that define them return. The CSV is the table is the figure."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime

from portal.agents.models import Agent
from portal.core.db import db
from portal.dashboards import services
from portal.feedback import metrics as feedback_metrics
from portal.governance import metrics as governance_metrics
from portal.surveys import metrics as survey_metrics
from portal.training import metrics as training_metrics
from tests.dashboards.conftest import WINDOW

W = "withheld: fewer than 5 answers"
R = "withheld: it would reveal a group of fewer than 5 answers"


def csv_rows(client, key: str, **args) -> list[list[str]]:
    response = client.get(f"/dashboards/charts/{key}.csv", query_string={**WINDOW, **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_closed_loop_time_to_act_and_sla_worked_out_by_hand(client, login, world):
    login(world.manager)
    assert csv_rows(client, "closed_loop", agent="alpha") == [
        ["Month filed", "Reports filed", "Loop closed", "Closed-loop rate (%)", "In flight"],
        ["Jul 2026", "3", "2", "66.7", "0"],
        ["Aug 2026", "2", "2", "100.0", "0"],  # the duplicate is left out
        ["Sep 2026", "2", "0", "0.0", "1"],  # acted on but reporter not told; one in flight
    ]
    assert csv_rows(client, "time_to_act", agent="alpha") == [
        ["Month filed", "Reports acted on", "Median (hours)", "90th percentile (hours)"],
        ["Jul 2026", "2", "7.0", "9.4"],  # 4 h and 10 h
        ["Aug 2026", "2", "15.0", "22.2"],  # 24 h and a 6 h decline
        ["Sep 2026", "1", "48.0", "48.0"],
    ]
    assert csv_rows(client, "sla", agent="alpha") == [
        ["Severity", "Met", "Missed", "Attainment (%)"],
        ["Critical", "0", "1", "0.0"],
        ["High", "2", "0", "100.0"],
        ["Medium", "2", "0", "100.0"],
        ["Low", "0", "1", "0.0"],  # the open one past due; the one in flight is not counted
        ["All severities", "4", "2", "66.7"],
    ]


def test_reports_by_category_count_utc_months(client, login, world):
    login(world.manager)
    rows = csv_rows(client, "categories", agent="alpha")
    assert rows[0] == [
        "Month filed",
        "Wrong or inaccurate output",
        "Unsafe or policy violation",
        "Slow or unavailable",
        "Integration or data error",
        "Hard to use",
        "Concern or suggestion",
        "Total",
    ]
    assert rows[1:] == [
        ["Jul 2026", "1", "1", "0", "0", "1", "0", "3"],
        ["Aug 2026", "1", "1", "0", "0", "0", "0", "2"],
        # Filed 30 Sep 23:00 UTC: September, whatever the server's time zone.
        ["Sep 2026", "0", "0", "0", "1", "0", "1", "2"],
    ]
    # All agents: Beta's July report joins.
    assert csv_rows(client, "categories")[1] == ["Jul 2026", "2", "1", "0", "0", "1", "0", "4"]


def test_survey_charts_withhold_small_months_and_what_would_reveal_them(client, login, world):
    login(world.manager)
    # Jul 6 answers, Aug 7, Sep 4: September is too small, and July (the smallest other month)
    # is withheld too, or the period's total would give September away.
    assert csv_rows(client, "satisfaction", agent="alpha") == [
        ["Month", "Answers", "Satisfaction (1-5)", "Trust (1-5)", "NPS", "Against threshold"],
        ["Jul 2026", R, R, R, R, ""],
        # Aug: satisfaction 21/7, trust 18/7, NPS (3 promoters - 2 detractors) / 7.
        ["Aug 2026", "7", "3.00", "2.57", "14.3", "Below threshold (min 4)"],
        ["Sep 2026", W, W, W, W, ""],
    ]
    assert csv_rows(client, "response_rate", agent="alpha") == [
        ["Month", "People asked", "People who answered", "Response rate (%)"],
        ["Jul 2026", "15", R, R],
        ["Aug 2026", "15", "7", "46.7"],
        ["Sep 2026", "15", W, W],
    ]


def test_training_by_team_and_run_figures(client, login, world):
    login(world.manager)
    assert csv_rows(client, "training", agent="alpha") == [
        [
            "Team",
            "Due",
            "Completed",
            "Completion (%)",
            "Overdue",
            "First-attempt pass rate (%)",
        ],
        ["Claims", "1", "1", "100.0", "0", "100.0"],
        ["Support", "3", "2", "66.7", "1", "50.0"],
    ]
    # All agents: Beta's overdue assignment joins Support.
    assert csv_rows(client, "training")[2] == ["Support", "4", "2", "50.0", "2", "50.0"]
    assert csv_rows(client, "run_figures", agent="alpha") == [
        [
            "Month",
            "Runs",
            "Unsafe reports",
            "Unsafe per 1,000 runs",
            "Quality (%)",
            "Cost per unit",
            "Against thresholds",
        ],
        [
            "Jul 2026",
            "1000",
            "1",
            "1.000",
            "90.00",
            "0.3000",
            "Safety: past threshold; Quality: past threshold",
        ],
        ["Aug 2026", "3000", "1", "0.333", "94.00", "0.3400", "Within thresholds"],
        ["Sep 2026", "", "", "", "", "", ""],
    ]


def test_team_filter_narrows_the_report_charts(client, login, world):
    login(world.manager)
    rows = csv_rows(client, "closed_loop", agent="alpha", team=str(world.support))
    # Support filed reports 1, 3 (July), 4 (August; 5 is a duplicate), 7 (September).
    assert rows[1:] == [
        ["Jul 2026", "2", "1", "50.0", "0"],
        ["Aug 2026", "1", "1", "100.0", "0"],
        ["Sep 2026", "1", "0", "0.0", "0"],
    ]
    assert csv_rows(client, "training", agent="alpha", team=str(world.support))[1:] == [
        ["Support", "3", "2", "66.7", "1", "50.0"]
    ]


def _day(value: date) -> datetime:
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC)


def test_every_chart_equals_the_metric_functions(app, world):
    """The charts only arrange what the defining functions return; nothing is computed twice."""
    with app.app_context():
        agent = db.session.get(Agent, world.alpha.id)
        scope = services.make_scope(date(2026, 7, 1), date(2026, 9, 30), agent, None)
        months = scope.months()

        loop = services.build_chart("closed_loop", scope).rows
        timing = services.build_chart("time_to_act", scope).rows
        for (_first, since, until), loop_row, timing_row in zip(months, loop, timing, strict=True):
            expected = feedback_metrics.closed_loop_rate(None, _day(since), _day(until), agent.id)
            assert loop_row[1:] == [
                expected.total,
                expected.closed,
                expected.rate,
                expected.in_flight,
            ]
            acted = feedback_metrics.time_to_act(None, _day(since), _day(until), agent.id)
            assert timing_row[1:] == [acted.count, acted.median_hours, acted.p90_hours]

        sla = feedback_metrics.sla_attainment(None, _day(scope.start), _day(scope.end), agent.id)
        sla_rows = {row[0]: row[1:] for row in services.build_chart("sla", scope).rows}
        for severity, item in sla.items():
            assert sla_rows[severity.label] == [item.met, item.missed, item.rate]

        by_category = feedback_metrics.reports_by_category(
            None, _day(scope.start), _day(scope.end), agent.id
        )
        category_rows = services.build_chart("categories", scope).rows
        assert sum(row[-1] for row in category_rows) == sum(by_category.values())

        training = {
            group.label: group.figures
            for group in training_metrics.completion_by(
                "team", scope.start, scope.end, agent_id=agent.id
            )
        }
        for row in services.build_chart("training", scope).rows:
            figures = training[row[0]]
            assert row[1:] == [
                figures.due,
                figures.completed,
                figures.rate,
                figures.overdue,
                figures.first_attempt_pass_rate,
            ]

        august = survey_metrics.overall_scores(
            date(2026, 8, 1), date(2026, 9, 1), agent_id=agent.id
        )
        satisfaction_rows = services.build_chart("satisfaction", scope).rows
        assert satisfaction_rows[1][1:5] == [
            august.responses,
            august.satisfaction,
            august.trust,
            august.nps,
        ]
        august_rate = survey_metrics.response_rate(
            date(2026, 8, 1), date(2026, 9, 1), agent_id=agent.id
        )[0]
        assert services.build_chart("response_rate", scope).rows[1][1:] == [
            august_rate.audience,
            august_rate.participants,
            august_rate.rate,
        ]

        july = governance_metrics.run_figures(date(2026, 7, 1), date(2026, 8, 1), agent.id)
        run_rows = services.build_chart("run_figures", scope).rows
        assert run_rows[0][1:6] == [
            july.runs,
            july.unsafe_reports,
            july.safety_per_1000,
            july.quality_pct,
            july.cost_per_unit,
        ]


def test_the_figure_draws_the_tables_numbers(client, login, world):
    login(world.manager)
    page = client.get("/dashboards/agents/alpha", query_string=WINDOW).get_data(as_text=True)
    blocks = dict(
        re.findall(
            r'<script type="application/json" id="chart-([a-z_]+)-figure">(.*?)</script>',
            page,
            re.S,
        )
    )
    assert set(blocks) == set(services.CHARTS)
    loop = json.loads(blocks["closed_loop"])
    assert loop["data"][0]["x"] == ["Jul 2026", "Aug 2026", "Sep 2026"]
    assert loop["data"][0]["y"] == [66.7, 100.0, 0.0]
    satisfaction = json.loads(blocks["satisfaction"])
    assert satisfaction["data"][0]["y"] == [None, 3.0, None]  # withheld months are gaps...
    marks = {
        key: [
            a["x"]
            for a in json.loads(blocks[key])["layout"]["annotations"]
            if a["text"] == "Withheld"
        ]
        for key in ("satisfaction", "response_rate")
    }
    assert marks == {key: ["Jul 2026", "Sep 2026"] for key in marks}  # ...that say so
    # The satisfaction threshold is drawn, with its words, readable over what it crosses.
    assert satisfaction["layout"]["shapes"][0]["y0"] == 4.0
    label = satisfaction["layout"]["annotations"][0]
    assert "Satisfaction threshold 4" in label["text"] and label["bgcolor"].startswith("rgba(255")
    # No inline script: every <script> is a data block or has a src.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert 'type="application/json"' in tag or "src=" in tag, tag
    assert "onclick" not in page.lower()


def test_every_figure_is_a_valid_plotly_figure(app, world):
    """Charts are built without Plotly's per-property check (it is slow); here every figure of both
    pages is read back with the check on, so a misspelt property fails here, not in a browser."""
    import plotly.graph_objects as go

    with app.app_context():
        alpha = db.session.scalar(db.select(Agent).where(Agent.slug == "alpha"))
        for agent in (None, alpha):
            scope = services.make_scope(date(2026, 7, 1), date(2026, 9, 30), agent)
            figures = services.figures_of(scope)
            for key in services.chart_keys(scope):
                shown = json.loads(str(services.build_chart(key, scope, figures).figure_json))
                checked = go.Figure(shown)  # raises ValueError on an unknown property or value
                assert [trace.type for trace in checked.data] == [
                    trace["type"] for trace in shown["data"]
                ]
                assert len(checked.data) >= 1
