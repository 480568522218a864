"""Security headers on every route (URLs built with the role matrix's samples), and no inline
script code or event-handler attributes in any template (the CSP would block them)."""

import re
from pathlib import Path

from tests.conftest import sign_in
from tests.core.test_role_matrix import ACCESS, samples  # noqa: F401 - `samples` is a fixture
from tests.core.test_security import _assert_security_headers

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# An attribute named on...= inside a tag (onclick, onload...), not text such as "Based on = ...".
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def test_every_route_sends_the_security_headers(app, samples):  # noqa: F811
    client = app.test_client()
    assert sign_in(client, samples["people"]["admin"]).status_code == 302
    checked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "accounts.logout":
            continue  # would end the session the rest of the loop needs (checked below)
        access = ACCESS[rule.endpoint]
        url = access.url(samples) if callable(access.url) else access.url
        headers = {}
        if url.startswith("/api/"):
            headers["Authorization"] = f"Bearer {samples['tokens']['admin']}"
        for method in sorted((rule.methods or set()) - {"OPTIONS"} - access.skip_methods):
            response = client.open(url, method=method, headers=headers)
            _assert_security_headers(response, f"{method} {url} ({response.status_code})")
            checked.add(rule.endpoint)
    assert checked == {rule.endpoint for rule in app.url_map.iter_rules()} - {"accounts.logout"}
    _assert_security_headers(client.post("/logout"), "POST /logout")
    # Refusals and errors too: signed out, a page needing sign-in, an unknown API token.
    anonymous = app.test_client()
    _assert_security_headers(anonymous.get("/admin/users"), "sign-in redirect")
    _assert_security_headers(anonymous.get("/api/v1/agents"), "API 401")
    _assert_security_headers(anonymous.get("/no-such-page"), "404")


def _templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert len(found) > 20
    return found


def test_no_template_has_inline_script_code():
    problems = []
    for path in _templates():
        text = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for attributes, body in SCRIPT_TAG.findall(text):
            is_data = re.search(r"type=[\"']application/(ld\+)?json[\"']", attributes)
            if body.strip() and not is_data:
                problems.append(f"{path.relative_to(TEMPLATES)}: <script{attributes}> with code")
    assert not problems, "\n".join(problems)


def test_no_template_has_event_handler_attributes():
    problems = []
    for path in _templates():
        text = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for match in EVENT_HANDLER.finditer(text):
            problems.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)[-40:]!r}")
    assert not problems, "\n".join(problems)


def test_the_checks_would_catch_an_inline_script_and_a_handler():
    assert SCRIPT_TAG.search('<script>alert("x")</script>').group(2).strip()
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">Go</button>')
    assert not EVENT_HANDLER.search("<p>Based on = the figures</p>")
    assert not EVENT_HANDLER.search('<div data-bs-toggle="collapse" aria-controls="x">')
