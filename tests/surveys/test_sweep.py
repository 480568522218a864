"""`portal sweep` opens the next round and closes the last; running it again changes nothing."""

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa

from portal.core.db import db
from portal.core.sweep import run_sweep
from portal.notifications.models import Notification
from portal.surveys import services
from portal.surveys.models import Cadence, SurveyCampaign, SurveyRound
from tests.surveys.conftest import at


def _rounds(campaign_id: int) -> list[tuple[int, date, bool]]:
    return [
        (r.number, r.period_start, r.closed_at is not None)
        for r in db.session.scalars(
            sa.select(SurveyRound)
            .where(SurveyRound.campaign_id == campaign_id)
            .order_by(SurveyRound.number)
        )
    ]


def _notifications() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification))


def _sweep(now) -> int:
    done = services.advance_survey_rounds(now)
    db.session.commit()
    return done


def test_sweep_closes_the_last_monthly_round_and_opens_the_next_once(
    app, make_user, make_agent, make_campaign
):
    agent = make_agent()
    make_user(team="Support")
    make_user(team="Support")
    ref = make_campaign(
        [agent], cadence=Cadence.MONTHLY, opens_on=date(2026, 1, 1), now=at(2026, 1, 1)
    )
    with app.app_context():
        assert _rounds(ref.id) == [(0, date(2026, 1, 1), False)]
        told = _notifications()
        assert told == 3  # the two members and the campaign's creator (everyone is asked)

        assert _sweep(at(2026, 1, 20)) == 0  # still January: nothing due
        assert _sweep(at(2026, 2, 1, 0)) == 2  # January closes, February opens
        assert _rounds(ref.id) == [(0, date(2026, 1, 1), True), (1, date(2026, 2, 1), False)]
        assert _notifications() == 2 * told

        assert _sweep(at(2026, 2, 1, 0)) == 0  # twice in a row: nothing more
        assert run_sweep(at(2026, 2, 1, 1))["survey_rounds"] == 0
        assert _rounds(ref.id) == [(0, date(2026, 1, 1), True), (1, date(2026, 2, 1), False)]
        assert _notifications() == 2 * told

        february = db.session.scalar(sa.select(SurveyRound).where(SurveyRound.number == 1))
        assert (february.opens_at, february.closes_at) == (at(2026, 2, 1, 0), at(2026, 3, 1, 0))
        assert february.label == "February 2026"
        assert february.audience_size == 3


def test_sweep_skips_periods_it_missed_rather_than_opening_stale_rounds(
    app, make_agent, make_campaign
):
    agent = make_agent()
    ref = make_campaign(
        [agent], cadence=Cadence.MONTHLY, opens_on=date(2026, 1, 1), now=at(2026, 1, 2)
    )
    with app.app_context():
        assert _sweep(at(2026, 4, 10)) == 2
        assert _rounds(ref.id) == [(0, date(2026, 1, 1), True), (3, date(2026, 4, 1), False)]


def test_quarterly_rounds_and_the_end_of_a_campaign(app, make_agent, make_campaign):
    agent = make_agent()
    ref = make_campaign(
        [agent],
        cadence=Cadence.QUARTERLY,
        opens_on=date(2026, 1, 1),
        closes_on=date(2026, 5, 15),
        now=at(2026, 1, 1),
    )
    with app.app_context():
        assert _sweep(at(2026, 4, 1, 0)) == 2
        second = db.session.scalar(sa.select(SurveyRound).where(SurveyRound.number == 1))
        # The last round is cut short by the campaign's close date.
        assert (second.label, second.period_end) == ("Q2 2026", date(2026, 5, 15))
        assert second.closes_at == at(2026, 5, 16, 0)
        assert _sweep(at(2026, 5, 16, 0)) == 2  # closes the round, ends the campaign
        assert db.session.get(SurveyCampaign, ref.id).ended_at is not None
        assert _sweep(at(2026, 7, 1)) == 0
        assert [n for n, _, _ in _rounds(ref.id)] == [0, 1]


def test_a_once_campaign_opens_on_its_date_and_closes_after_its_last_day(
    app, make_agent, make_campaign
):
    agent = make_agent()
    ref = make_campaign(
        [agent],
        cadence=Cadence.ONCE,
        opens_on=date(2026, 3, 10),
        closes_on=date(2026, 3, 24),
        now=at(2026, 3, 1),
    )
    with app.app_context():
        assert _rounds(ref.id) == []  # launched early: scheduled
        assert db.session.get(SurveyCampaign, ref.id).status.value == "scheduled"
        assert _sweep(at(2026, 3, 9, 23)) == 0
        assert _sweep(at(2026, 3, 10, 0)) == 1
        assert _sweep(at(2026, 3, 24, 23)) == 0  # the last day still takes answers
        assert _sweep(at(2026, 3, 25, 0)) == 2
        assert _rounds(ref.id) == [(0, date(2026, 3, 10), True)]
        assert db.session.get(SurveyCampaign, ref.id).status.value == "ended"


def test_month_arithmetic_clamps_to_the_month_length():
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert services.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert services.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert services.add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    campaign = SimpleNamespace(opens_on=date(2026, 1, 31), closes_on=None, cadence=Cadence.MONTHLY)
    assert services.due_round_number(campaign, date(2026, 1, 30)) is None
    assert services.due_round_number(campaign, date(2026, 2, 27)) == 0
    assert services.due_round_number(campaign, date(2026, 2, 28)) == 1
    assert services.due_round_number(campaign, date(2026, 3, 31)) == 2
    assert services.round_period(campaign, 1) == (date(2026, 2, 28), date(2026, 3, 31))
