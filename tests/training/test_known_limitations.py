"""Known limitations grow from the feedback loop: acted-on reports documented as a known limitation or
as a training update appear in the agent's module, without the reporter's name."""

from portal.accounts.models import User
from portal.agents.models import Agent, ReportCategory
from portal.core.db import db
from portal.feedback import services as feedback
from portal.feedback.models import ActionKind
from tests.conftest import sign_in


def _acted_on_report(agent_id, reporter, triage, owner, summary, kind, note, confidential=False):
    reporter_row = db.session.get(User, reporter.id)
    report = feedback.file_report(
        reporter_row,
        feedback.ReportInput(
            agent=db.session.get(Agent, agent_id),
            category=ReportCategory.WRONG_OUTPUT,
            summary=summary,
            details="It happened on a real case.",
            confidential=confidential,
        ),
    )
    feedback.triage_report(report, db.session.get(User, triage.id))
    feedback.mark_acted_on(report, kind, note, db.session.get(User, owner.id))
    db.session.commit()
    return report.id


def test_acted_on_limitations_appear_in_the_module_without_names(
    app, client, make_user, make_agent, make_module
):
    owner = make_user("owner")
    agent = make_agent(owner=owner, name="Claims Helper")
    other_agent = make_agent(owner=owner, name="Other Agent")
    module_id = make_module(agent, owner)
    reporter = make_user(name="Rosalind Reporter")
    triage = make_user("triage", name="Terry Triage")
    with app.app_context():
        limitation = _acted_on_report(
            agent.id,
            reporter,
            triage,
            owner,
            "Misreads handwritten claim forms",
            ActionKind.KNOWN_LIMITATION,
            "Type the claim number in by hand when the form is handwritten.",
            confidential=True,
        )
        guidance = _acted_on_report(
            agent.id,
            reporter,
            triage,
            owner,
            "Suggests the wrong handler for marine claims",
            ActionKind.TRAINING_UPDATED,
            "Route marine claims to the specialist desk yourself.",
        )
        _acted_on_report(
            agent.id,
            reporter,
            triage,
            owner,
            "Timed out on large PDFs",
            ActionKind.AGENT_FIXED,
            "Fixed in 1.0.1.",
        )
        _acted_on_report(
            other_agent.id,
            reporter,
            triage,
            owner,
            "Another agent's limitation",
            ActionKind.KNOWN_LIMITATION,
            "Not about this agent.",
        )

    sign_in(client, make_user())
    page = client.get(f"/training/modules/{module_id}/sections/5").get_data(as_text=True)
    assert "Known limitations" in page
    assert "Misreads handwritten claim forms" in page
    assert "Type the claim number in by hand when the form is handwritten." in page
    assert "Suggests the wrong handler for marine claims" in page
    assert "Route marine claims to the specialist desk yourself." in page
    assert f'href="{_report_link(app, limitation)}"' in page
    assert f'href="{_report_link(app, guidance)}"' in page
    assert "Timed out on large PDFs" not in page  # fixed, not a limitation
    assert "Another agent&#39;s limitation" not in page
    assert "Rosalind" not in page and reporter.email not in page
    # Other sections do not repeat the list.
    assert "Misreads handwritten" not in client.get(
        f"/training/modules/{module_id}/sections/1"
    ).get_data(as_text=True)

    author = app.test_client()
    sign_in(author, owner)
    preview = author.get(f"/training/manage/{module_id}/preview").get_data(as_text=True)
    assert "Misreads handwritten claim forms" in preview and "Rosalind" not in preview


def _report_link(app, report_id: int) -> str:
    from portal.training.views import report_url

    with app.test_request_context():
        return report_url(report_id)
