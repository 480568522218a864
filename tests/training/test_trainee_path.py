"""A trainee's whole path: assigned, reads with progress, fails, passes, prints the certificate; and
what other people may see of it."""

from datetime import timedelta

from portal.accounts.services import find_team
from portal.core.db import db
from portal.core.timeutil import utcnow
from portal.training.models import TrainingModule
from tests.conftest import sign_in
from tests.training.conftest import ALL_RIGHT, all_wrong, answer_form, assignments_of


def _browser(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def test_assigned_read_fail_pass_certificate(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    agent = make_agent(owner=owner, name="Support Assistant", version="2.3.0")
    module_id = make_module(agent, owner, pass_mark=75)
    trainee = make_user(team="Support", name="Tariq Trainee")
    manager = _browser(app, make_user("manager"))
    with app.app_context():
        team_id = find_team("Support").id
    due = utcnow().date() + timedelta(days=7)
    manager.post(
        f"/training/modules/{module_id}/assign",
        data={"team_ids": [str(team_id)], "due_on": due.isoformat()},
    )

    client = _browser(app, trainee)
    home = client.get("/").get_data(as_text=True)
    assert "Training due" in home and "1</span> module to complete" in home
    page = client.get("/training/").get_data(as_text=True)
    assert "Assigned to you" in page and f"Due {due:%d %b %Y}" in page

    overview = client.get(f"/training/modules/{module_id}").get_data(as_text=True)
    assert "Start reading" in overview and "Pass mark 75%" in overview
    for position in range(1, 6):
        section = client.get(f"/training/modules/{module_id}/sections/{position}")
        assert section.status_code == 200
        assert f"Section {position} of 5" in section.get_data(as_text=True)
    assert "Take the knowledge check" in section.get_data(as_text=True)
    assert client.get(f"/training/modules/{module_id}/sections/6").status_code == 404
    assert "Read 5 of 5 sections" in client.get("/training/").get_data(as_text=True)

    failed = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, all_wrong())
    )
    assert "Not passed yet" in client.get(failed.headers["Location"]).get_data(as_text=True)
    failed_id = int(failed.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/training/attempts/{failed_id}/certificate").status_code == 404

    passed = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    passed_id = int(passed.headers["Location"].rsplit("/", 1)[1])
    certificate = client.get(f"/training/attempts/{passed_id}/certificate").get_data(as_text=True)
    for text in (
        "Certificate of completion",
        "Tariq Trainee",
        "Working with the Support Assistant",
        "Support Assistant",
        "(version 2.3.0)",
        "<dt>Module version</dt><dd>1</dd>",
        f"{utcnow():%d %B %Y}",
        "100% (pass mark 75%)",
    ):
        assert text in certificate, text
    assert "css/training.css" in certificate and "data-print-page" in certificate
    assert "js/training.js" in certificate

    page = client.get("/training/").get_data(as_text=True)
    assert "Completed" in page and f"/training/attempts/{passed_id}/certificate" in page
    assert "Nothing new assigned" in page
    with app.app_context():
        [assignment] = assignments_of(trainee)
        assert assignment.completed_at is not None


def test_nobody_else_sees_a_trainees_attempts(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    trainee = make_user()
    response = _browser(app, trainee).post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    attempt_url = response.headers["Location"]
    for person in (make_user("trainee"), make_user("manager"), owner):
        client = _browser(app, person)
        assert client.get(attempt_url).status_code == 404
        assert client.get(f"{attempt_url}/certificate").status_code == 404
    assert _browser(app, make_user("admin")).get(f"{attempt_url}/certificate").status_code == 200
    assert _browser(app, trainee).get("/training/attempts/999999").status_code == 404


def test_unpublished_and_missing_modules_are_not_found(app, make_user, make_agent, make_module):
    owner = make_user("owner")
    module_id = make_module(make_agent(owner=owner), owner)
    with app.app_context():
        db.session.get(TrainingModule, module_id).is_published = False
        db.session.commit()
    client = _browser(app, make_user())
    for url in (
        f"/training/modules/{module_id}",
        f"/training/modules/{module_id}/sections/1",
        f"/training/modules/{module_id}/check",
        "/training/modules/424242",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/training/modules/{module_id}/check", data=answer_form(app, module_id, ALL_RIGHT)
    )
    assert response.status_code == 404
