"""Managers assign modules to teams, roles and people; later joiners are assigned; reminders."""

from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.core.db import db
from portal.core.sweep import run_sweep
from portal.core.timeutil import utcnow
from portal.notifications.models import Notification
from portal.training import services
from portal.training.models import Assignment, AssignmentReminder, AssignmentRule, TrainingModule
from tests.conftest import sign_in
from tests.training.conftest import ALL_RIGHT, answer_form, assignments_of


def _browser(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _team_id(app, name: str) -> int:
    with app.app_context():
        return accounts.find_team(name).id


def _move_to_team(app, user: User, team: str | None) -> None:
    with app.app_context():
        person = db.session.get(User, user.id)
        accounts.update_user(
            person,
            person.email,
            person.name,
            person.assigned_roles,
            accounts.get_or_create_team(team) if team else None,
        )
        db.session.commit()


def _assign(app, client, module_id: int, due: date, **targets):
    data = {"due_on": due.isoformat()}
    data.update({key: [str(v) for v in values] for key, values in targets.items()})
    return client.post(f"/training/modules/{module_id}/assign", data=data)


def test_assign_to_a_team_and_later_joiners_get_it_too(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    ana = make_user(team="Support", name="Ana")
    already = make_user(team="Support", name="Already Certified")
    elsewhere = make_user(team="Finance", name="Elsewhere")
    _browser(app, already).post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    manager = _browser(app, make_user("manager"))
    due = utcnow().date() + timedelta(days=20)

    page = manager.get(f"/training/modules/{module_id}/assign").get_data(as_text=True)
    assert "Support" in page and "Finance" in page
    response = _assign(app, manager, module_id, due, team_ids=[_team_id(app, "Support")])
    assert response.status_code == 302
    assert "Assigned to 2 people" in manager.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        [assignment] = assignments_of(ana)
        assert assignment.due_on == due and assignment.completed_at is None
        [done] = assignments_of(already)
        assert done.completed_at is not None  # certified already: complete at once
        assert assignments_of(elsewhere) == []
        note = db.session.scalar(sa.select(Notification).where(Notification.user_id == ana.id))
        assert note.title.startswith("Training assigned: Working with the Support Assistant")

    # Elsewhere moves into Support: on opening "My training" the team's assignment appears.
    _move_to_team(app, elsewhere, "Support")
    learner = _browser(app, elsewhere)
    page = learner.get("/training/").get_data(as_text=True)
    assert "Working with the Support Assistant" in page and "Assigned to you" in page
    learner.get("/training/")  # idempotent: opening again assigns nothing more
    with app.app_context():
        [joined] = assignments_of(elsewhere)
        # A later joiner gets the rule's date or two weeks, whichever is later.
        assert joined.due_on == max(due, utcnow().date() + timedelta(days=14))

    # Someone joining later who never opens the page is assigned by the sweep.
    late = make_user(name="Late Joiner")
    _move_to_team(app, late, "Support")
    with app.app_context():
        results = run_sweep(utcnow())
        assert results["training-assignment-rules"] == 1
        assert run_sweep(utcnow())["training-assignment-rules"] == 0
        assert len(assignments_of(late)) == 1


def test_assign_to_a_role_and_to_named_people(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    triage = make_user("triage")
    named = make_user(name="Nora Named")
    other = make_user()
    manager_user = make_user("manager")
    manager = _browser(app, manager_user)
    due = utcnow().date() + timedelta(days=10)
    response = _assign(app, manager, module_id, due, roles=["triage"], user_ids=[named.id])
    assert response.status_code == 302
    with app.app_context():
        assert len(assignments_of(triage)) == 1
        assert len(assignments_of(named)) == 1
        assert assignments_of(other) == [] and assignments_of(manager_user) == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentRule)) == 2

    # Gaining the role later brings the assignment.
    with app.app_context():
        person = db.session.get(User, other.id)
        accounts.set_roles(person, {Role.TRIAGE})
        db.session.commit()
    _browser(app, other).get("/training/")
    with app.app_context():
        assert len(assignments_of(other)) == 1

    # "Trainee" is everybody's role: assigning it reaches every active person.
    _assign(app, manager, module_id, due, roles=["trainee"])
    with app.app_context():
        assert len(assignments_of(manager_user)) == 1
        assert len(assignments_of(owner)) == 1


def test_assignment_form_errors(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    manager = _browser(app, make_user("manager", team="Ops"))
    response = _assign(app, manager, module_id, utcnow().date() + timedelta(days=5))
    assert response.status_code == 400
    assert "Choose at least one team, role or person." in response.get_data(as_text=True)
    response = _assign(
        app,
        manager,
        module_id,
        utcnow().date() - timedelta(days=1),
        team_ids=[_team_id(app, "Ops")],
    )
    assert response.status_code == 400
    assert "Choose a due date today or later." in response.get_data(as_text=True)
    response = manager.post(f"/training/modules/{module_id}/assign", data={"roles": ["triage"]})
    assert response.status_code == 400 and "Give a due date." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_only_managers_and_admins_assign(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    target = make_user(team="Support")
    due = utcnow().date() + timedelta(days=5)
    for who in (make_user("trainee"), owner, make_user("triage")):
        client = _browser(app, who)
        assert client.get(f"/training/modules/{module_id}/assign").status_code == 403
        assert _assign(app, client, module_id, due, user_ids=[target.id]).status_code == 403
        assert client.get("/training/assignments").status_code == 403
    with app.app_context():
        assert assignments_of(target) == []
    admin = _browser(app, make_user("admin"))
    assert _assign(app, admin, module_id, due, user_ids=[target.id]).status_code == 302


def test_ending_a_rule_stops_assigning_newcomers(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    make_user(team="Support")
    manager = _browser(app, make_user("manager"))
    _assign(
        app,
        manager,
        module_id,
        utcnow().date() + timedelta(days=9),
        team_ids=[_team_id(app, "Support")],
    )
    with app.app_context():
        rule_id = db.session.scalar(sa.select(AssignmentRule.id))
    assert "Team: Support" in manager.get("/training/assignments").get_data(as_text=True)
    response = manager.post(f"/training/assignment-rules/{rule_id}/end", follow_redirects=True)
    assert "Rule ended" in response.get_data(as_text=True)
    newcomer = make_user()
    _move_to_team(app, newcomer, "Support")
    _browser(app, newcomer).get("/training/")
    with app.app_context():
        assert assignments_of(newcomer) == []


def _make_assignment(app, module_id: int, user: User, due: date) -> None:
    with app.app_context():
        admin = accounts.create_user(
            f"admin-{module_id}-{user.id}@example.com", "Admin", {Role.ADMIN}
        )
        services.assign_module(
            db.session.get(TrainingModule, module_id),
            services.AssignmentTargets(user_ids=[user.id]),
            due,
            admin,
        )
        db.session.commit()


def test_reminders_before_the_due_date_and_when_overdue_are_sent_once(
    mail_app, smtp_server, make_user, make_agent, make_module
):
    app = mail_app
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    soon = make_user(email="soon@example.com")
    later = make_user(email="later@example.com")
    finished = make_user(email="finished@example.com")
    today = utcnow().date()
    _make_assignment(app, module_id, soon, today + timedelta(days=2))
    _make_assignment(app, module_id, later, today + timedelta(days=30))
    _make_assignment(app, module_id, finished, today + timedelta(days=1))
    _browser(app, finished).post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    smtp_server.messages.clear()

    with app.app_context():
        assert run_sweep(utcnow())["training-reminders"] == 1
        assert run_sweep(utcnow())["training-reminders"] == 0  # once per assignment and kind
    [message] = smtp_server.messages_to("soon@example.com")
    assert "Training due" in message["Subject"]
    assert f"/training/modules/{module_id}" in smtp_server.body(message)
    assert not smtp_server.messages_to("later@example.com")
    assert not smtp_server.messages_to("finished@example.com")

    # Three days later the first one is overdue: one more reminder, of the other kind.
    with app.app_context():
        assert run_sweep(utcnow() + timedelta(days=3))["training-reminders"] == 1
        assert run_sweep(utcnow() + timedelta(days=3))["training-reminders"] == 0
        kinds = db.session.scalars(sa.select(AssignmentReminder.kind)).all()
        assert sorted(k.value for k in kinds) == ["due_soon", "overdue"]
    overdue = smtp_server.messages_to("soon@example.com")[-1]
    assert "Overdue training" in overdue["Subject"]


def test_my_training_lists_overdue_first_and_resumes_where_you_left(
    app, make_user, make_agent, make_module
):
    owner = make_user("owner")
    agent = make_agent(owner=owner, name="Claims Helper")
    first = make_module(agent, owner, title="Module due later")
    second = make_module(agent, owner, title="Module overdue")
    third = make_module(agent, owner, title="Module in progress")
    trainee = make_user()
    today = utcnow().date()
    _make_assignment(app, first, trainee, today + timedelta(days=5))
    with app.app_context():
        # An assignment that fell overdue (made directly: the form refuses past dates).
        module = db.session.get(TrainingModule, second)
        db.session.add(
            Assignment(
                user_id=trainee.id,
                module_id=second,
                required_version_number=module.certification_version_number,
                due_on=today - timedelta(days=3),
            )
        )
        db.session.commit()
    client = _browser(app, trainee)
    client.get(f"/training/modules/{third}/sections/1")
    client.get(f"/training/modules/{third}/sections/3")
    client.get(f"/training/modules/{third}/sections/2")
    page = client.get("/training/").get_data(as_text=True)
    assert page.index("Module overdue") < page.index("Module due later")
    assert "Overdue since" in page and "row-overdue" in page
    assert "Resume at section 2" in page
    assert "Read 3 of 5 sections" in page
    home = client.get("/").get_data(as_text=True)
    assert "Training due" in home and "1 overdue" in home
