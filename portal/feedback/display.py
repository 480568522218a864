"""Small pieces of HTML the feedback pages show in every row: status and severity badges, times.

Python functions rather than Jinja macros: a list page draws several per row, and a macro call
cost more than the rest of the row. Templates import them from templates/feedback/_macros.html
as before; views.py makes them template globals.
"""

import functools
from datetime import datetime

from markupsafe import Markup

from portal.feedback.models import ReportStatus, Severity

STATUS_STYLE = {
    ReportStatus.NEW: "text-bg-secondary",
    ReportStatus.TRIAGED: "text-bg-info",
    ReportStatus.ROUTED: "text-bg-primary",
    ReportStatus.IN_PROGRESS: "text-bg-primary",
    ReportStatus.ACTED_ON: "text-bg-success",
    ReportStatus.CLOSED: "text-bg-dark",
    ReportStatus.DECLINED: "text-bg-light border",
    ReportStatus.DUPLICATE: "text-bg-light border",
    ReportStatus.REOPENED: "text-bg-warning",
}
SEVERITY_STYLE = {
    Severity.LOW: "text-bg-light border",
    Severity.MEDIUM: "text-bg-secondary",
    Severity.HIGH: "text-bg-warning",
    Severity.CRITICAL: "text-bg-danger",
}
_BADGE = Markup('<span class="badge {}">{}</span>')
_NO_TIME = Markup('<span class="text-body-secondary">—</span>')
_OVERDUE = Markup(
    '<span class="badge text-bg-danger"><i class="bi bi-alarm" aria-hidden="true"></i> Overdue</span>'
)


@functools.cache
def status_badge(status: ReportStatus) -> Markup:
    return _BADGE.format(STATUS_STYLE[status], status.label)


@functools.cache
def severity_badge(severity: Severity) -> Markup:
    return _BADGE.format(SEVERITY_STYLE[severity], severity.label)


def when(moment: datetime | None, with_time: bool = True) -> Markup:
    """A UTC time that the browser shows in local time (static/js/feedback-times.js)."""
    if not moment:
        return _NO_TIME
    # A datetime's own formatting gives digits, letters and ":+-., " only: nothing to escape, and
    # Markup.format or concatenation would cost more than the rest of the cell.
    if with_time:
        shown = moment.strftime("%d %b %Y, %H:%M UTC")
        html = f'<time datetime="{moment.isoformat()}" data-local-time>{shown}</time>'
    else:
        shown = moment.strftime("%d %b %Y")
        html = (
            f'<time datetime="{moment.isoformat()}" data-local-time data-date-only>{shown}</time>'
        )
    return Markup(html)  # noqa: S704 - no user text, see above


def overdue_badge(report, now: datetime) -> Markup:
    """`report`: anything with is_overdue(now), a Report or a row of a list."""
    return _OVERDUE if report.is_overdue(now) else Markup("")


TEMPLATE_GLOBALS = {
    "feedback_status_badge": status_badge,
    "feedback_severity_badge": severity_badge,
    "feedback_when": when,
    "feedback_overdue_badge": overdue_badge,
}
