"""Set-password links reach people by email through a real SMTP server, and the admin is told."""

import io
import socket

from tests.accounts.conftest import link_paths


def test_new_person_gets_their_link_by_email(mail_app, smtp_server, admin_client):
    response = admin_client.post(
        "/admin/users/new", data={"email": "mila@example.com", "name": "Mila Novak"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The link was emailed to mila@example.com." in html
    [path] = link_paths(html)

    [message] = smtp_server.messages
    assert message["To"] == "mila@example.com"
    assert message["Subject"] == "Your account on the Agent Adoption Portal"
    body = smtp_server.body(message)
    assert f"http://portal.test{path}" in body
    assert "Hello Mila Novak" in body and "UTC" in body

    # The emailed link is the one that works.
    newcomer = mail_app.test_client()
    done = newcomer.post(
        path, data={"new_password": "emailed-passphrase", "confirm": "emailed-passphrase"}
    )
    assert done.status_code == 302


def test_new_link_is_emailed_and_says_older_links_stopped(
    mail_app, smtp_server, admin_client, make_user
):
    person = make_user(email="forgot@example.com", name="Forgetful")
    response = admin_client.post(f"/admin/users/{person.id}/set-password-link")
    assert "The link was emailed to forgot@example.com." in response.get_data(as_text=True)
    [message] = smtp_server.messages_to("forgot@example.com")
    assert message["Subject"] == "A new link to set your Agent Adoption Portal password"
    assert "Earlier links no longer work." in smtp_server.body(message)


def test_import_emails_every_new_person(mail_app, smtp_server, admin_client):
    content = b"email,name,team,roles\none@example.com,One,,\ntwo@example.com,Two,,\nbad,,,\n"
    response = admin_client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(content), "people.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("bi-envelope-check") == 2 and "Not emailed" not in html
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [
        "one@example.com",
        "two@example.com",
    ]
    paths = link_paths(html)
    for message in smtp_server.messages:
        assert any(path in smtp_server.body(message) for path in paths)


def test_mail_server_down_leaves_the_link_to_copy(app, admin_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port)
    response = admin_client.post(
        "/admin/users/new", data={"email": "unlucky@example.com", "name": "Unlucky"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The link was not emailed (the mail server did not accept it)." in " ".join(html.split())
    assert len(link_paths(html)) == 1
