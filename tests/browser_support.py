"""Browser tests: the real app served over HTTP on 127.0.0.1, driven by Debian's Chromium (Playwright).

Each test gets its own server on a free port, on its own copy of a migrated, seeded SQLite file, with
CSRF on (a real browser sends the tokens). Playwright never downloads a browser here: it launches
/usr/bin/chromium. Without Chromium the tests skip, except under CI=true, where they fail.
"""

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.agents.models import Agent, Lifecycle
from portal.core.db import db
from tests.conftest import PASSWORD, _unavailable, base_config, migrate_to_head

CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Seeded into every test's database: email -> (name, roles).
PEOPLE = {
    "admin@example.com": ("Ada Admin", {Role.ADMIN}),
    "owner@example.com": ("Olivia Owner", {Role.OWNER}),
    "reporter@example.com": ("Rosa Reporter", set()),
}
AGENT_NAME = "Support Assistant"


@dataclass
class LiveServer:
    url: str
    app: Flask


class _ServerErrors(logging.Handler):
    """Collects errors the app logs while serving, so a test fails loudly on a hidden 500."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


def _seed() -> None:
    people = {
        email: accounts.create_user(email, name, roles, password=PASSWORD)
        for email, (name, roles) in PEOPLE.items()
    }
    db.session.add(
        Agent(
            slug="support-assistant",
            name=AGENT_NAME,
            description="Drafts replies to customer emails from the knowledge base.",
            version="2.3.0",
            lifecycle=Lifecycle.PRODUCTION,
            technical_owner_id=people["owner@example.com"].id,
        )
    )
    db.session.commit()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory) -> Path:
    """A migrated SQLite file with the seed data, made once; each test serves a copy of it."""
    tmp = tmp_path_factory.mktemp("browser-db")
    path = tmp / "portal.db"
    config = base_config(f"sqlite:///{path}", tmp)
    migrate_to_head(config)
    app = create_app(config)
    with app.app_context():
        _seed()
        db.session.remove()
        with db.engine.connect() as connection:  # everything into the file itself, for copying
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    return path


@pytest.fixture
def live_server(seeded_database, tmp_path) -> Iterator[LiveServer]:
    path = tmp_path / "portal.db"
    shutil.copyfile(seeded_database, path)
    app = create_app({**base_config(f"sqlite:///{path}", tmp_path), "WTF_CSRF_ENABLED": True})
    errors = _ServerErrors()
    logging.getLogger("portal").addHandler(errors)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        logging.getLogger("portal").removeHandler(errors)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert not errors.messages, "the server logged errors:\n" + "\n".join(errors.messages)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable]:
    """open_page(viewport=PHONE, ...) -> a page in a fresh browser context (its own cookies)."""
    contexts = []
    script_problems: list[str] = []

    def note_console(message) -> None:
        # Scripts or styles blocked by the Content-Security-Policy, or anything else refused.
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            script_problems.append(text)

    def open_(viewport: dict = DESKTOP, **context_options):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, **context_options
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: script_problems.append(f"uncaught: {error}"))
        page.on("console", note_console)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not script_problems, "the pages had script problems:\n" + "\n".join(script_problems)


@pytest.fixture
def page(open_page):
    """A desktop-sized page on the live server, signed out."""
    return open_page()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
