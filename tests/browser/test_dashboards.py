"""The dashboards in Chromium: plotly.js (served by the portal) draws every chart without a console
error, and each chart's CSV holds exactly the numbers of its table."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback.models import ReportStatus
from tests.browser_support import PHONE, sign_in
from tests.dashboards.conftest import (
    add_answers,
    add_audience,
    add_figures,
    add_participation,
    add_person,
    add_report,
    add_survey,
    at,
)

pytestmark = pytest.mark.browser

WINDOW = "from=2026-07-01&to=2026-09-30"
PAGE = f"/dashboards/agents/support-assistant?{WINDOW}"


@pytest.fixture
def dashboard_data(live_server):
    """Three months of reports, survey answers and run figures about the seeded agent."""
    with live_server.app.app_context():
        agent = db.session.scalar(sa.select(Agent).where(Agent.slug == "support-assistant"))
        agent.satisfaction_min, agent.safety_max_per_1000 = Decimal("4.0"), Decimal("2.5")
        reporter = db.session.scalar(sa.select(User).where(User.email == "reporter@example.com"))
        team = accounts.get_or_create_team("Customer Support")
        for month in (7, 8, 9):
            for day in (3, 12, 21):
                filed = at(month, day)
                add_report(
                    agent.id,
                    reporter.id,
                    filed,
                    category=ReportCategory.WRONG_OUTPUT if day < 20 else ReportCategory.UNSAFE,
                    status=ReportStatus.CLOSED if day < 20 else ReportStatus.ROUTED,
                    acted=at(month, day + 1) if day < 20 else None,
                    notified=day < 20,
                )
        people = [add_person(team, f"p{n}") for n in range(6)]
        db.session.flush()
        kit = add_survey([agent], [7, 8, 9])
        for month, survey_round in kit.rounds.items():
            shift = month - 7
            add_answers(survey_round, agent, team, [(3 + shift % 3, 3, 8), (4, 4, 9)] * 3)
            add_participation(survey_round, people)
            add_audience(survey_round, {team: 10})
        add_figures(agent, date(2026, 7, 1), date(2026, 7, 31), 1200, "93.0", "0.30")
        add_figures(agent, date(2026, 8, 1), date(2026, 8, 31), 1500, "91.5", "0.33")
        db.session.commit()


def _console_errors(page) -> list[str]:
    errors: list[str] = []

    def note(message) -> None:
        if message.type == "error" and "favicon" not in (message.location or {}).get("url", ""):
            errors.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_the_agent_dashboard_draws_its_charts(page, dashboard_data):
    errors = _console_errors(page)
    sign_in(page, "admin@example.com")
    page.goto(PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Support Assistant")
    charts = page.locator(".dashboard-chart")
    count = charts.count()
    assert count >= 6
    expect(page.locator(".dashboard-chart.js-plotly-plot")).to_have_count(count)
    for index in range(count):
        expect(charts.nth(index).locator("svg.main-svg").first).to_be_visible()
    # The satisfaction threshold is drawn with its words.
    expect(
        page.locator("#chart-satisfaction").get_by_text("Satisfaction threshold 4")
    ).to_be_visible()
    plotly_requests = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('plotly'))"
    )
    assert plotly_requests and all(
        url.startswith(page.url.split("/dashboards")[0]) for url in plotly_requests
    )
    assert errors == []


@pytest.mark.parametrize("key", ["closed_loop", "satisfaction", "run_figures"])
def test_each_csv_matches_its_table(page, dashboard_data, key):
    sign_in(page, "admin@example.com")
    page.goto(PAGE)
    card = page.locator(f"section[aria-labelledby='chart-{key}-title']")
    card.get_by_text("Numbers as a table").click()
    table = card.locator(f"table[data-chart-table='{key}']")
    expect(table).to_be_visible()
    shown = table.evaluate(
        """t => [...t.rows].map(r => [...r.cells].map(c => {
               const copy = c.cloneNode(true);
               copy.querySelectorAll('.visually-hidden').forEach(e => e.remove());
               const text = copy.textContent.trim();
               return text === '—' ? '' : text;
           }))"""
    )
    href = card.get_by_role("link", name="CSV").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.text()))) == shown


def test_the_dashboard_reads_on_a_phone(open_page, dashboard_data):
    page = open_page(viewport=PHONE)
    errors = _console_errors(page)
    sign_in(page, "admin@example.com")
    page.goto(PAGE)
    expect(page.locator(".dashboard-chart.js-plotly-plot").first).to_be_visible()
    assert not page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert errors == []
