"""Rules about people: creating accounts, signing in and out, passwords, deactivation, set-password links,
and what administrators see of people and teams."""

import functools
import logging
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, SetPasswordLink, Team, User, UserRole, UserSession
from portal.core import fragments
from portal.core.db import db
from portal.core.mail import send_mail
from portal.core.security import (
    account_digest,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from portal.core.security import password_problem as _password_problem
from portal.core.timeutil import utcnow

log = logging.getLogger(__name__)

SESSION_TOUCH_INTERVAL = timedelta(minutes=10)


class AccountError(ValueError):
    """A rule about accounts was broken; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def parse_roles(names: list[str] | tuple[str, ...]) -> set[Role]:
    roles = set()
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise AccountError(f"Unknown role '{name}'. Valid roles: {valid}.", "roles") from None
    return roles


def email_problem(email: str) -> str | None:
    """Why `email` cannot be an account's address, or None. One rule for forms, CSV import and CLI."""
    email = email.strip()
    if not email:
        return "Give an email address."
    if len(email) > 254:
        return "An email address has at most 254 characters."
    try:
        # `test_environment` lets the reserved .test domain through (test and staging set-ups).
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a person's name, or None."""
    name = name.strip()
    if not name:
        return "Give the person's name."
    if len(name) > 120:
        return "A name has at most 120 characters."
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "A name cannot contain line breaks or control characters."
    return None


def password_problem(password: str, user: User | None = None, *context: str) -> str | None:
    """Why `password` may not be chosen (by `user`, or by the person with this email and name)."""
    if user is not None:
        context = (user.email, user.name, *context)
    return _password_problem(password, context)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def find_team(name: str) -> Team | None:
    return db.session.scalar(
        sa.select(Team).where(sa.func.lower(Team.name) == name.strip().lower())
    )


def get_or_create_team(name: str) -> Team:
    team = find_team(name)
    if team is None:
        team = Team(name=name.strip())
        db.session.add(team)
        db.session.flush()
    return team


def create_team(name: str, description: str = "") -> Team:
    if find_team(name) is not None:
        raise AccountError("A team with this name already exists.", "name")
    team = Team(name=name.strip(), description=description.strip())
    db.session.add(team)
    db.session.flush()
    return team


def update_team(team: Team, name: str, description: str) -> Team:
    other = find_team(name)
    if other is not None and other.id != team.id:
        raise AccountError("A team with this name already exists.", "name")
    team.name = name.strip()
    team.description = description.strip()
    db.session.flush()
    return team


def set_roles(user: User, roles: set[Role]) -> None:
    current = {row.role: row for row in user.role_rows}
    for role, row in current.items():
        if role not in roles:
            user.role_rows.remove(row)
    for role in roles - current.keys():
        user.role_rows.append(UserRole(role=role))


def create_user(
    email: str,
    name: str,
    roles: set[Role],
    team: Team | None = None,
    password: str | None = None,
) -> User:
    """Create an account. Without a password the person sets one through a link."""
    email = normalise_email(email)
    if problem := email_problem(email):
        raise AccountError(problem, "email")
    if problem := name_problem(name):
        raise AccountError(problem, "name")
    if get_user_by_email(email) is not None:
        raise AccountError(f"An account with the email {email} already exists.", "email")
    if password is not None and (problem := password_problem(password, None, email, name)):
        raise AccountError(problem, "password")
    user = User(email=email, name=name.strip(), team=team, is_active_account=True)
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    set_roles(user, roles)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, email: str, name: str, roles: set[Role], team: Team | None) -> User:
    """Change a person's details and roles; the last active administrator keeps the admin role."""
    email = normalise_email(email)
    if problem := email_problem(email):
        raise AccountError(problem, "email")
    other = get_user_by_email(email)
    if other is not None and other.id != user.id:
        raise AccountError(f"An account with the email {email} already exists.", "email")
    if problem := name_problem(name):
        raise AccountError(problem, "name")
    if Role.ADMIN in user.assigned_roles and Role.ADMIN not in roles and is_last_active_admin(user):
        raise AccountError(
            f"{user.name} is the last active administrator. Give someone else the admin role first.",
            "roles",
        )
    user.email = email
    user.name = name.strip()
    user.team = team
    set_roles(user, roles)
    db.session.flush()
    return user


def authenticate(email: str, password: str, address: str | None = None) -> User | None:
    """The account for these credentials, or None. Unknown email and wrong password look the same
    (the same message, and a password hash computed either way).

    Every attempt is logged with a digest of the email typed, never the email itself (people type
    their password into the email field) and never the password.
    """
    user = get_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active_account:
        reason = "unknown account" if user is None else "deactivated" if ok else "wrong password"
        log.info(
            "sign-in refused: account=%s reason=%s address=%s",
            account_digest(email),
            reason,
            address,
        )
        return None
    log.info("sign-in ok: user=%s address=%s", user.id, address)
    return user


def start_session(user: User, user_agent: str = "") -> str:
    """Record a new signed-in browser; returns the key that goes in its cookie."""
    key = new_token()
    db.session.add(
        UserSession(key_digest=token_digest(key), user=user, user_agent=(user_agent or "")[:255])
    )
    db.session.flush()
    user.session_key = key
    return key


@functools.cache
def _session_user_statement(area: str | None, layout: bool) -> tuple[sa.Select, tuple[str, ...]]:
    """The statement that loads a session's person and roles (built once: every signed-in request
    runs it), with the page layout's state (the bell) for a page, and the cache key of `area`'s
    cached page (portal.core.fragments) when given."""
    extra = fragments.key_columns(area, User.id) if area or layout else {}
    statement = (
        sa.select(UserSession, User, *extra.values())
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.key_digest == sa.bindparam("digest"), UserSession.ended_at.is_(None))
        .options(joinedload(User.role_rows))
    )
    return statement, tuple(extra)


def load_session_user(key: str) -> User | None:
    """The user behind a session cookie, if that session is still open and the account active."""
    # One statement for every signed-in request: the person's roles come in the same query, and
    # so do the layout's state (the bell's count) and the cache key of a cached page.
    statement, extra = _session_user_statement(
        fragments.requested_page_area(), fragments.draws_layout()
    )
    row = db.session.execute(statement, {"digest": token_digest(key)}).unique().first()
    if row is None:
        return None
    session_row, user, *values = row
    fragments.note_page_key(dict(zip(extra, values, strict=True)))
    if not user.is_active_account:
        return None
    now = utcnow()
    if now - session_row.last_seen_at > SESSION_TOUCH_INTERVAL:
        session_row.last_seen_at = now
        db.session.commit()
    user.session_key = key
    return user


def end_session(key: str | None) -> None:
    if not key:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.key_digest == token_digest(key), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all_sessions(user: User, except_key: str | None = None) -> None:
    stmt = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if except_key:
        stmt = stmt.where(UserSession.key_digest != token_digest(except_key))
    db.session.execute(stmt.values(ended_at=utcnow()))


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's own password; every other signed-in browser of theirs is signed out."""
    if not verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not right.", "current_password")
    set_password(user, new_password)
    end_all_sessions(user, except_key=user.session_key)
    log.info("password changed: user=%s", user.id)


def change_email(user: User, current_password: str, new_email: str) -> str:
    """Change one's own email after re-entering the password; returns the old address.

    Every other signed-in browser of theirs is signed out, as after a password change.
    """
    if not verify_password(user.password_hash, current_password):
        raise AccountError("Your current password is not right.", "current_password")
    new_email = normalise_email(new_email)
    if problem := email_problem(new_email):
        raise AccountError(problem, "new_email")
    if new_email == user.email:
        raise AccountError("This is already your email address.", "new_email")
    if get_user_by_email(new_email) is not None:
        raise AccountError("Another account uses this email address.", "new_email")
    old_email = user.email
    user.email = new_email
    end_all_sessions(user, except_key=user.session_key)
    db.session.flush()
    log.info("email changed: user=%s", user.id)
    return old_email


def email_change_notice(user: User, old_email: str) -> bool:
    """Tell the old address that the sign-in email changed, so a hijack does not go unnoticed."""
    body = (
        f"Hello {user.name},\n\nThe email address you sign in to the Agent Adoption Portal with "
        f"was changed from {old_email} to {user.email}.\n\nIf you did not do this, tell your "
        "portal administrator at once."
    )
    return send_mail(old_email, "Your Agent Adoption Portal email address changed", body)


def set_password(user: User, new_password: str) -> None:
    if problem := password_problem(new_password, user):
        raise AccountError(problem, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    db.session.flush()


def active_admin_ids(lock: bool = False) -> list[int]:
    """Ids of active administrators. `lock` holds their rows (PostgreSQL) until the transaction ends,
    so two admins demoting each other at the same moment cannot leave the portal with none."""
    stmt = (
        sa.select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.is_active_account.is_(True))
        .order_by(User.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=User)
    return list(db.session.scalars(stmt))


def is_last_active_admin(user: User) -> bool:
    """True when `user` is the only active administrator left."""
    return active_admin_ids(lock=True) == [user.id]


def deactivate_user(user: User, by: User) -> None:
    """Deactivated people cannot sign in, and every session they had stops working at once."""
    if user.id == by.id:
        raise AccountError("You cannot deactivate your own account.")
    if not user.is_active_account:
        raise AccountError(f"{user.name} is already deactivated.")
    if is_last_active_admin(user):
        raise AccountError(f"{user.name} is the last active administrator and stays active.")
    user.is_active_account = False
    user.deactivated_at = utcnow()
    end_all_sessions(user)
    db.session.flush()


def reactivate_user(user: User) -> None:
    """Let a deactivated person sign in again (their old sessions stay ended)."""
    if user.is_active_account:
        raise AccountError(f"{user.name} is already active.")
    user.is_active_account = True
    user.deactivated_at = None
    db.session.flush()


@dataclass
class IssuedLink:
    link: SetPasswordLink
    token: str

    @property
    def path(self) -> str:
        return f"/set-password/{self.token}"

    @property
    def url(self) -> str:
        return current_app.config["BASE_URL"].rstrip("/") + self.path


def issue_set_password_link(user: User, by: User | None = None) -> IssuedLink:
    """A fresh one-time link; earlier unused links of the same person stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(SetPasswordLink)
        .where(SetPasswordLink.user_id == user.id, SetPasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_token()
    hours = current_app.config["SET_PASSWORD_LINK_HOURS"]
    link = SetPasswordLink(
        token_digest=token_digest(token),
        user=user,
        created_by_id=by.id if by else None,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(link)
    db.session.flush()
    return IssuedLink(link=link, token=token)


def find_usable_link(token: str) -> SetPasswordLink | None:
    link = db.session.scalar(
        sa.select(SetPasswordLink).where(SetPasswordLink.token_digest == token_digest(token))
    )
    if link is None or not link.is_usable(utcnow()) or not link.user.is_active_account:
        return None
    return link


def use_set_password_link(link: SetPasswordLink, new_password: str) -> User:
    """Set the password through a link, once: of two submissions at the same moment only one wins."""
    if problem := password_problem(new_password, link.user):
        raise AccountError(problem, "new_password")
    now = utcnow()
    claimed = db.session.execute(
        sa.update(SetPasswordLink)
        .where(
            SetPasswordLink.id == link.id,
            SetPasswordLink.used_at.is_(None),
            SetPasswordLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise AccountError("This link has just been used. Sign in, or ask for a new link.")
    set_password(link.user, new_password)
    end_all_sessions(link.user)
    db.session.flush()
    return link.user


def invite_user(
    email: str, name: str, roles: set[Role], team: Team | None, by: User | None
) -> IssuedLink:
    """Create an account without a password and a set-password link for it.

    Nobody ticked a role: the person is a reporter (everybody is, DESIGN.md).
    """
    user = create_user(email, name, roles or {Role.REPORTER}, team=team)
    return issue_set_password_link(user, by)


def email_set_password_link(issued: IssuedLink, *, new_account: bool) -> bool:
    """Email the link to its person. False when SMTP is off or refused: the admin passes it on."""
    user = issued.link.user
    expires = issued.link.expires_at.strftime("%d %b %Y at %H:%M UTC")
    if new_account:
        subject = "Your account on the Agent Adoption Portal"
        opening = (
            f"Hello {user.name},\n\nAn account has been made for you on the Agent Adoption Portal."
        )
    else:
        subject = "A new link to set your Agent Adoption Portal password"
        opening = (
            f"Hello {user.name},\n\nAn administrator has sent you a new link to set your password."
            " Earlier links no longer work."
        )
    body = (
        f"{opening}\n\nChoose your password here (the link works once, until {expires}):\n\n"
        f"{issued.url}\n\nYou sign in with this email address: {user.email}\n\n"
        "If you did not expect this message, you can ignore it."
    )
    return send_mail(user.email, subject, body)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def get_team(team_id: int) -> Team | None:
    return db.session.get(Team, team_id)


def all_teams() -> list[Team]:
    return list(db.session.scalars(sa.select(Team).order_by(sa.func.lower(Team.name))))


PEOPLE_PAGE_SIZE = 25
PERSON_STATUSES = ("active", "deactivated", "all")


@dataclass
class PeopleFilter:
    """What an admin asked the people list for. `team_id` 0 means "people without a team"."""

    query: str = ""
    role: Role | None = None
    team_id: int | None = None
    status: str = "active"


@dataclass
class PeoplePage:
    people: list[User]
    page: int
    pages: int
    total: int  # people matching the whole filter
    per_page: int
    status_counts: dict[str, int] = field(default_factory=dict)  # same filter, any status

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.people else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.people) - 1 if self.people else 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_people(
    wanted: PeopleFilter, page: int = 1, per_page: int = PEOPLE_PAGE_SIZE
) -> PeoplePage:
    """One page of people matching `wanted`, ordered by name, with counts per status (in SQL)."""
    conditions = []
    if wanted.query.strip():
        pattern = f"%{_escape_like(wanted.query.strip())}%"
        conditions.append(
            sa.or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
    if wanted.role is not None:
        conditions.append(User.role_rows.any(UserRole.role == wanted.role))
    if wanted.team_id == 0:
        conditions.append(User.team_id.is_(None))
    elif wanted.team_id is not None:
        conditions.append(User.team_id == wanted.team_id)

    by_status = dict(
        db.session.execute(
            sa.select(User.is_active_account, sa.func.count())
            .where(*conditions)
            .group_by(User.is_active_account)
        ).all()
    )
    counts = {"active": by_status.get(True, 0), "deactivated": by_status.get(False, 0)}
    counts["all"] = counts["active"] + counts["deactivated"]
    status = wanted.status if wanted.status in PERSON_STATUSES else "active"
    if status != "all":
        conditions.append(User.is_active_account.is_(status == "active"))

    total = counts[status]
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    people = db.session.scalars(
        sa.select(User)
        .where(*conditions)
        .order_by(sa.func.lower(User.name), User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return PeoplePage(
        people=list(people),
        page=page,
        pages=pages,
        total=total,
        per_page=per_page,
        status_counts=counts,
    )


@dataclass
class TeamSummary:
    team: Team
    active_members: int
    deactivated_members: int


def team_overview() -> tuple[list[TeamSummary], int]:
    """Every team with its member counts, and how many active people have no team (one query each)."""
    active = sa.func.count(sa.case((User.is_active_account.is_(True), 1)))
    inactive = sa.func.count(sa.case((User.is_active_account.is_(False), 1)))
    rows = db.session.execute(
        sa.select(Team, active, inactive)
        .outerjoin(User, User.team_id == Team.id)
        .group_by(Team.id)
        .order_by(sa.func.lower(Team.name))
    ).all()
    without_team = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.team_id.is_(None), User.is_active_account.is_(True))
    )
    return [TeamSummary(team, a, d) for team, a, d in rows], without_team


def team_members(team: Team) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.team_id == team.id)
            .order_by(User.is_active_account.desc(), sa.func.lower(User.name), User.id)
        )
    )


def usable_link_expiry(user: User) -> datetime | None:
    """When the person's current set-password link expires, or None if they have no usable link."""
    return db.session.scalar(
        sa.select(sa.func.max(SetPasswordLink.expires_at)).where(
            SetPasswordLink.user_id == user.id,
            SetPasswordLink.used_at.is_(None),
            SetPasswordLink.expires_at > utcnow(),
        )
    )
