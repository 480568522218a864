"""Authors (admins and the agent's owners): modules from a skeleton, sections, questions, preview,
publish and unpublish, hostile Markdown, and who may do any of it."""

import re

import sqlalchemy as sa

from portal.core.db import db
from portal.training.models import ModuleSection, Question, TrainingModule
from tests.training.conftest import QUESTIONS, add_questions

SKELETON_TITLES = [
    "What the agent does well",
    "What the agent does poorly",
    "How to use its outputs",
    "When to escalate",
    "Known limitations",
]


def _draft(module_id: int):
    return db.session.get(TrainingModule, module_id).draft


def test_owner_creates_a_module_that_starts_from_the_skeleton(
    app, client, login, make_user, make_agent
):
    owner = make_user("owner")
    mine = make_agent("mine", owner=owner, name="Claims Helper")
    make_agent("not-mine", name="Someone Else's Agent")
    login(owner)
    page = client.get("/training/manage/new?agent=mine").get_data(as_text=True)
    assert "Claims Helper" in page and "Someone Else&#39;s Agent" not in page

    response = client.post(
        "/training/manage/new",
        data={
            "agent": mine.id,
            "title": "Working with Claims Helper",
            "summary": "For claims officers.",
            "estimated_minutes": 25,
            "pass_mark_pct": 80,
            "attempt_limit": "",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for title in SKELETON_TITLES:
        assert title in page
    assert "Never published" not in page  # the module page itself
    with app.app_context():
        module = db.session.scalar(sa.select(TrainingModule))
        assert module.agent_id == mine.id and not module.is_published
        assert [s.title for s in module.draft.sections] == SKELETON_TITLES
        module_id = module.id
    # A draft that was never published is invisible to trainees.
    client.post("/logout")
    login(make_user())
    assert client.get(f"/training/modules/{module_id}").status_code == 404


def test_module_form_errors_are_shown_beside_fields_and_nothing_is_saved(
    app, client, login, make_user, make_agent
):
    owner = make_user("owner")
    agent = make_agent(owner=owner)
    login(owner)
    response = client.post(
        "/training/manage/new",
        data={"agent": agent.id, "title": "", "estimated_minutes": 0, "pass_mark_pct": 101},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Number must be between 1 and 100." in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingModule)) == 0


def test_question_needs_exactly_one_right_answer_for_single_choice(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False, questions=[])
    login(owner)
    data = {
        "kind": "single",
        "prompt": "Which is right?",
        "explanation": "Because.",
        "choices-0-text": "First",
        "choices-0-is_correct": "y",
        "choices-1-text": "Second",
        "choices-1-is_correct": "y",
    }
    response = client.post(f"/training/manage/{module_id}/questions/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Mark exactly one choice as right for a single-choice question." in html
    assert 'value="Which is right?"' in html or "Which is right?</textarea>" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0

    del data["choices-1-is_correct"]
    response = client.post(f"/training/manage/{module_id}/questions/new", data=data)
    assert response.status_code == 302
    data |= {"kind": "multiple", "choices-2-text": "Third"}
    data["choices-1-is_correct"] = "y"
    with app.app_context():
        question_id = _draft(module_id).questions[0].id
    response = client.post(f"/training/manage/{module_id}/questions/{question_id}", data=data)
    assert response.status_code == 302
    with app.app_context():
        [question] = _draft(module_id).questions
        assert question.kind.value == "multiple"
        assert [(c.text, c.is_correct) for c in question.choices] == [
            ("First", True),
            ("Second", True),
            ("Third", False),
        ]


def test_publish_needs_questions_then_trainees_see_it_and_unpublish_hides_it(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False, questions=[])
    login(owner)
    response = client.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "Add at least one knowledge-check question before publishing." in response.get_data(
        as_text=True
    )
    with app.app_context():
        add_questions(db.session.get(TrainingModule, module_id), QUESTIONS[:1])
        db.session.commit()
    response = client.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "Version 1 is published." in response.get_data(as_text=True)

    trainee_client = app.test_client()
    trainee = make_user()
    trainee_client.post(
        "/login", data={"email": trainee.email, "password": "correct-horse-battery"}
    )
    page = trainee_client.get(f"/training/modules/{module_id}").get_data(as_text=True)
    assert "Working with the Support Assistant" in page

    client.post(f"/training/manage/{module_id}/unpublish")
    assert trainee_client.get(f"/training/modules/{module_id}").status_code == 404
    assert "Working with the Support Assistant" not in trainee_client.get("/training/").get_data(
        as_text=True
    )
    response = client.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "visible to trainees again" in response.get_data(as_text=True)
    assert trainee_client.get(f"/training/modules/{module_id}").status_code == 200


XSS_MARKDOWN = """Normal **bold** text and a [good link](https://example.com/guide).

<script>alert('owned')</script>

<img src=x onerror=alert(1)>

[click me](javascript:alert(1)) and [shout](JAVASCRIPT:alert(2)) and [data](data:text/html;base64,PHNjcmlwdD4=)

<a href="javascript:alert(3)" onclick="alert(4)">raw link</a>

![pic](javascript:alert(5))
"""


def _assert_harmless(html: str) -> None:
    assert "<script>alert" not in html
    assert not re.search(r"<[^>]+\son\w+\s*=", html, re.IGNORECASE)  # no event handler attribute
    link = r"""<a\s[^>]*href\s*=\s*["']?\s*(javascript|data):"""
    assert not re.search(link, html, re.IGNORECASE)
    assert not re.search(r"<img", html, re.IGNORECASE)
    assert not re.search(r"<a [^>]*>raw link", html)


def test_hostile_markdown_is_neutralised_in_preview_and_for_trainees(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False)
    login(owner)
    with app.app_context():
        section_id = _draft(module_id).sections[0].id
    response = client.post(
        f"/training/manage/{module_id}/sections/{section_id}",
        data={"kind": "does_well", "title": "<b>Bold</b> title", "body_markdown": XSS_MARKDOWN},
    )
    assert response.status_code == 302
    preview = client.get(f"/training/manage/{module_id}/preview").get_data(as_text=True)
    assert "<strong>bold</strong>" in preview
    assert 'href="https://example.com/guide"' in preview
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in preview
    _assert_harmless(preview)

    client.post(f"/training/manage/{module_id}/publish")
    client.post("/logout")
    login(make_user())
    page = client.get(f"/training/modules/{module_id}/sections/1").get_data(as_text=True)
    assert "<strong>bold</strong>" in page
    _assert_harmless(page)


def test_trainee_cannot_reach_authoring(app, client, login, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False)
    with app.app_context():
        section_id = _draft(module_id).sections[0].id
    login(make_user("trainee"))
    assert client.get("/training/manage/").status_code == 403
    assert client.get("/training/manage/new").status_code == 403
    assert client.get(f"/training/manage/{module_id}").status_code == 403
    assert client.get(f"/training/manage/{module_id}/preview").status_code == 403
    assert client.post(f"/training/manage/{module_id}/publish").status_code == 403
    response = client.post(
        f"/training/manage/{module_id}/sections/{section_id}",
        data={"kind": "other", "title": "Hacked", "body_markdown": "hacked"},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ModuleSection, section_id).title == "What the agent does well"
        assert not db.session.get(TrainingModule, module_id).is_published


def test_owner_of_another_agent_cannot_edit_this_agents_module(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False)
    other_owner = make_user("owner")
    make_agent(owner=other_owner)
    with app.app_context():
        section_id = _draft(module_id).sections[0].id
        question_id = _draft(module_id).questions[0].id
    login(other_owner)
    assert "Working with the Support Assistant" not in client.get("/training/manage/").get_data(
        as_text=True
    )
    assert client.get(f"/training/manage/{module_id}").status_code == 403
    assert client.post(f"/training/manage/{module_id}/publish").status_code == 403
    assert client.post(f"/training/manage/{module_id}/draft").status_code == 403
    assert (
        client.post(
            f"/training/manage/{module_id}/sections/{section_id}",
            data={"kind": "other", "title": "Hacked", "body_markdown": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(f"/training/manage/{module_id}/questions/{question_id}/delete").status_code
        == 403
    )
    with app.app_context():
        draft = _draft(module_id)
        assert draft.sections[0].title == "What the agent does well"
        assert len(draft.questions) == len(QUESTIONS)
        assert not db.session.get(TrainingModule, module_id).is_published


def test_admin_can_author_any_agents_module(app, client, login, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False)
    login(make_user("admin"))
    response = client.post(f"/training/manage/{module_id}/publish", follow_redirects=True)
    assert "Version 1 is published." in response.get_data(as_text=True)


def test_sections_can_be_added_moved_and_deleted_in_a_draft(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, publish=False)
    login(owner)
    response = client.post(
        f"/training/manage/{module_id}/sections/new",
        data={"kind": "other", "title": "Worked example", "body_markdown": "An example."},
    )
    assert response.status_code == 302
    with app.app_context():
        new_id = _draft(module_id).sections[-1].id
        first_id = _draft(module_id).sections[0].id
    client.post(f"/training/manage/{module_id}/sections/{new_id}/move", data={"direction": "up"})
    client.post(f"/training/manage/{module_id}/sections/{first_id}/delete")
    with app.app_context():
        titles = [s.title for s in _draft(module_id).sections]
        positions = [s.position for s in _draft(module_id).sections]
    assert titles == [*SKELETON_TITLES[1:4], "Worked example", "Known limitations"]
    assert positions == [1, 2, 3, 4, 5]
