"""Rendered page fragments, cached per data generation (portal.core.generations).

A fragment is keyed by what it shows (the page and its query) and by the token of the data area it
was read from, so a change to that data (committed anywhere, by any process) makes the next request
render afresh: a cached fragment is never stale, only unused. Entries are kept in each process
(a bounded LRU; FRAGMENT_CACHE_SIZE entries, 0 turns caching off). No process needs another's
entries: the token that validates them is read from the shared database on every request.

A fragment shared by every viewer (`cached_fragment`) holds nothing that differs per viewer. A
whole page (`cached_page`) is kept per viewer: its key adds who is signed in (id, name, roles) and
every piece of layout state registered with `layout_state` (the unread notifications count), read
in the same statement as the token. A page with messages waiting to be flashed is never cached.
The CSRF token is the one per-session value in either: rendered as `CSRF_SLOT`
(`csrf_slot_context`) and filled in per request (`fill_csrf`).
"""

import threading
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from cachetools import LRUCache
from flask import Flask, current_app, g, has_request_context, request, session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal.core import generations
from portal.core.db import db
from portal.core.web import is_api_request, signed_in_user

EXTENSION = "portal.fragments"
# Stands where a fragment needs the viewer's CSRF token. Text from people is escaped before it
# reaches a fragment ("<" becomes "&lt;"), so this can only be the slot itself.
CSRF_SLOT = "<csrf-token-slot>"
# name -> the SQL for a part of the page layout that differs per viewer (besides who they are),
# given the viewer's id (a number, or the users.id column of the statement that loads the viewer).
_LAYOUT_STATE: dict[str, Callable[[Any], sa.ScalarSelect]] = {}
# endpoint -> the data area of the page it serves through `cached_page`.
_PAGE_AREAS: dict[str, str] = {}
_GENERATION = "generation"


class FragmentCache:
    def __init__(self, size: int):
        self._entries: LRUCache | None = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()  # gunicorn's threaded workers share one cache per process

    def get(self, key: Hashable) -> str | None:
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, html: str) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries[key] = html


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentCache(app.config.get("FRAGMENT_CACHE_SIZE", 128))
    app.before_request(_read_without_transaction)


def _read_without_transaction() -> None:
    """A cached page only reads: its statements run without an explicit transaction (autocommit).

    Each statement then sees what was committed when it started, exactly as it would inside a
    READ COMMITTED transaction (PostgreSQL's default; the SQLite driver opens none for reads), and
    the request saves the BEGIN and ROLLBACK round trips. A commit in the request (the session's
    last-seen time, now and then) ends this: the pool resets the connection, and what follows runs
    in an ordinary transaction.
    """
    if request.method in ("GET", "HEAD") and requested_page_area() is not None:
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def cached_fragment(area: str, key: Hashable, render: Callable[[], str]) -> str:
    """`render()`'s HTML, or the copy rendered for `key` while `area`'s data was as it is now.

    The token is read before rendering: a change committed in between makes the fragment newer
    than its token, never older, and the next request (seeing the new token) renders again.
    """
    token = generations.current(area)
    if token is None:  # no change recorded yet: nothing to tell one state from another
        return render()
    return _cached((area, token, key), render)


def _cached(full_key: Hashable, render: Callable[[], str]) -> str:
    cache: FragmentCache = current_app.extensions[EXTENSION]
    html = cache.get(full_key)
    if html is None:
        html = render()
        cache.put(full_key, html)
    return html


def fill_csrf(html: str) -> Markup:
    """A cached fragment with this viewer's CSRF token in its slot."""
    return Markup(html.replace(CSRF_SLOT, generate_csrf()))  # noqa: S704 - rendered, escaped HTML


def csrf_slot_context() -> dict:
    """Template context that renders every CSRF token as the slot (for a cached fragment or page)."""
    return {"csrf_token": lambda: Markup(CSRF_SLOT)}  # noqa: S704 - a constant of ours


def layout_state(name: str, query: Callable[[Any], sa.ScalarSelect]) -> None:
    """Register a part of the page layout that differs per viewer: `query(user_id)` is its value as
    a scalar subquery. A page cached for a viewer is rendered again when the value changes; while
    it renders, `layout_value(name)` gives the value already read. Register at import time: the
    statement that loads the person is built once, at the first request."""
    _LAYOUT_STATE[name] = query


def page_area(endpoint: str, area: str) -> None:
    """Say that `endpoint` serves a page through `cached_page` for `area`: the statement that loads
    the signed-in person then reads the page's cache key too (`key_columns`), and a GET of
    it reads without a transaction (`_read_without_transaction`), so the view must only read."""
    _PAGE_AREAS[endpoint] = area


def requested_page_area() -> str | None:
    """The data area of the cached page this request is for (`page_area`), else None."""
    return _PAGE_AREAS.get(request.endpoint) if has_request_context() else None


def draws_layout() -> bool:
    """Whether this request answers with a page (a GET outside the API): the layout state is then
    read with the person, and the layout needs no statement of its own."""
    return has_request_context() and request.method == "GET" and not is_api_request()


def key_columns(area: str | None, user_id: Any) -> dict[str, sa.ScalarSelect]:
    """The layout state for `user_id` (a number, or the users.id column of the statement that
    loads the viewer) as scalar subqueries and, with an `area`, that area's token: together the
    key of a cached page."""
    columns = {} if area is None else {_GENERATION: generations.token_of(area)}
    return columns | {name: query(user_id) for name, query in _LAYOUT_STATE.items()}


def note_page_key(values: dict[str, Any]) -> None:
    """The values of `key_columns`, read with the person."""
    values = dict(values)
    if _GENERATION in values:
        g.page_token = values.pop(_GENERATION)
    if values:
        g.layout_state = values


def layout_value(name: str) -> Any:
    """The value of a layout state read with the person or by `cached_page` (else None)."""
    return g.get("layout_state", {}).get(name)


def cached_page(area: str, key: Hashable, render: Callable[[], str]) -> Markup:
    """The signed-in viewer's whole page (`render()`, rendered with `csrf_slot_context`), cached
    like `cached_fragment`, and keyed also by the viewer and the layout state."""
    if session.get("_flashes"):  # shown once: this render consumes them
        return fill_csrf(render())
    user = signed_in_user()
    if "page_token" not in g or requested_page_area() != area:  # else read with the person
        columns = key_columns(area, user.id)
        row = db.session.execute(sa.select(*columns.values())).one()
        note_page_key(dict(zip(columns, row, strict=True)))
    token = g.page_token
    if token is None:
        return fill_csrf(render())
    viewer = (user.id, user.name, tuple(sorted(role.value for role in user.roles)))
    viewer += tuple(g.get("layout_state", {}).values())
    return fill_csrf(_cached(("page", area, token, viewer, key), render))
