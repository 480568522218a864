"""Admins register, edit, pause, rotate and remove webhook endpoints; nobody else can."""

import pytest
import sqlalchemy as sa

from portal.core.db import db
from portal.webhooks.models import WebhookEndpoint

ALL_EVENTS = [
    "report.created",
    "report.routed",
    "report.acted_on",
    "report.reopened",
    "survey.closed",
    "threshold.breached",
]


def _endpoints(app) -> list[WebhookEndpoint]:
    with app.app_context():
        rows = db.session.scalars(sa.select(WebhookEndpoint)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_an_admin_registers_an_endpoint_and_sees_the_generated_secret_once(
    app, client, login, make_user
):
    login(make_user("admin"))
    assert "No webhook endpoints yet" in client.get("/admin/webhooks").get_data(as_text=True)
    response = client.post(
        "/admin/webhooks/new",
        data={
            "name": "Incident bot",
            "url": "https://hooks.example.com/portal",
            "events": ["report.created", "threshold.breached"],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [endpoint] = _endpoints(app)
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.secret in page
    assert "it is not shown again" in page
    assert endpoint.events == ["report.created", "threshold.breached"]
    detail = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "Incident bot" in detail and "Active" in detail
    assert endpoint.secret not in detail


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://files.example.com/in"}, "Only http:// and https:// URLs"),
        ({"url": "javascript:alert(1)"}, "Only http:// and https:// URLs"),
        ({"url": "https://user:pw@hooks.example.com/"}, "no user name or password"),
        ({"url": "https:///no-host"}, "needs a host name"),
        ({"events": []}, "Choose at least one event"),
        ({"events": ["report.deleted"]}, "is not a valid choice"),
        ({"secret": "short"}, "at least 16"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_kept(
    app, client, login, make_user, data, message
):
    login(make_user("admin"))
    form = {"name": "Incident bot", "url": "https://hooks.example.com/", "events": ALL_EVENTS}
    form.update(data)
    response = client.post("/admin/webhooks/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Incident bot"' in page
    assert _endpoints(app) == []


def test_an_admin_edits_pauses_rotates_and_removes(app, client, login, make_user):
    admin = make_user("admin")
    login(admin)
    client.post(
        "/admin/webhooks/new",
        data={
            "name": "Bot",
            "url": "http://10.0.0.5/hook",
            "events": ["report.created"],
            "secret": "my-own-secret-of-some-length",
        },
    )
    [endpoint] = _endpoints(app)
    assert endpoint.secret == "my-own-secret-of-some-length"
    base = f"/admin/webhooks/{endpoint.id}"

    response = client.post(
        f"{base}/edit",
        data={"name": "Renamed bot", "url": "https://hooks.example.com/", "events": ALL_EVENTS},
    )
    assert response.status_code == 302
    [endpoint] = _endpoints(app)
    assert endpoint.name == "Renamed bot" and endpoint.events == ALL_EVENTS

    page = client.post(f"{base}/pause", follow_redirects=True).get_data(as_text=True)
    assert "is paused" in page and "Resume deliveries" in page
    assert client.post(f"{base}/pause").status_code == 409

    rotated = client.post(f"{base}/rotate-secret")
    [endpoint] = _endpoints(app)
    assert endpoint.secret != "my-own-secret-of-some-length"
    assert endpoint.secret in rotated.get_data(as_text=True)

    page = client.post(f"{base}/delete", follow_redirects=True).get_data(as_text=True)
    assert "is removed" in page
    assert _endpoints(app) == []
    assert client.get(base).status_code == 404


@pytest.mark.parametrize("role", ["reporter", "triage", "owner", "manager"])
def test_only_admins_manage_webhooks(app, client, login, make_user, make_endpoint, role):
    endpoint_id = make_endpoint(make_user("admin"), "https://hooks.example.com/")
    login(make_user(role))
    base = f"/admin/webhooks/{endpoint_id}"
    assert client.get("/admin/webhooks").status_code == 403
    assert client.get(base).status_code == 403
    form = {"name": "Mine now", "url": "https://evil.example/", "events": ALL_EVENTS}
    assert client.post("/admin/webhooks/new", data=form).status_code == 403
    assert client.post(f"{base}/edit", data=form).status_code == 403
    for action in ("pause", "resume", "rotate-secret", "delete"):
        assert client.post(f"{base}/{action}").status_code == 403, action
    [endpoint] = _endpoints(app)
    assert endpoint.name == "Incident bot"
    assert endpoint.url == "https://hooks.example.com/"
    assert not endpoint.is_paused
    assert len(_endpoints(app)) == 1
