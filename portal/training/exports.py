"""CSV exports of the training reports: the same figures as the reports page (portal.training.metrics)."""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date

from flask import Response

from portal.training import metrics


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _safe(cell: object) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


COMPLETION_HEADER = [
    "due",
    "completed",
    "completion_pct",
    "overdue",
    "first_attempts",
    "first_attempt_passes",
    "first_attempt_pass_pct",
]


def _figures(f: metrics.TrainingCompletion) -> list:
    return [
        f.due,
        f.completed,
        _pct(f.rate),
        f.overdue,
        f.first_attempts,
        f.first_attempt_passes,
        _pct(f.first_attempt_pass_rate),
    ]


def _completion(dimension: str, detail: str) -> Callable:
    def rows(start: date | None, end: date | None, today: date) -> tuple[list, Iterable]:
        header = [f"{dimension}_id", dimension, detail, *COMPLETION_HEADER]
        data = metrics.completion_by(dimension, start, end, today=today)
        return header, ([r.key, r.label, r.detail, *_figures(r.figures)] for r in data)

    return rows


def _summary(start: date | None, end: date | None, today: date) -> tuple[list, Iterable]:
    figures = metrics.training_completion(start or date.min, end or date.max, today=today)
    return ["period_start", "period_end", *COMPLETION_HEADER], [
        [start or "", end or "", *_figures(figures)]
    ]


def _overdue(start: date | None, end: date | None, today: date) -> tuple[list, Iterable]:
    header = ["name", "email", "team", "module", "agent", "due_on", "days_overdue"]
    data = metrics.overdue_people(start, end, today=today)
    return header, (
        [r.name, r.email, r.team, r.module, r.agent, r.due_on.isoformat(), r.days_overdue]
        for r in data
    )


def _missed(start: date | None, end: date | None, today: date) -> tuple[list, Iterable]:
    header = ["module", "version", "agent", "question", "answers", "not_fully_right", "wrong_pct"]
    data = metrics.most_missed_questions(start, end, limit=100)
    return header, (
        [r.module, r.version_number, r.agent, r.prompt, r.answers, r.wrong, _pct(r.wrong_share)]
        for r in data
    )


# kind -> (what it is, builder)
KINDS: dict[str, tuple[str, Callable]] = {
    "summary": ("Completion and first-attempt pass rate, all modules", _summary),
    "completion-by-module": ("Completion by module", _completion("module", "agent")),
    "completion-by-agent": ("Completion by agent", _completion("agent", "slug")),
    "completion-by-team": ("Completion by team", _completion("team", "description")),
    "overdue": ("Overdue people", _overdue),
    "missed-questions": ("Questions most often answered wrongly", _missed),
}


def csv_text(kind: str, start: date | None, end: date | None, today: date) -> str:
    header, rows = KINDS[kind][1](start, end, today)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return buffer.getvalue()


def csv_response(kind: str, start: date | None, end: date | None, today: date) -> Response:
    name = f"training-{kind}-{today.isoformat()}.csv"
    return Response(
        csv_text(kind, start, end, today),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
