"""Calendar periods the governance measures and the dashboards speak in: months and quarters.

Windows are half-open, [start, end): `end` is the first day NOT included, so adjacent windows never
count the same day twice. People read and type inclusive dates; the pages convert at the edge.
"""

from datetime import date, timedelta


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every month that overlaps [start, end)."""
    months = []
    current = month_start(start)
    while current < end:
        months.append(current)
        current = add_months(current, 1)
    return months


def month_label(first_day: date) -> str:
    return first_day.strftime("%b %Y")


def month_key(first_day: date) -> str:
    """'2026-03': how SQL month buckets are keyed."""
    return first_day.strftime("%Y-%m")


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_window(year: int, quarter: int) -> tuple[date, date]:
    """[first day, first day of the next quarter)."""
    start = date(year, 3 * (quarter - 1) + 1, 1)
    return start, add_months(start, 3)


def previous_quarter(day: date) -> tuple[int, int]:
    year, quarter = quarter_of(day)
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def quarter_label(year: int, quarter: int) -> str:
    return f"Q{quarter} {year}"


def last_day(end: date) -> date:
    """The inclusive last day of a half-open window."""
    return end - timedelta(days=1)
