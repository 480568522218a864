"""Signing in and out, sessions that end, and one's own password."""

from tests.conftest import PASSWORD, sign_in


def test_sign_in_with_right_password_reaches_home(client, make_user):
    user = make_user("admin", name="Ada Admin")
    response = sign_in(client, user)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Ada Admin" in page


def test_wrong_password_and_unknown_email_get_the_same_message(client, make_user):
    user = make_user()
    wrong = sign_in(client, user, "not-the-password-at-all")
    unknown = sign_in(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an active account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_signed_out_visitor_is_sent_to_sign_in_with_next(client):
    response = client.get("/agents/")
    assert response.status_code == 302
    assert "/login?next=%2Fagents%2F" in response.headers["Location"]


def test_next_is_followed_only_when_it_stays_on_site(client, make_user):
    user = make_user()
    ok = client.post("/login?next=/agents/", data={"email": user.email, "password": PASSWORD})
    assert ok.headers["Location"] == "/agents/"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            f"/login?next={evil}", data={"email": user.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/", evil
        client.post("/logout")


def test_session_cookie_replayed_after_sign_out_is_refused(app, make_user):
    user = make_user()
    browser = app.test_client()
    sign_in(browser, user)
    cookie = browser.get_cookie("session").value
    assert browser.get("/").status_code == 200
    browser.post("/logout")

    attacker = app.test_client()
    attacker.set_cookie("session", cookie)
    response = attacker.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_change_password_needs_the_current_one(client, login, make_user):
    user = make_user()
    login(user)
    response = client.post(
        "/account",
        data={
            "current_password": "wrong-current-pass",
            "new_password": "a-brand-new-passphrase",
            "confirm": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 400
    assert "Your current password is not right." in response.get_data(as_text=True)

    response = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-passphrase",
            "confirm": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    assert sign_in(client, user).status_code == 400
    assert sign_in(client, user, "a-brand-new-passphrase").status_code == 302


def test_password_change_signs_out_other_browsers(app, make_user):
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    laptop.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "another-long-passphrase",
            "confirm": "another-long-passphrase",
        },
    )
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


def test_short_new_password_is_refused_beside_the_field(client, login, make_user):
    login(make_user())
    response = client.post(
        "/account", data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"}
    )
    assert response.status_code == 400
    assert "Field must be between 12 and 256 characters long." in response.get_data(as_text=True)
