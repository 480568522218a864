"""The main navigation: each person sees the entries their roles allow.

Add an entry here when a feature adds a page people should find; entries whose endpoint is not
registered (a feature not built yet) are left out.
"""

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from portal.core.web import signed_in_user


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    icon: str
    roles: tuple[str, ...] = ()  # empty: everyone signed in


NAV = (
    NavEntry("Home", "home.index", "house"),
    NavEntry("Report a problem", "feedback.new_report", "flag"),
    NavEntry("My reports", "feedback.my_reports", "inboxes"),
    NavEntry("Triage", "feedback.triage_queue", "funnel", ("triage", "admin")),
    NavEntry("Assigned to me", "feedback.assigned", "person-check", ("owner", "triage")),
    NavEntry("Agents", "agents.directory", "robot"),
    NavEntry("My training", "training.my_training", "mortarboard"),
    NavEntry("Surveys", "surveys.my_surveys", "clipboard-check"),
    NavEntry("Dashboards", "dashboards.overview", "graph-up", ("manager", "owner", "admin")),
    NavEntry("People", "admin.users", "people", ("admin",)),
    NavEntry("Teams", "admin.teams", "diagram-3", ("admin",)),
    NavEntry("Webhooks", "webhooks.index", "broadcast", ("admin",)),
)


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    user = signed_in_user()
    items = []
    for entry in NAV:
        if entry.endpoint not in current_app.view_functions:
            continue
        if entry.roles and not user.has_any_role(*entry.roles):
            continue
        items.append(
            {
                "label": entry.label,
                "url": url_for(entry.endpoint),
                "icon": entry.icon,
                "active": request.endpoint == entry.endpoint,
            }
        )
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
