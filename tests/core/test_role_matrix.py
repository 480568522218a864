"""Every route x every role: allowed, or refused (sign-in redirect for the anonymous, 403 or 404 otherwise).

The table is checked against the app's URL map, so a new route without an entry here fails the test.
When you add a route, add its entry to ACCESS: who may use it and how to build a sample URL.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from portal.accounts import tokens
from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback import services as feedback
from tests.conftest import sign_in

ANONYMOUS = "anonymous"
ROLES = ("reporter", "trainee", "triage", "owner", "manager", "admin")
SIGNED_IN = frozenset(ROLES)
PUBLIC = frozenset((ANONYMOUS, *ROLES))


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


@dataclass
class Access:
    allowed: frozenset[str]
    # Builds the URL from the sample objects (see `samples`); a plain string for routes without arguments.
    url: str | Callable[[dict], str]
    # What a signed-in person who may not use the route gets: 403, or 404 where the object is hidden.
    # A dict gives it per role, for objects some may see but not change (missing roles: 404).
    refused_with: int | dict[str, int] = 403
    # Statuses that still count as "allowed" (for example 400 for a POST sent without a form).
    note: str = ""
    skip_methods: frozenset[str] = field(default_factory=frozenset)

    def refusal_for(self, who: str) -> int:
        if isinstance(self.refused_with, dict):
            return self.refused_with.get(who, 404)
        return self.refused_with


ACCESS: dict[str, Access] = {
    "static": Access(PUBLIC, "/static/css/portal.css"),
    "health.healthz": Access(PUBLIC, "/healthz"),
    "health.readyz": Access(PUBLIC, "/readyz"),
    "accounts.login": Access(PUBLIC, "/login"),
    "accounts.set_password": Access(
        PUBLIC, "/set-password/not-a-real-token", note="unknown link: 404 page"
    ),
    "accounts.logout": Access(SIGNED_IN, "/logout"),
    "accounts.account": Access(SIGNED_IN, "/account"),
    "accounts.change_email": Access(SIGNED_IN, "/account/email", note="empty POST: 400"),
    "home.index": Access(SIGNED_IN, "/"),
    "admin.users": Access(only("admin"), "/admin/users"),
    # Administration of people and teams; `samples["member"]` is the person acted on.
    "admin.new_user": Access(only("admin"), "/admin/users/new", note="empty POST: 400"),
    "admin.edit_user": Access(
        only("admin"), lambda s: f"/admin/users/{s['member'].id}/edit", note="empty POST: 400"
    ),
    "admin.deactivate_user": Access(
        only("admin"), lambda s: f"/admin/users/{s['member'].id}/deactivate"
    ),
    "admin.reactivate_user": Access(
        only("admin"), lambda s: f"/admin/users/{s['member'].id}/reactivate"
    ),
    "admin.send_set_password_link": Access(
        only("admin"), lambda s: f"/admin/users/{s['member'].id}/set-password-link"
    ),
    "admin.import_users": Access(only("admin"), "/admin/users/import", note="no file: 400"),
    "admin.import_template": Access(only("admin"), "/admin/users/import/template.csv"),
    "admin.teams": Access(only("admin"), "/admin/teams"),
    "admin.new_team": Access(only("admin"), "/admin/teams/new", note="empty POST: 400"),
    "admin.team": Access(only("admin"), lambda s: f"/admin/teams/{s['member'].team_id}"),
    "admin.edit_team": Access(
        only("admin"), lambda s: f"/admin/teams/{s['member'].team_id}/edit", note="empty POST: 400"
    ),
    "agents.directory": Access(SIGNED_IN, "/agents/"),
    "agents.register": Access(only("owner", "admin"), "/agents/new", note="empty POST: 400"),
    "agents.detail": Access(SIGNED_IN, "/agents/matrix-agent"),
    "agents.edit": Access(
        only("owner", "admin"), "/agents/matrix-agent/edit", note="only the agent's owners"
    ),
    "accounts.create_token": Access(SIGNED_IN, "/account/tokens", note="empty POST: 400"),
    "accounts.revoke_token": Access(
        SIGNED_IN, "/account/tokens/999999/revoke", note="nobody's token: 404"
    ),
    "notifications.index": Access(SIGNED_IN, "/notifications/"),
    "notifications.mark_all_read": Access(SIGNED_IN, "/notifications/read-all"),
    # JSON API: the matrix sends the role's bearer token (`samples["tokens"]`); anonymous sends
    # none and must get 401. A POST/PATCH without a body answers 400, which counts as allowed.
    "api.openapi_document": Access(PUBLIC, "/api/v1/openapi.json"),
    "api_docs.reference": Access(PUBLIC, "/api/docs"),
    "api.list_agents": Access(SIGNED_IN, "/api/v1/agents"),
    "api.get_agent": Access(SIGNED_IN, "/api/v1/agents/matrix-agent"),
    "api.create_agent": Access(only("admin"), "/api/v1/agents"),
    "api.update_agent": Access(only("owner", "admin"), "/api/v1/agents/matrix-agent"),
    "api.list_notifications": Access(SIGNED_IN, "/api/v1/notifications"),
    # The sample report (`samples["feedback"]["report"]`) was filed by the 'reporter' person about
    # matrix-agent, which the 'owner' person owns.
    "api.file_report": Access(SIGNED_IN, "/api/v1/reports"),
    "api.list_reports": Access(SIGNED_IN, "/api/v1/reports"),
    "api.get_report": Access(
        only("reporter", "triage", "owner", "admin"),
        lambda s: f"/api/v1/reports/{s['feedback']['report']}",
        refused_with=404,
    ),
    "api.route_report": Access(
        only("triage", "admin"), lambda s: f"/api/v1/reports/{s['feedback']['report']}/route"
    ),
    "api.act_on_report": Access(
        only("triage", "owner", "admin"),
        lambda s: f"/api/v1/reports/{s['feedback']['report']}/act",
        refused_with={"reporter": 403},
        note="the reporter sees it but may not act: 403; others do not see it: 404",
    ),
    "api.confirm_fix": Access(
        only("reporter"),
        lambda s: f"/api/v1/reports/{s['feedback']['report']}/confirm",
        refused_with={"triage": 403, "owner": 403, "admin": 403},
        note="only the reporter answers; workers see it (403), others do not (404)",
    ),
    # Feedback pages: `samples["feedback"]` holds a report filed by the 'reporter' person about
    # matrix-agent (owned by 'owner') with an attachment, and a declined one for "me too" (which
    # would otherwise make the report visible to whoever follows it). Empty POSTs answer 400.
    "feedback.new_report": Access(SIGNED_IN, "/report", note="empty POST: 400"),
    "feedback.similar_reports": Access(
        SIGNED_IN, "/report/similar?agent=matrix-agent&q=matrix+feedback"
    ),
    "feedback.subscribe": Access(
        SIGNED_IN,
        lambda s: f"/reports/{s['feedback']['finished']}/subscribe",
        note="a finished report: 'file a new one instead' and a redirect",
    ),
    "feedback.unsubscribe": Access(
        only("reporter", "triage", "owner", "admin"),
        lambda s: f"/reports/{s['feedback']['report']}/unsubscribe",
        refused_with=404,
    ),
    "feedback.my_reports": Access(SIGNED_IN, "/reports/mine"),
    "feedback.you_said_we_did": Access(SIGNED_IN, "/you-said-we-did"),
    "feedback.report_detail": Access(
        only("reporter", "triage", "owner", "admin"),
        lambda s: f"/reports/{s['feedback']['report']}",
        refused_with=404,
    ),
    "feedback.attachment": Access(
        only("reporter", "triage", "owner", "admin"),
        lambda s: f"/reports/{s['feedback']['report']}/attachments/{s['feedback']['attachment']}",
        refused_with=404,
    ),
    "feedback.triage": Access(
        only("triage", "admin"), lambda s: f"/reports/{s['feedback']['report']}/triage"
    ),
    "feedback.route": Access(
        only("triage", "admin"), lambda s: f"/reports/{s['feedback']['report']}/route"
    ),
    "feedback.start": Access(
        only("triage", "owner", "admin"), lambda s: f"/reports/{s['feedback']['report']}/start"
    ),
    "feedback.act": Access(
        only("triage", "owner", "admin"), lambda s: f"/reports/{s['feedback']['report']}/act"
    ),
    "feedback.decline": Access(
        only("triage", "owner", "admin"), lambda s: f"/reports/{s['feedback']['report']}/decline"
    ),
    "feedback.duplicate": Access(
        only("triage", "owner", "admin"),
        lambda s: f"/reports/{s['feedback']['report']}/duplicate",
    ),
    "feedback.add_note": Access(
        only("triage", "owner", "admin"), lambda s: f"/reports/{s['feedback']['report']}/notes"
    ),
    "feedback.confirm": Access(
        only("reporter"),
        lambda s: f"/reports/{s['feedback']['report']}/confirm",
        refused_with=404,
        note="only the person who filed it answers; for anyone else it is not 'your report'",
    ),
    "feedback.triage_queue": Access(only("triage", "admin"), "/triage"),
    "feedback.bulk_update": Access(only("triage", "admin"), "/triage/bulk"),
    "feedback.triage_export": Access(only("triage", "admin"), "/triage/export.csv"),
    "feedback.assigned": Access(only("triage", "owner", "admin"), "/assigned"),
    # Training: `samples["training"]` holds ids of a published module of matrix-agent with a draft
    # (section, question), an attempt passed by the 'trainee' person, an agent version change and
    # an assignment rule. Empty POSTs answer 400 or 409, which count as allowed.
    "training.my_training": Access(SIGNED_IN, "/training/"),
    "training.module_overview": Access(SIGNED_IN, lambda s: _module_url(s, "")),
    "training.read_section": Access(SIGNED_IN, lambda s: _module_url(s, "/sections/1")),
    "training.knowledge_check": Access(SIGNED_IN, lambda s: _module_url(s, "/check")),
    "training.attempt_result": Access(
        only("trainee", "admin"),
        lambda s: f"/training/attempts/{s['training']['attempt']}",
        refused_with=404,
        note="only the person who took it (and admins)",
    ),
    "training.certificate": Access(
        only("trainee", "admin"),
        lambda s: f"/training/attempts/{s['training']['attempt']}/certificate",
        refused_with=404,
    ),
    "training.authoring": Access(only("owner", "admin"), "/training/manage/"),
    "training.new_module": Access(only("owner", "admin"), "/training/manage/new"),
    "training.edit_module": Access(only("owner", "admin"), lambda s: _manage_url(s, "")),
    "training.start_draft": Access(only("owner", "admin"), lambda s: _manage_url(s, "/draft")),
    "training.discard_draft": Access(
        only("owner", "admin"), lambda s: _manage_url(s, "/draft/discard")
    ),
    "training.publish_module": Access(only("owner", "admin"), lambda s: _manage_url(s, "/publish")),
    "training.unpublish_module": Access(
        only("owner", "admin"), lambda s: _manage_url(s, "/unpublish")
    ),
    "training.preview_module": Access(only("owner", "admin"), lambda s: _manage_url(s, "/preview")),
    "training.new_section": Access(
        only("owner", "admin"), lambda s: _manage_url(s, "/sections/new")
    ),
    "training.edit_section": Access(
        only("owner", "admin"), lambda s: _manage_url(s, f"/sections/{s['training']['section']}")
    ),
    "training.delete_section": Access(
        only("owner", "admin"),
        lambda s: _manage_url(s, f"/sections/{s['training']['section']}/delete"),
    ),
    "training.move_section": Access(
        only("owner", "admin"),
        lambda s: _manage_url(s, f"/sections/{s['training']['section']}/move"),
    ),
    "training.new_question": Access(
        only("owner", "admin"), lambda s: _manage_url(s, "/questions/new")
    ),
    "training.edit_question": Access(
        only("owner", "admin"), lambda s: _manage_url(s, f"/questions/{s['training']['question']}")
    ),
    "training.delete_question": Access(
        only("owner", "admin"),
        lambda s: _manage_url(s, f"/questions/{s['training']['question']}/delete"),
    ),
    "training.agent_change": Access(
        only("owner", "admin"), lambda s: f"/training/agent-changes/{s['training']['change']}"
    ),
    "training.assignments": Access(only("manager", "admin"), "/training/assignments"),
    "training.assign_module": Access(only("manager", "admin"), lambda s: _module_url(s, "/assign")),
    "training.end_rule": Access(
        only("manager", "admin"),
        lambda s: f"/training/assignment-rules/{s['training']['rule']}/end",
    ),
    "training.reports": Access(only("manager", "admin"), "/training/reports"),
    "training.report_csv": Access(only("manager", "admin"), "/training/reports/overdue.csv"),
    # Surveys: `samples["surveys"]` holds a running monthly campaign for everyone (a closed round
    # and an open one) and a draft campaign with one question. Empty POSTs answer 400 or 409.
    "surveys.my_surveys": Access(SIGNED_IN, "/surveys/"),
    "surveys.answer": Access(
        SIGNED_IN, lambda s: f"/surveys/rounds/{s['surveys']['open_round']}", note="empty POST: 400"
    ),
    "surveys.results_index": Access(only("manager", "admin"), "/surveys/results/"),
    "surveys.results": Access(only("manager", "admin"), lambda s: _survey_results_url(s, "")),
    "surveys.results_csv": Access(
        only("manager", "admin"), lambda s: _survey_results_url(s, ".csv")
    ),
    "surveys.comments_csv": Access(
        only("manager", "admin"),
        lambda s: _survey_results_url(s, ".csv").replace("results.csv", "comments.csv"),
    ),
    "surveys.admin_campaigns": Access(only("admin"), "/surveys/admin/"),
    "surveys.new_campaign": Access(only("admin"), "/surveys/admin/new", note="empty POST: 400"),
    "surveys.admin_campaign": Access(only("admin"), lambda s: _survey_admin_url(s, "")),
    "surveys.edit_campaign": Access(
        only("admin"), lambda s: _survey_admin_url(s, "/edit"), note="empty POST: 400"
    ),
    "surveys.add_question": Access(
        only("admin"), lambda s: _survey_admin_url(s, "/questions"), note="empty POST: 400"
    ),
    "surveys.delete_question": Access(
        only("admin"),
        lambda s: _survey_admin_url(s, f"/questions/{s['surveys']['question']}/delete"),
    ),
    "surveys.launch_campaign": Access(only("admin"), lambda s: _survey_admin_url(s, "/launch")),
    "surveys.end_campaign": Access(
        only("admin"), lambda s: f"/surveys/admin/{s['surveys']['running']}/end"
    ),
    # Dashboards and governance: the 'owner' person owns matrix-agent; `samples["governance"]`
    # holds a quarterly review of it. Empty POSTs answer 400.
    "dashboards.overview": Access(only("manager", "owner", "admin"), "/dashboards/"),
    "dashboards.agent": Access(
        only("manager", "owner", "admin"), "/dashboards/agents/matrix-agent"
    ),
    "dashboards.chart_csv_download": Access(
        only("manager", "owner", "admin"), "/dashboards/charts/closed_loop.csv?agent=matrix-agent"
    ),
    "dashboards.plotly_js": Access(PUBLIC, "/dashboards/assets/plotly.min.js"),
    "governance.index": Access(only("manager", "owner", "admin"), "/governance/"),
    "governance.agent_reviews": Access(
        only("manager", "owner", "admin"), "/governance/agents/matrix-agent/reviews"
    ),
    "governance.new_review": Access(
        only("manager"), "/governance/agents/matrix-agent/reviews/new", note="empty POST: 400"
    ),
    "governance.review": Access(
        only("manager", "owner", "admin"),
        lambda s: f"/governance/reviews/{s['governance']['review']}",
    ),
    "governance.figures": Access(
        only("manager", "owner", "admin"), "/governance/agents/matrix-agent/figures"
    ),
    "governance.record_figures": Access(
        only("owner", "admin"), "/governance/agents/matrix-agent/figures", note="empty POST: 400"
    ),
    "api.post_agent_metrics": Access(only("owner", "admin"), "/api/v1/agents/matrix-agent/metrics"),
    "api.get_metrics": Access(
        only("manager", "owner", "admin"), "/api/v1/metrics?agent=matrix-agent"
    ),
    # Data safety: one's own data; anonymising `samples["member"]` (an empty POST lacks the
    # confirmation: 400, nobody is anonymised). Webhooks: `samples["webhook"]` is an endpoint.
    "maintenance.my_data": Access(SIGNED_IN, "/account/my-data.json"),
    "maintenance.anonymise_person": Access(
        only("admin"), lambda s: f"/admin/users/{s['member'].id}/anonymise", note="empty POST: 400"
    ),
    "webhooks.index": Access(only("admin"), "/admin/webhooks"),
    "webhooks.new_endpoint": Access(only("admin"), "/admin/webhooks/new", note="empty POST: 400"),
    "webhooks.endpoint": Access(only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}"),
    "webhooks.edit_endpoint": Access(
        only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}/edit", note="empty POST: 400"
    ),
    "webhooks.pause_endpoint": Access(
        only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}/pause"
    ),
    "webhooks.resume_endpoint": Access(
        only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}/resume", note="not paused: 409"
    ),
    "webhooks.rotate_secret": Access(
        only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}/rotate-secret"
    ),
    "webhooks.delete_endpoint": Access(
        only("admin"), lambda s: f"/admin/webhooks/{s['webhook']}/delete"
    ),
}


def _survey_results_url(samples: dict, suffix: str) -> str:
    ids = samples["surveys"]
    return f"/surveys/campaigns/{ids['running']}/results{suffix}?round={ids['closed_round']}"


def _survey_admin_url(samples: dict, rest: str) -> str:
    return f"/surveys/admin/{samples['surveys']['draft']}{rest}"


def _module_url(samples: dict, rest: str) -> str:
    return f"/training/modules/{samples['training']['module']}{rest}"


def _manage_url(samples: dict, rest: str) -> str:
    return f"/training/manage/{samples['training']['module']}{rest}"


@pytest.fixture
def samples(app, make_user, make_agent) -> dict:
    """One person per role and sample objects; the 'owner' person owns the sample agent."""
    people = {role: make_user(role, email=f"{role}@matrix.example.com") for role in ROLES}
    agent = make_agent("matrix-agent", owner=people["owner"])
    member = make_user(email="member@matrix.example.com", team="Matrix Team")
    tokens = _api_tokens(app, people)
    return {
        "people": people,
        "agent": agent,
        "tokens": tokens,
        "member": member,
        "training": _training_sample(app, people, agent),
        "feedback": _feedback_sample(app, people, agent),
        "surveys": _surveys_sample(app, people, agent),
        "governance": _governance_sample(app, people, agent),
        "webhook": _webhook_sample(app, people),
    }


def _webhook_sample(app, people: dict) -> int:
    """A webhook endpoint registered by the 'admin' person (nothing listens at its URL)."""
    from portal.webhooks import services as webhooks

    with app.app_context():
        endpoint = webhooks.create_endpoint(
            "Matrix hook",
            "http://127.0.0.1:9/matrix",
            ["report.created"],
            db.session.get(User, people["admin"].id),
        )
        db.session.commit()
        return endpoint.id


def _governance_sample(app, people: dict, agent) -> dict[str, int]:
    """Last quarter's decision about matrix-agent, recorded by the 'manager' person."""
    from portal.agents.models import Agent
    from portal.core.timeutil import utcnow
    from portal.governance import services as governance
    from portal.governance.models import Decision
    from portal.governance.periods import previous_quarter

    with app.app_context():
        year, quarter = previous_quarter(utcnow().date())
        review = governance.record_review(
            db.session.get(Agent, agent.id),
            governance.ReviewInput(year, quarter, Decision.CONTINUE, "On track."),
            db.session.get(User, people["manager"].id),
        )
        db.session.commit()
        return {"review": review.id}


def _surveys_sample(app, people: dict, agent) -> dict[str, int]:
    """A monthly campaign for everyone about matrix-agent, opened last month (its first round
    closed, the current one open), and a draft campaign with one question of its own."""
    from portal.core.timeutil import utcnow
    from portal.surveys import services as surveys
    from portal.surveys.models import Cadence, QuestionKind

    with app.app_context():
        admin = db.session.get(User, people["admin"].id)
        now = utcnow()
        last_month = surveys.add_months(now.date().replace(day=1), -1)

        def settings(name: str) -> surveys.CampaignSettings:
            return surveys.CampaignSettings(
                name=name,
                description="",
                agents=[db.session.get(Agent, agent.id)],
                is_for_everyone=True,
                teams=[],
                roles=set(),
                cadence=Cadence.MONTHLY,
                opens_on=last_month,
                closes_on=None,
                anonymity_threshold=5,
            )

        running = surveys.create_campaign(settings("Matrix pulse"), admin, last_month)
        closed_round = surveys.launch_campaign(running, surveys.midnight_utc(last_month))
        surveys.advance_survey_rounds(now)
        draft = surveys.create_campaign(settings("Matrix draft"), admin, last_month)
        question = surveys.add_question(draft, QuestionKind.TEXT, "Anything else?")
        db.session.commit()
        open_round = next(r for r in running.rounds if r.closed_at is None)
        return {
            "running": running.id,
            "closed_round": closed_round.id,
            "open_round": open_round.id,
            "draft": draft.id,
            "question": question.id,
        }


def _feedback_sample(app, people: dict, agent) -> dict[str, int]:
    """A report with an attachment filed by the 'reporter' person, and a declined report."""
    from portal.feedback.attachments import UploadedFile

    with app.app_context():
        reporter = db.session.get(User, people["reporter"].id)
        sample_agent = db.session.get(Agent, agent.id)
        report = feedback.file_report(
            reporter,
            feedback.ReportInput(
                agent=sample_agent,
                category=ReportCategory.WRONG_OUTPUT,
                summary="Matrix feedback report",
            ),
            [UploadedFile("notes.txt", b"what the agent said")],
        )
        finished = feedback.file_report(
            reporter,
            feedback.ReportInput(
                agent=sample_agent, category=ReportCategory.CONCERN, summary="Matrix declined"
            ),
        )
        feedback.decline_report(
            finished, "Works as designed.", db.session.get(User, people["admin"].id)
        )
        db.session.commit()
        return {
            "report": report.id,
            "attachment": report.attachments[0].id,
            "finished": finished.id,
        }


def _training_sample(app, people: dict, agent) -> dict[str, int]:
    """A published training module of matrix-agent (with a draft in progress), the 'trainee'
    person's passing attempt, an agent version change and an assignment rule, for /training/."""
    from datetime import timedelta

    from portal.agents import services as agents
    from portal.core.timeutil import utcnow
    from portal.training import services as training
    from portal.training.models import AgentVersionChange, QuestionKind

    with app.app_context():
        owner = db.session.get(User, people["owner"].id)
        module = training.create_module(
            db.session.get(Agent, agent.id), training.ModuleFields(title="Matrix module"), owner
        )
        training.save_question(
            module,
            None,
            kind=QuestionKind.SINGLE,
            prompt="Matrix question?",
            explanation="Because.",
            choices=[training.ChoiceInput("Yes", True), training.ChoiceInput("No", False)],
        )
        training.publish_module(module, owner)
        question = module.live_version.questions[0]
        attempt = training.submit_attempt(
            db.session.get(User, people["trainee"].id),
            module,
            module.live_version.id,
            {question.id: {c.id for c in question.choices if c.is_correct}},
        )
        draft = training.start_draft(module, owner)
        agents.update_agent(db.session.get(Agent, agent.id), {"version": "1.0.1"}, owner)
        [rules, _] = training.assign_module(
            module,
            training.AssignmentTargets(user_ids=[people["reporter"].id]),
            utcnow().date() + timedelta(days=7),
            db.session.get(User, people["admin"].id),
        )
        db.session.commit()
        return {
            "module": module.id,
            "section": draft.sections[0].id,
            "question": draft.questions[0].id,
            "attempt": attempt.id,
            "change": db.session.scalar(sa.select(AgentVersionChange.id)),
            "rule": rules[0].id,
        }


def _api_tokens(app, people: dict) -> dict[str, str]:
    """A bearer token per role, made by the token service, for the /api/ routes."""
    with app.app_context():
        made = {
            role: tokens.issue_token(db.session.get(User, person.id), "role matrix").token
            for role, person in people.items()
        }
        db.session.commit()
    return made


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _request(client, method: str, url: str, headers: dict | None = None):
    return client.open(url, method=method, headers=headers or {})


def test_every_route_has_an_access_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    stale = sorted(ACCESS.keys() - endpoints)
    assert not missing, f"routes without an entry in ACCESS: {missing}"
    assert not stale, f"entries in ACCESS for routes that no longer exist: {stale}"


@pytest.mark.parametrize("who", (ANONYMOUS, *ROLES))
def test_role_matrix(app, samples, who):
    client = app.test_client()
    if who != ANONYMOUS:
        assert sign_in(client, samples["people"][who]).status_code == 302
    failures = []
    for rule in app.url_map.iter_rules():
        access = ACCESS[rule.endpoint]
        url = access.url(samples) if callable(access.url) else access.url
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"} - access.skip_methods):
            if rule.endpoint == "accounts.logout":
                continue  # signing out here would end the session the rest of the loop needs
            headers = {}
            if url.startswith("/api/") and who != ANONYMOUS:
                headers["Authorization"] = f"Bearer {samples['tokens'][who]}"
            response = _request(client, method, url, headers)
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {url}: {status} (server error) as {who}")
            elif who in access.allowed:
                if status in (401, 403) or _is_login_redirect(response):
                    failures.append(f"{method} {url}: refused ({status}) but {who} is allowed")
            elif who == ANONYMOUS:
                if not (_is_login_redirect(response) or status == 401):
                    failures.append(f"{method} {url}: {status} for anonymous, expected sign-in")
            elif status != access.refusal_for(who):
                failures.append(
                    f"{method} {url}: {status} for {who}, expected {access.refusal_for(who)}"
                )
    assert not failures, "\n".join(failures)


def test_logout_needs_sign_in_and_works_for_everyone(app, samples):
    anonymous = app.test_client()
    assert _is_login_redirect(anonymous.post("/logout"))
    for role in ROLES:
        client = app.test_client()
        sign_in(client, samples["people"][role])
        assert client.post("/logout").status_code == 302
        assert _is_login_redirect(client.get("/"))
