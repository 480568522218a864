"""Module versions, re-certification when a version asks for it, and the question owners are asked
when their agent's current version changes."""

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents import services as agents
from portal.agents.models import Agent
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.notifications.models import Notification
from portal.training.models import (
    AgentVersionChange,
    AssignmentReason,
    RecertificationDecision,
    TrainingModule,
)
from tests.conftest import sign_in
from tests.training.conftest import ALL_RIGHT, all_wrong, answer_form, assignments_of


def _module(module_id: int) -> TrainingModule:
    return db.session.get(TrainingModule, module_id)


def _take(app, client, module_id, picks):
    return client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, picks)
    )


def _browser(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _edit_first_question(app, author_client, module_id, prompt):
    with app.app_context():
        question = _module(module_id).draft.questions[0]
        question_id = question.id
        data = {"kind": "single", "prompt": prompt, "explanation": question.explanation}
        for n, choice in enumerate(question.choices):
            data[f"choices-{n}-text"] = choice.text
            if choice.is_correct:
                data[f"choices-{n}-is_correct"] = "y"
    response = author_client.post(
        f"/training/manage/{module_id}/questions/{question_id}", data=data
    )
    assert response.status_code == 302


def test_editing_a_published_module_works_on_a_draft_and_attempts_keep_their_version(
    app, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    author, learner = _browser(app, owner), _browser(app, trainee)
    first = _take(app, learner, module_id, ALL_RIGHT)
    v1_result = first.headers["Location"]

    # Without a draft, the published version cannot be changed.
    with app.app_context():
        question_id = _module(module_id).live_version.questions[0].id
    assert author.get(f"/training/manage/{module_id}/questions/{question_id}").status_code == 409

    author.post(f"/training/manage/{module_id}/draft")
    _edit_first_question(app, author, module_id, "Who reviews a draft before it goes out?")
    newcomer = _browser(app, make_user())
    page = newcomer.get(f"/training/modules/{module_id}/check").get_data(as_text=True)
    assert "Who sends a drafted reply to the customer?" in page  # trainees still see version 1
    assert "Who reviews a draft" not in page

    response = author.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "Version 2 is published." in response.get_data(as_text=True)
    page = newcomer.get(f"/training/modules/{module_id}/check").get_data(as_text=True)
    assert "Who reviews a draft before it goes out?" in page

    # The version-1 attempt still shows exactly the questions it was scored on.
    old = learner.get(v1_result).get_data(as_text=True)
    assert "Who sends a drafted reply to the customer?" in old
    assert "Who reviews a draft" not in old
    with app.app_context():
        module = _module(module_id)
        assert [v.number for v in module.versions] == [1, 2]
        assert module.live_version_number == 2
        # No re-certification asked: a pass on version 1 still certifies.
        assert module.certification_version_number == 1
        assert assignments_of(trainee) == []


def test_publishing_a_version_that_requires_recertification_assigns_certified_people_again(
    app, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    certified = make_user(name="Cora Certified")
    failed = make_user(name="Fay Failed")
    bystander = make_user(name="Ben Bystander")
    _take(app, _browser(app, certified), module_id, ALL_RIGHT)
    _take(app, _browser(app, failed), module_id, all_wrong())
    author = _browser(app, owner)
    author.post(f"/training/manage/{module_id}/draft")
    deadline = (utcnow() + timedelta(days=30)).date()

    with app.app_context():
        draft = _module(module_id).draft
        details = {
            "title": draft.title,
            "summary": draft.summary,
            "estimated_minutes": draft.estimated_minutes,
            "pass_mark_pct": draft.pass_mark_pct,
            "change_note": "The agent now drafts refunds.",
            "requires_recertification": "y",
        }
    # A deadline is required, and must be in the future; the form keeps what was typed.
    response = author.post(f"/training/manage/{module_id}", data=details)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give the date by which people must re-certify." in html
    assert "The agent now drafts refunds." in html
    past = (utcnow() - timedelta(days=1)).date().isoformat()
    response = author.post(
        f"/training/manage/{module_id}", data=details | {"recertification_due_on": past}
    )
    assert "Choose a date in the future." in response.get_data(as_text=True)
    response = author.post(
        f"/training/manage/{module_id}",
        data=details | {"recertification_due_on": deadline.isoformat()},
    )
    assert response.status_code == 302
    author.post(f"/training/manage/{module_id}/publish")

    with app.app_context():
        module = _module(module_id)
        assert module.certification_version_number == 2
        [again] = assignments_of(certified)
        assert again.reason is AssignmentReason.RECERTIFICATION
        assert again.due_on == deadline and again.required_version_number == 2
        assert assignments_of(failed) == [] and assignments_of(bystander) == []
        note = db.session.scalar(
            sa.select(Notification).where(Notification.user_id == certified.id)
        )
        assert "Re-certify" in note.title and note.link == f"/training/modules/{module_id}"

    learner = _browser(app, certified)
    page = learner.get("/training/").get_data(as_text=True)
    assert "Due for re-certification" in page
    assert "Re-certification due" in page  # the old certificate is flagged
    _take(app, learner, module_id, ALL_RIGHT)
    with app.app_context():
        [again] = assignments_of(certified)
        assert again.completed_at is not None
    page = learner.get("/training/").get_data(as_text=True)
    assert "Due for re-certification" not in page

    # Publishing is idempotent: a second POST finds nothing to publish and assigns nobody.
    response = author.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "There is nothing to publish" in response.get_data(as_text=True)
    with app.app_context():
        assert len(assignments_of(certified)) == 1


def _change_version(app, agent_id: int, by: User, version: str) -> None:
    with app.app_context():
        agents.update_agent(
            db.session.get(Agent, agent_id), {"version": version}, db.session.get(User, by.id)
        )
        db.session.commit()


def test_agent_version_change_asks_owners_and_needed_recertifies(
    app, make_user, make_agent, make_module
):
    owner = make_user("owner", name="Olive Owner")
    agent = make_agent(owner=owner, name="Claims Helper", version="1.0.0")
    module_id = make_module(agent, owner)
    certified = make_user()
    _take(app, _browser(app, certified), module_id, ALL_RIGHT)

    _change_version(app, agent.id, owner, "1.1.0")
    with app.app_context():
        change = db.session.scalar(sa.select(AgentVersionChange))
        assert (change.old_version, change.new_version) == ("1.0.0", "1.1.0")
        [note] = db.session.scalars(sa.select(Notification).where(Notification.user_id == owner.id))
        assert "Claims Helper changed to 1.1.0" in note.title
        assert note.link == f"/training/agent-changes/{change.id}"
        change_id = change.id

    author = _browser(app, owner)
    page = author.get(f"/training/agent-changes/{change_id}").get_data(as_text=True)
    assert "Working with the Support Assistant" in page and "Re-certification needed" in page
    assert "1.0.0 → 1.1.0" in author.get("/training/manage/").get_data(as_text=True)

    # "Needed" without a date is refused beside the field.
    response = author.post(
        f"/training/agent-changes/{change_id}",
        data={"module_id": module_id, f"m{module_id}-decision": "needed"},
    )
    assert response.status_code == 400
    assert "Give the date by which people must re-certify." in response.get_data(as_text=True)

    deadline = (utcnow() + timedelta(days=21)).date()
    response = author.post(
        f"/training/agent-changes/{change_id}",
        data={
            "module_id": module_id,
            f"m{module_id}-decision": "needed",
            f"m{module_id}-deadline": deadline.isoformat(),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Decision saved" in html and "version 2 published" in html
    with app.app_context():
        module = _module(module_id)
        assert module.live_version_number == module.certification_version_number == 2
        assert module.live_version.agent_version == "1.1.0"
        assert "changed from version 1.0.0 to 1.1.0" in module.live_version.change_note
        [again] = assignments_of(certified)
        assert again.due_on == deadline and again.reason is AssignmentReason.RECERTIFICATION

    # A second answer for the same module is refused; nothing more is published.
    response = author.post(
        f"/training/agent-changes/{change_id}",
        data={"module_id": module_id, f"m{module_id}-decision": "not_needed"},
        follow_redirects=True,
    )
    assert "already has a decision" in response.get_data(as_text=True)
    with app.app_context():
        assert _module(module_id).live_version_number == 2
    assert "1.0.0 → 1.1.0" not in author.get("/training/manage/").get_data(as_text=True)


def test_no_change_needed_keeps_certifications(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    agent = make_agent(owner=owner, version="3.0")
    module_id = make_module(agent, owner)
    certified = make_user()
    _take(app, _browser(app, certified), module_id, ALL_RIGHT)
    _change_version(app, agent.id, owner, "3.1")
    with app.app_context():
        change_id = db.session.scalar(sa.select(AgentVersionChange.id))
    response = _browser(app, owner).post(
        f"/training/agent-changes/{change_id}",
        data={"module_id": module_id, f"m{module_id}-decision": "not_needed"},
        follow_redirects=True,
    )
    assert "No change needed" in response.get_data(as_text=True)
    with app.app_context():
        decision = db.session.scalar(sa.select(RecertificationDecision))
        assert not decision.needs_recertification
        assert _module(module_id).live_version_number == 1
        assert assignments_of(certified) == []


def test_only_the_agents_owners_decide(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    agent = make_agent(owner=owner)
    module_id = make_module(agent, owner)
    other_owner = make_user("owner")
    make_agent(owner=other_owner)
    _change_version(app, agent.id, owner, "9.9.9")
    with app.app_context():
        change_id = db.session.scalar(sa.select(AgentVersionChange.id))
        # Only this agent's owners were asked.
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Notification.user_id == other_owner.id)
            )
            == 0
        )
    data = {"module_id": module_id, f"m{module_id}-decision": "not_needed"}
    assert (
        _browser(app, other_owner)
        .post(f"/training/agent-changes/{change_id}", data=data)
        .status_code
        == 403
    )
    assert (
        _browser(app, make_user())
        .post(f"/training/agent-changes/{change_id}", data=data)
        .status_code
        == 403
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(RecertificationDecision)) == 0
        )


def test_agent_without_published_training_asks_nobody(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    agent = make_agent(owner=owner)
    make_module(agent, owner, publish=False)
    _change_version(app, agent.id, owner, "2.0")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AgentVersionChange)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
