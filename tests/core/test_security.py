"""Security headers on every response and rate limits on sign-in."""

import pytest

from portal import create_app
from tests.conftest import PASSWORD, base_config, sign_in


def _assert_security_headers(response, where: str):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().partition(" ")[::2] for part in csp.split(";") if part.strip())
    # Scripts: script-src, or default-src where a stricter policy (attachments) names no script-src.
    scripts = directives.get("script-src", directives.get("default-src", ""))
    assert scripts in ("'self'", "'none'"), f"{where}: script sources {scripts!r}"
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, f"{where}: {directive} missing"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy"), where


def test_every_page_without_arguments_sends_the_security_headers(app, client, login, make_user):
    login(make_user("admin"))
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()):
            continue
        response = client.get(rule.rule)
        _assert_security_headers(response, rule.rule)
        checked += 1
    assert checked >= 5
    _assert_security_headers(client.get("/no-such-page"), "404 page")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://portal.example.com")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_httponly_and_lax(client, make_user):
    response = sign_in(client, make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_static_files_are_cacheable(client):
    response = client.get("/static/css/portal.css")
    assert "max-age=" in response.headers["Cache-Control"]


@pytest.fixture
def limited_app(database_url, tmp_path):
    config = base_config(database_url, tmp_path) | {"RATELIMIT_ENABLED": True}
    return create_app(config)


def test_sign_in_attempts_on_one_account_are_limited(make_user, limited_app):
    # limited_app is built last: Flask-Limiter keeps its on/off switch on the shared limiter.
    user = make_user()
    client = limited_app.test_client()
    statuses = [sign_in(client, user, "wrong-password-xx").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    # Even the right password is refused while the account is limited.
    assert sign_in(client, user, PASSWORD).status_code == 429
    assert "Too many requests" in sign_in(client, user, PASSWORD).get_data(as_text=True)


def test_every_refusal_is_logged_by_endpoint_without_the_object(client, login, make_user, caplog):
    login(make_user())
    with caplog.at_level("INFO", logger="portal.core.web"):
        assert client.get("/admin/users").status_code == 403
        assert client.get("/reports/987654").status_code == 404
    refusals = [r.getMessage() for r in caplog.records if "permission refused" in r.getMessage()]
    assert any("status=403" in m and "endpoint=admin.users" in m for m in refusals), refusals
    assert any("status=404" in m and "endpoint=feedback.report_detail" in m for m in refusals), (
        refusals
    )
    assert not any("987654" in m for m in refusals)
