"""The training demo loads on both databases and shows a new user every state of "My training"."""

from datetime import date

from portal.accounts import demo as accounts_demo
from portal.accounts.services import get_user_by_email
from portal.agents import demo as agents_demo
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.training import demo as training_demo
from portal.training import metrics, services


def test_demo_modules_assignments_and_attempts(app):
    with app.app_context():
        people = accounts_demo.load("demo-password-1")
        agents_demo.load(people)
        training_demo.load(people)
        db.session.commit()

        modules = services.available_modules()
        assert len(modules) == 3
        assert all(len(m.live_version.questions) >= 8 for m in modules)
        tariq = get_user_by_email("trainee@example.com")
        mine = services.my_training(tariq, utcnow().date())
        assert [r.module.agent.slug for r in mine.recertification] == ["support-assistant"]
        assert [r.module.agent.slug for r in mine.in_progress] == ["claims-triage"]
        assert [r.module.agent.slug for r in mine.assigned] == ["invoice-matcher"]
        assert mine.overdue_count == 1
        assert [a.module.agent.slug for a in mine.completed] == ["support-assistant"]

        everyone = metrics.training_completion(date(2000, 1, 1), date(2100, 1, 1))
        assert everyone.due > 10 and 0 < everyone.completed < everyone.due
        assert everyone.overdue == 1  # Tariq's Invoice Matcher
        assert 0 < everyone.first_attempt_passes < everyone.first_attempts
        owner = get_user_by_email("governance@example.com")
        assert len(services.pending_agent_changes(owner)) == 1
