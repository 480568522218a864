"""Own versus someone else's object, for what the role matrix cannot show with one sample: API tokens
(each person has their own) and reports seen by a second reporter, in pages and in the API."""

from tests.conftest import sign_in
from tests.core.test_role_matrix import ROLES, samples  # noqa: F401 - `samples` is a fixture


def _token_id(app, token: str) -> int:
    import sqlalchemy as sa

    from portal.accounts.models import ApiToken
    from portal.core.db import db
    from portal.core.security import token_digest

    with app.app_context():
        return db.session.scalar(
            sa.select(ApiToken.id).where(ApiToken.token_digest == token_digest(token))
        )


def test_nobody_revokes_someone_elses_token_but_everyone_their_own(app, samples):  # noqa: F811
    for who in ROLES:
        client = app.test_client()
        assert sign_in(client, samples["people"][who]).status_code == 302
        victim = "admin" if who != "admin" else "reporter"
        victim_token = samples["tokens"][victim]
        refused = client.post(f"/account/tokens/{_token_id(app, victim_token)}/revoke")
        assert refused.status_code == 404, who
        still_works = client.get(
            "/api/v1/agents", headers={"Authorization": f"Bearer {victim_token}"}
        )
        assert still_works.status_code == 200, who

    own = samples["tokens"]["trainee"]
    client = app.test_client()
    sign_in(client, samples["people"]["trainee"])
    assert client.post(f"/account/tokens/{_token_id(app, own)}/revoke").status_code == 302
    revoked = client.get("/api/v1/agents", headers={"Authorization": f"Bearer {own}"})
    assert revoked.status_code == 401


def test_a_second_reporter_cannot_see_or_answer_anothers_report(app, samples):  # noqa: F811
    report = samples["feedback"]["report"]
    other = samples["member"]  # a plain reporter, not the one who filed it
    client = app.test_client()
    assert sign_in(client, other).status_code == 302
    assert client.get(f"/reports/{report}").status_code == 404
    assert client.post(f"/reports/{report}/confirm", data={"fixed": "yes"}).status_code == 404

    filer = app.test_client()
    sign_in(filer, samples["people"]["reporter"])
    page = filer.get(f"/reports/{report}")
    assert page.status_code == 200 and "Matrix feedback report" in page.get_data(as_text=True)

    from portal.accounts import tokens
    from portal.accounts.models import User
    from portal.core.db import db

    with app.app_context():
        other_token = tokens.issue_token(db.session.get(User, other.id), "probe").token
        db.session.commit()
    headers = {"Authorization": f"Bearer {other_token}"}
    assert client.get(f"/api/v1/reports/{report}", headers=headers).status_code == 404
    answer = client.post(f"/api/v1/reports/{report}/confirm", json={"fixed": True}, headers=headers)
    assert answer.status_code == 404
    listed = client.get("/api/v1/reports", headers=headers).get_json()
    assert all(item["id"] != report for item in listed["items"])
