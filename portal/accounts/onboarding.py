"""Bulk onboarding: many people from one CSV file, each with a one-time set-password link.

The file has the header `email,name,team,roles`. Every row is checked first; rows with problems are
reported by line number and reason, and every good row is created in its own savepoint, so one bad row
never undoes the good ones.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.core.db import db

MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 2000
COLUMNS = ("email", "name", "team", "roles")
REQUIRED_COLUMNS = ("email", "name")
ROLE_SEPARATORS = re.compile(r"[;|,\s]+")

TEMPLATE_CSV = (
    "email,name,team,roles\r\n"
    "ana.lima@example.com,Ana Lima,Customer Support,reporter\r\n"
    "ben.okafor@example.com,Ben Okafor,AI Operations,triage;owner\r\n"
    "chloe.martin@example.com,Chloé Martin,,\r\n"
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read; nothing in it was imported."""


@dataclass
class PersonRow:
    line: int
    email: str
    name: str
    team: str
    roles: set[Role]


@dataclass
class RowProblem:
    line: int
    email: str
    reasons: list[str]


@dataclass
class OnboardedPerson:
    line: int
    issued: services.IssuedLink
    emailed: bool = False

    @property
    def user(self) -> User:
        return self.issued.link.user


@dataclass
class ImportResult:
    created: list[OnboardedPerson] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)

    @property
    def emailed_count(self) -> int:
        return sum(person.emailed for person in self.created)


def parse_role_list(text: str) -> set[Role]:
    """'triage; owner', 'triage|owner' or 'triage owner' -> roles. Empty -> reporter."""
    names = [name for name in ROLE_SEPARATORS.split(text.strip()) if name]
    return services.parse_roles(names) if names else {Role.REPORTER}


def _decode(filename: str, data: bytes) -> str:
    if PurePath(filename or "").suffix.lower() not in (".csv", ".txt"):
        raise ImportFileError("Upload a .csv file (save the spreadsheet as 'CSV UTF-8').")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB. "
            f"Split it into files of at most {MAX_ROWS:,} people."
        )
    if b"\x00" in data:
        raise ImportFileError("This is not a CSV text file. Save the spreadsheet as 'CSV UTF-8'.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Save the spreadsheet as 'CSV UTF-8' and try again."
        ) from None


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    expected = ",".join(COLUMNS)
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"Line 1: unknown column '{unknown[0]}'. The first line must be the header {expected}."
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportFileError(
            f"Line 1: the column '{missing[0]}' is missing. The first line must be the header {expected}."
        )
    duplicated = {name for name in names if name and names.count(name) > 1}
    if duplicated:
        raise ImportFileError(f"Line 1: the column '{sorted(duplicated)[0]}' appears twice.")
    return names


def _check_row(line: int, values: dict[str, str], extra: list[str]) -> RowProblem | PersonRow:
    email = services.normalise_email(values.get("email", ""))
    name = values.get("name", "").strip()
    team = values.get("team", "").strip()
    reasons = []
    if any(value.strip() for value in extra):
        reasons.append("more values than columns (is there an unquoted comma?)")
    if not email:
        reasons.append("email is missing")
    elif problem := services.email_problem(email):
        reasons.append(f"bad email: {problem}")
    if not name:
        reasons.append("name is missing")
    elif problem := services.name_problem(name):
        reasons.append(f"bad name: {problem}")
    if len(team) > 120:
        reasons.append("team name is longer than 120 characters")
    roles: set[Role] = set()
    try:
        roles = parse_role_list(values.get("roles", ""))
    except services.AccountError as exc:
        reasons.append(str(exc).rstrip(".").replace("Unknown role", "unknown role", 1))
    if reasons:
        return RowProblem(line, email, reasons)
    return PersonRow(line, email, name, team, roles)


def read_people_csv(filename: str, data: bytes) -> tuple[list[PersonRow], list[RowProblem]]:
    """Parse and check an uploaded file: the good rows, and each bad row with its line and reasons.

    Raises ImportFileError when the file as a whole is unusable (not CSV, too big, wrong header).
    """
    text = _decode(filename, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    checked: list[RowProblem | PersonRow] = []
    columns: list[str] | None = None
    line = 1  # where the next record starts; a quoted value may span several lines
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _header(cells)
                continue
            if len(checked) >= MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} people. Split it into smaller files."
                )
            values = {name: cell for name, cell in zip(columns, cells, strict=False) if name}
            checked.append(_check_row(start, values, cells[len(columns) :]))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: this is not valid CSV ({exc}).") from None
    if columns is None:
        raise ImportFileError(f"The file is empty. Start it with the header {','.join(COLUMNS)}.")
    if not checked:
        raise ImportFileError("The file has a header but no people in it.")
    return _split(_mark_duplicates(checked))


def _mark_duplicates(checked: list[RowProblem | PersonRow]) -> list[RowProblem | PersonRow]:
    """A second row with the same email, or an email that has an account, is a problem row."""
    registered = _registered_emails(entry.email for entry in checked if entry.email)
    first_line: dict[str, int] = {}
    marked: list[RowProblem | PersonRow] = []
    for entry in checked:
        reasons = []
        if entry.email in registered:
            reasons.append("already registered")
        elif entry.email and entry.email in first_line:
            reasons.append(f"duplicate email: also on line {first_line[entry.email]}")
        elif entry.email:
            first_line[entry.email] = entry.line
        if not reasons:
            marked.append(entry)
        elif isinstance(entry, RowProblem):
            entry.reasons.extend(reasons)
            marked.append(entry)
        else:
            marked.append(RowProblem(entry.line, entry.email, reasons))
    return marked


def _split(checked: list[RowProblem | PersonRow]) -> tuple[list[PersonRow], list[RowProblem]]:
    rows = [entry for entry in checked if isinstance(entry, PersonRow)]
    problems = [entry for entry in checked if isinstance(entry, RowProblem)]
    return rows, problems


def _registered_emails(emails: Iterable[str]) -> set[str]:
    wanted = sorted(set(emails))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(db.session.scalars(sa.select(User.email).where(User.email.in_(chunk))))
    return found


def import_people(
    rows: list[PersonRow], problems: list[RowProblem], by: User | None
) -> ImportResult:
    """Create each checked row (and its team, when new) with a set-password link; flush, no commit.

    A row the database still refuses (someone registered the same email a moment ago) becomes a
    problem of its own; the rows around it are kept.
    """
    result = ImportResult(problems=list(problems))
    for row in rows:
        new_team = None
        try:
            with db.session.begin_nested():
                team = services.find_team(row.team) if row.team else None
                if row.team and team is None:
                    team = new_team = services.create_team(row.team)
                issued = services.invite_user(row.email, row.name, row.roles, team, by)
        except services.AccountError as exc:
            result.problems.append(RowProblem(row.line, row.email, [str(exc)]))
        except IntegrityError:
            result.problems.append(
                RowProblem(
                    row.line,
                    row.email,
                    ["someone added this email or team a moment ago; import the row again"],
                )
            )
        else:
            result.created.append(OnboardedPerson(row.line, issued))
            if new_team is not None:
                result.new_teams.append(new_team.name)
    result.problems.sort(key=lambda problem: problem.line)
    return result


def email_links(result: ImportResult) -> None:
    """After the commit: email every new person their link (when SMTP is configured)."""
    for person in result.created:
        person.emailed = services.email_set_password_link(person.issued, new_account=True)
