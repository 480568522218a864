"""A person downloads their own data; an admin anonymises a person who has left."""

import json

import sqlalchemy as sa

from portal.accounts.models import ApiToken, User, UserSession
from portal.core.db import db
from portal.feedback import services as feedback
from portal.feedback.models import Report, ReportEvent
from portal.maintenance.models import Anonymisation
from portal.notifications.services import notify
from tests.conftest import PASSWORD, sign_in


def test_a_person_downloads_their_own_data_including_confidential_reports(
    app, client, login, make_user, make_agent, file_report, make_token
):
    rosa = make_user(name="Rosa Reporter", email="rosa@example.com", team="Claims")
    other = make_user(name="Oscar Other")
    agent = make_agent(name="Claims Triage")
    mine = file_report(rosa, agent, "My confidential worry", confidential=True)
    file_report(other, agent, "Somebody else's report")
    make_token(rosa, "my script")
    with app.app_context():
        notify(db.session.get(User, rosa.id), "test", "Your report moved", "Body text", "/x")
        db.session.commit()

    login(rosa)
    response = client.get("/account/my-data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "rosa@example.com"
    assert data["profile"]["team"] == "Claims"
    [report] = data["reports_filed"]
    assert report["id"] == mine and report["confidential"] is True
    assert report["details"] == "Details of My confidential worry"
    assert report["timeline"]
    assert [n["title"] for n in data["notifications"]] == ["Your report moved"]
    assert data["api_tokens"][0]["name"] == "my script"
    assert "cannot be linked to you" in data["survey_participation"]["note"]
    text = response.get_data(as_text=True)
    assert "Somebody else's report" not in text
    assert "argon2" not in text and "digest" not in text
    assert "Download my data" in client.get("/account").get_data(as_text=True)


def test_my_data_needs_sign_in(client):
    response = client.get("/account/my-data.json")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _anonymise(client, user_id: int, confirm: bool = True):
    return client.post(
        f"/admin/users/{user_id}/anonymise", data={"confirm": "y"} if confirm else {}
    )


def test_an_admin_anonymises_a_departed_person_and_their_reports_stay(
    app, client, login, make_user, make_agent, file_report, api
):
    admin = make_user("admin", name="Ada Admin")
    triage = make_user("triage", name="Tomas Triage")
    leaver = make_user("owner", name="Lena Leaver", email="lena@example.com", team="Claims")
    agent = make_agent()
    report_id = file_report(leaver, agent, "Totals are wrong")
    leaver_api = api(leaver)
    assert leaver_api.get("/api/v1/reports").status_code == 200
    leaver_browser = app.test_client()
    sign_in(leaver_browser, leaver)
    assert leaver_browser.get("/").status_code == 200

    login(admin)
    page = client.get(f"/admin/users/{leaver.id}/edit").get_data(as_text=True)
    assert "Anonymise this person" in page

    refused = _anonymise(client, leaver.id, confirm=False)
    assert refused.status_code == 400
    assert "Tick the box to confirm." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, leaver.id).name == "Lena Leaver"

    response = _anonymise(client, leaver.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Former user #{leaver.id}" in page and "is anonymised" in page
    assert "Lena" not in page

    with app.app_context():
        person = db.session.get(User, leaver.id)
        assert person.name == f"Former user #{leaver.id}"
        assert person.email == f"former-user-{leaver.id}@anonymised.invalid"
        assert person.password_hash is None and person.team_id is None
        assert not person.is_active_account and person.assigned_roles == set()
        for model in (UserSession, ApiToken):
            count = sa.select(sa.func.count()).select_from(model).where(model.user_id == leaver.id)
            assert db.session.scalar(count) == 0
        report = db.session.get(Report, report_id)
        assert report.reporter_id == leaver.id and report.summary == "Totals are wrong"
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ReportEvent)
            .where(ReportEvent.report_id == report_id)
        )
        audit = db.session.scalar(sa.select(Anonymisation))
        assert audit.user_id == leaver.id and audit.by_id == admin.id
        as_triage = feedback.report_to_dict(report, db.session.get(User, triage.id))
        assert as_triage["reporter"]["name"] == f"Former user #{leaver.id}"

    assert leaver_api.get("/api/v1/reports").status_code == 401
    assert leaver_browser.get("/").status_code == 302
    assert sign_in(app.test_client(), "lena@example.com").status_code == 400
    again = _anonymise(client, leaver.id)
    assert again.status_code == 409 and "already anonymised" in again.get_data(as_text=True)


def test_an_admin_cannot_anonymise_themself(app, client, login, make_user):
    admin = make_user("admin", name="Ada Admin")
    make_user("admin")
    login(admin)
    response = _anonymise(client, admin.id)
    assert response.status_code == 409
    assert "your own account" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).name == "Ada Admin"


def test_only_admins_anonymise(app, client, login, make_user):
    target = make_user(name="Keep Me")
    for role in ("reporter", "triage", "owner", "manager"):
        who = make_user(role)
        login(who)
        assert _anonymise(client, target.id).status_code == 403, role
        assert client.get(f"/admin/users/{target.id}/anonymise").status_code == 403
        client.post("/logout")
    login(make_user("admin"))
    assert _anonymise(client, 999_999).status_code == 404
    with app.app_context():
        assert db.session.get(User, target.id).name == "Keep Me"
    assert sign_in(app.test_client(), target, PASSWORD).status_code == 302
