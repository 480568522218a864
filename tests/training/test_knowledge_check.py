"""Taking the knowledge check: server-side scoring (incl. partial credit), results, retakes, the key."""

import re
from decimal import Decimal

import pytest

from portal.training.models import Choice, Question, QuestionKind
from portal.training.services import score_answers, score_question
from tests.training.conftest import ALL_RIGHT, all_wrong, answer_form, attempts_of, live_version


def _question(kind: QuestionKind, correct: list[bool]) -> Question:
    question = Question(id=1, kind=kind, prompt="?", explanation="")
    question.choices = [
        Choice(id=n, position=n, text=f"c{n}", is_correct=right)
        for n, right in enumerate(correct, start=1)
    ]
    return question


@pytest.mark.parametrize(
    ("chosen", "credit", "fully_right"),
    [
        ({1, 2}, Decimal(1), True),  # exactly the right set
        ({1}, Decimal("0.5"), False),  # one of two right answers
        ({1, 3}, Decimal(0), False),  # one right, one wrong: cancels out
        ({1, 2, 3}, Decimal("0.5"), False),  # both right plus one wrong
        ({1, 2, 3, 4}, Decimal(0), False),  # ticking everything earns nothing
        ({3}, Decimal(0), False),  # only wrong: never below 0
        (set(), Decimal(0), False),
    ],
)
def test_multiple_answer_partial_credit(chosen, credit, fully_right):
    question = _question(QuestionKind.MULTIPLE, [True, True, False, False])
    assert score_question(question, chosen) == (credit, fully_right)


def test_three_right_answers_give_thirds():
    question = _question(QuestionKind.MULTIPLE, [True, True, True, False])
    assert score_question(question, {1, 2}) == (Decimal("0.6667"), False)


def test_single_choice_is_all_or_nothing():
    question = _question(QuestionKind.SINGLE, [False, True, False])
    assert score_question(question, {2}) == (Decimal(1), True)
    assert score_question(question, {1}) == (Decimal(0), False)


def test_score_is_points_over_questions():
    single = _question(QuestionKind.SINGLE, [True, False])
    multiple = _question(QuestionKind.MULTIPLE, [True, True, False])
    multiple.id = 2
    score = score_answers([single, multiple], {1: {1}, 2: {1}})  # 1 + 0.5 of 2
    assert score.score_pct == Decimal("75.00")
    assert [a.is_correct for a in score.answers] == [True, False]
    assert score.answers[1].is_partly_right


def test_answer_key_is_not_in_the_question_page(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    agent = make_agent(owner=owner)
    module_id = make_module(agent, owner)
    login(make_user())
    html = client.get(f"/training/modules/{module_id}/check").get_data(as_text=True)
    assert "Who sends a drafted reply to the customer?" in html
    assert "A person, after review" in html  # the choices are there ...
    # ... but nothing marks which are right, and no explanation leaks before answering.
    for leak in ("is_correct", "data-correct", "answer-key-mark", "choice-right"):
        assert leak not in html
    with app.app_context():
        version = live_version(module_id)
        for question in version.questions:
            assert question.explanation not in html
            shapes = set()
            for choice in question.choices:
                # Right and wrong choices are the same markup apart from their own id.
                tag = re.search(rf'<input[^>]*id="q{question.id}-c{choice.id}"[^>]*>', html).group(
                    0
                )
                shapes.add(re.sub(r"\d+", "N", tag))
            assert len(shapes) == 1


def test_pass_with_partial_credit_shows_what_was_wrong_and_why(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, pass_mark=75)
    trainee = make_user(name="Tina Trainee")
    login(trainee)
    picks = dict(ALL_RIGHT)
    picks[2] = [
        "Refund promises over the limit",
        "Password reset questions",
    ]  # 1 right - 1 wrong = 0
    response = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, picks)
    )
    assert response.status_code == 302
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Passed" in result and "75%" in result
    assert "Wrong" in result  # question 2
    assert "Refunds over the limit and legal threats go to a person with authority." in result
    assert "View and print your certificate" in result
    with app.app_context():
        [attempt] = attempts_of(trainee)
        assert attempt.score_pct == Decimal("75.00") and attempt.passed
        assert attempt.attempt_number == 1
        assert attempt.version_id == live_version(module_id).id
        assert sorted(a.is_correct for a in attempt.answers) == [False, True, True, True]


def test_fail_then_retake_within_the_limit(app, client, login, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner, pass_mark=75, attempt_limit=2)
    trainee = make_user()
    login(trainee)
    picks = dict(ALL_RIGHT)
    picks[1] = ["Nobody"]
    picks[2] = ["Legal threats"]  # 0.5
    first = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, picks)
    )
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Not passed yet" in page and "62.5%" in page
    assert "Partly right (0.5 point)" in page
    assert "Retake the knowledge check" in page
    assert "1 of 2 attempts left" in client.get(f"/training/modules/{module_id}/check").get_data(
        as_text=True
    )

    wrong = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, all_wrong())
    )
    page = client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert "0%" in page and "No retake is available" in page

    third = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    assert third.status_code == 409
    assert "You have used all 2 attempts" in third.get_data(as_text=True)
    with app.app_context():
        assert [a.passed for a in attempts_of(trainee)] == [False, False]
        assert [a.attempt_number for a in attempts_of(trainee)] == [1, 2]


def test_after_passing_there_is_nothing_to_retake(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    login(make_user())
    client.post(f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT))
    again = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    assert again.status_code == 409
    assert "You have passed version 1" in again.get_data(as_text=True)


def test_unanswered_question_is_refused_beside_it_and_answers_are_kept(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    login(trainee)
    picks = dict(ALL_RIGHT)
    del picks[3]
    data = answer_form(app, module_id, picks)
    response = client.post(f"/training/modules/{module_id}/check", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose an answer." in html
    kept = data[next(k for k in data if k.startswith("q"))][0]
    assert re.search(rf'value="{kept}" checked', html)
    with app.app_context():
        assert attempts_of(trainee) == []


def test_two_answers_to_a_single_choice_question_or_foreign_ids_are_refused(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    login(trainee)
    data = answer_form(app, module_id, ALL_RIGHT)
    first_key = next(k for k in data if k.startswith("q"))
    with app.app_context():
        question = live_version(module_id).questions[0]
        data[first_key] = [str(c.id) for c in question.choices[:2]]
    response = client.post(f"/training/modules/{module_id}/check", data=data)
    assert response.status_code == 400 and "Choose one answer." in response.get_data(as_text=True)
    data[first_key] = ["999999"]
    response = client.post(f"/training/modules/{module_id}/check", data=data)
    assert response.status_code == 400
    assert "Choose from the answers shown." in response.get_data(as_text=True)
    with app.app_context():
        assert attempts_of(trainee) == []


def test_double_submit_records_one_attempt(app, client, login, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    login(trainee)
    data = answer_form(app, module_id, all_wrong()) | {"submission_key": "same-key-123"}
    first = client.post(f"/training/modules/{module_id}/check", data=data)
    second = client.post(f"/training/modules/{module_id}/check", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert len(attempts_of(trainee)) == 1


def test_answers_for_a_replaced_version_are_not_scored(
    app, client, login, make_user, make_agent, make_module
):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    login(trainee)
    data = answer_form(app, module_id, ALL_RIGHT)
    data["version_id"] = "0"
    response = client.post(f"/training/modules/{module_id}/check", data=data)
    assert response.status_code == 409
    assert "This module changed since you opened the knowledge check" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert attempts_of(trainee) == []
