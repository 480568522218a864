"""Factories for training tests: modules built through the services, and answers by choice text."""

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.agents.models import Agent
from portal.core.db import db
from portal.training import services
from portal.training.models import (
    Assignment,
    Attempt,
    ModuleVersion,
    QuestionKind,
    TrainingModule,
)

# (kind, prompt, [(choice, is_correct)], explanation)
QUESTIONS = [
    (
        QuestionKind.SINGLE,
        "Who sends a drafted reply to the customer?",
        [("The agent, automatically", False), ("A person, after review", True), ("Nobody", False)],
        "Every draft is reviewed by a person before it is sent.",
    ),
    (
        QuestionKind.MULTIPLE,
        "Which drafts must you escalate?",
        [
            ("Refund promises over the limit", True),
            ("Legal threats", True),
            ("Password reset questions", False),
            ("Delivery date questions", False),
        ],
        "Refunds over the limit and legal threats go to a person with authority.",
    ),
    (
        QuestionKind.SINGLE,
        "Where does the agent find its answers?",
        [("The knowledge base", True), ("The open internet", False)],
        "It drafts from the knowledge base only.",
    ),
    (
        QuestionKind.SINGLE,
        "What do you do with a wrong draft?",
        [("Send it anyway", False), ("Fix it and report the problem", True)],
        "Fix it before sending and report it so the owners can act.",
    ),
]


def add_questions(module: TrainingModule, questions=QUESTIONS) -> None:
    for kind, prompt, choices, explanation in questions:
        services.save_question(
            module,
            None,
            kind=kind,
            prompt=prompt,
            explanation=explanation,
            choices=[services.ChoiceInput(text, right) for text, right in choices],
        )


@pytest.fixture
def make_module(app):
    """make_module(agent, author, ...) -> id of a module with the skeleton sections and QUESTIONS."""

    def make(
        agent: Agent,
        author: User,
        *,
        title: str = "Working with the Support Assistant",
        pass_mark: int = 75,
        attempt_limit: int | None = None,
        publish: bool = True,
        questions=QUESTIONS,
    ) -> int:
        with app.app_context():
            module = services.create_module(
                db.session.get(Agent, agent.id),
                services.ModuleFields(
                    title=title,
                    summary="How to work beside the agent.",
                    estimated_minutes=15,
                    pass_mark_pct=pass_mark,
                    attempt_limit=attempt_limit,
                ),
                db.session.get(User, author.id),
            )
            add_questions(module, questions)
            if publish:
                services.publish_module(module, db.session.get(User, author.id))
            db.session.commit()
            return module.id

    return make


def live_version(module_id: int) -> ModuleVersion:
    module = db.session.get(TrainingModule, module_id)
    return module.live_version


def answer_form(app, module_id: int, picks: dict[int, list[str]]) -> dict:
    """Form data for the live version: {question position: [choice texts]}."""
    with app.app_context():
        version = live_version(module_id)
        data = {"version_id": str(version.id)}
        for question in version.questions:
            texts = picks.get(question.position, [])
            data[f"q{question.id}"] = [str(c.id) for c in question.choices if c.text in texts]
        return data


ALL_RIGHT = {
    1: ["A person, after review"],
    2: ["Refund promises over the limit", "Legal threats"],
    3: ["The knowledge base"],
    4: ["Fix it and report the problem"],
}


def all_wrong() -> dict[int, list[str]]:
    return {
        1: ["Nobody"],
        2: ["Password reset questions"],
        3: ["The open internet"],
        4: ["Send it anyway"],
    }


def attempts_of(user: User) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.id)
        )
    )


def assignments_of(user: User) -> list[Assignment]:
    return list(
        db.session.scalars(
            sa.select(Assignment).where(Assignment.user_id == user.id).order_by(Assignment.id)
        )
    )
