"""Nothing is loaded from the internet: every script, style, font and image is served by the portal."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# src="https://...", href='//cdn...', url(http://...), @import "https://..." (also protocol-relative).
REMOTE_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?"""
    r"""|\burl\(\s*["']?|@import\s+(?:url\(\s*)?["'])\s*(?:https?:)?//""",
    re.IGNORECASE,
)
JS_REMOTE = re.compile(r"""(?:\bimport\b[^;\n]*|\bfetch\(\s*|\.src\s*=\s*)["'`](?:https?:)?//""")


def _files() -> list[Path]:
    templates = [p for p in (ROOT / "templates").rglob("*") if p.is_file()]
    static = [
        p
        for p in (ROOT / "static").rglob("*")
        if p.is_file() and "vendor" not in p.relative_to(ROOT / "static").parts
    ]
    return sorted(templates + static)


def _remote_references(path: Path) -> list[str]:
    if path.suffix not in {".html", ".css", ".js", ".svg", ".txt", ".xml", ".jinja", ".j2"}:
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    pattern = JS_REMOTE if path.suffix == ".js" else REMOTE_REFERENCE
    problems = []
    for match in pattern.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.append(f"{path.relative_to(ROOT)}:{line}: {text.splitlines()[line - 1].strip()}")
    return problems


def test_the_check_finds_remote_references():
    assert REMOTE_REFERENCE.search('<script src="https://cdn.example/x.js">')
    assert REMOTE_REFERENCE.search("<link href='//fonts.example/css'>")
    assert REMOTE_REFERENCE.search("body { background: url(http://img.example/a.png) }")
    assert REMOTE_REFERENCE.search('@import "https://fonts.example/f.css";')
    assert not REMOTE_REFERENCE.search('<a href="/agents/">')
    assert JS_REMOTE.search('fetch("https://api.example/x")')
    assert not JS_REMOTE.search('document.createElementNS("http://www.w3.org/2000/svg", "svg")')


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_and_static_files_reference_only_local_resources(path):
    assert _remote_references(path) == []


def test_rendered_sign_in_page_loads_only_local_resources(client):
    page = client.get("/login").get_data(as_text=True)
    assert REMOTE_REFERENCE.findall(page) == []
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
