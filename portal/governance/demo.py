"""Demo governance: six months of run figures per demo agent, and two past quarterly decisions.

The figures follow the surveys' story: Claims Triage's quality and cost slip with the bad release
four months ago and recover; Invoice Matcher's runs fall away once it is paused. The decisions are
Claims Triage's: "continue" for the quarter before the bad release, "modify" for the quarter of it.
Run after the other demos, so the frozen snapshots hold their reports, answers and training.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.demo import bad_release_month, claims_triage_version_at, story_months
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.governance import services
from portal.governance.models import Decision, FiguresSource
from portal.governance.periods import (
    add_months,
    previous_quarter,
    quarter_of,
    quarter_window,
)

# Oldest month first: runs, quality %, cost per unit; who sends them (API: the agent's pipeline).
FIGURES = {
    "support-assistant": (
        [18200, 19100, 20400, 21800, 22600, 23900],
        ["93.1", "93.4", "92.8", "93.6", "94.0", "94.2"],
        ["0.33", "0.33", "0.32", "0.32", "0.31", "0.31"],
        FiguresSource.API,
        "tech@example.com",
    ),
    "claims-triage": (
        [2400, 2650, 3100, 2900, 3300, 3600],
        ["96.2", "95.8", "90.4", "92.9", "94.8", "95.6"],
        ["1.08", "1.10", "1.31", "1.22", "1.15", "1.12"],
        FiguresSource.FORM,
        "governance@example.com",
    ),
    "invoice-matcher": (
        [8800, 9100, 9400, 8700, 1900, 350],
        ["97.6", "97.1", "96.5", "95.8", "96.0", "97.9"],
        ["0.041", "0.043", "0.046", "0.052", "0.049", "0.044"],
        FiguresSource.FORM,
        "priya@example.com",
    ),
}

DECISIONS = [
    (
        "claims-triage",
        "before the release",
        Decision.CONTINUE,
        "Pilot on track: quality above 95 % in the measured months and claims officers confirm "
        "most suggestions. Continue the pilot in Claims Operations; review the cost per claim "
        "again next quarter.",
    ),
    (
        "claims-triage",
        "of the release",
        Decision.MODIFY,
        "The 0.9.0 release broke policy-number extraction on scanned claims: quality fell to "
        "90 %, cost per claim rose above the threshold and trust dropped sharply in the survey. "
        "Theo's team rolled the extraction back and fixed it in 0.9.1, and the reports it raised "
        "were acted on with the reporters told what changed. Conditions: re-certify claims "
        "officers on the updated module, add a regression set of scanned claims to the release "
        "checklist, and bring the quality "
        "trend to the next review before any move to production.",
    ),
]


def load(people: dict[str, User]) -> None:
    agents = {
        agent.slug: agent
        for agent in db.session.scalars(sa.select(Agent).where(Agent.slug.in_(list(FIGURES))))
    }
    if len(agents) != len(FIGURES):
        return  # the demo agents are missing
    today = utcnow().date()
    first_month = story_months(today)[0]
    for slug, (runs, quality, cost, source, email) in FIGURES.items():
        for index in range(6):
            start = add_months(first_month, index)
            services.record_figures(
                agents[slug],
                services.FiguresInput(
                    period_start=start,
                    period_end=add_months(start, 1) - timedelta(days=1),
                    runs=runs[index],
                    quality_pct=Decimal(quality[index]),
                    cost_per_unit=Decimal(cost[index]),
                ),
                people[email],
                source,
                today=today,
            )
    # The bad release is the third month of the figures (and of the surveys' story).
    release_quarter = quarter_of(bad_release_month(today))
    quarters = {
        "of the release": release_quarter,
        "before the release": previous_quarter(quarter_window(*release_quarter)[0]),
    }
    council = people["governance@example.com"]
    for slug, which, decision, notes in DECISIONS:
        year, quarter = quarters[which]
        review = services.record_review(
            agents[slug], services.ReviewInput(year, quarter, decision, notes), council, today=today
        )
        # Recorded in the council's meeting, two weeks after the quarter ended, with the version
        # live that day.
        _, end = quarter_window(year, quarter)
        review.created_at = datetime.combine(end + timedelta(days=13), time(10), tzinfo=UTC)
        review.agent_version = claims_triage_version_at(review.created_at, utcnow())
    db.session.flush()
