"""Rules about people: creating accounts, signing in and out, passwords, deactivation, set-password links."""

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import Role, SetPasswordLink, Team, User, UserRole, UserSession
from portal.core.db import db
from portal.core.security import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
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


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


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
    if not name.strip():
        raise AccountError("Give the person's name.", "name")
    if get_user_by_email(email) is not None:
        raise AccountError(f"An account with the email {email} already exists.", "email")
    if password is not None and (problem := password_problem(password)):
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
    email = normalise_email(email)
    other = get_user_by_email(email)
    if other is not None and other.id != user.id:
        raise AccountError(f"An account with the email {email} already exists.", "email")
    if not name.strip():
        raise AccountError("Give the person's name.", "name")
    user.email = email
    user.name = name.strip()
    user.team = team
    set_roles(user, roles)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account for these credentials, or None. Unknown email and wrong password look the same."""
    user = get_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active_account:
        log.info("sign-in refused")
        return None
    log.info("sign-in ok: user=%s", user.id)
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


def load_session_user(key: str) -> User | None:
    """The user behind a session cookie, if that session is still open and the account active."""
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.key_digest == token_digest(key), UserSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    session_row, user = row
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


def set_password(user: User, new_password: str) -> None:
    if problem := password_problem(new_password):
        raise AccountError(problem, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    db.session.flush()


def deactivate_user(user: User, by: User) -> None:
    """Deactivated people cannot sign in, and every session they had stops working at once."""
    if user.id == by.id:
        raise AccountError("You cannot deactivate your own account.")
    user.is_active_account = False
    user.deactivated_at = utcnow()
    end_all_sessions(user)
    db.session.flush()


def reactivate_user(user: User) -> None:
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
    set_password(link.user, new_password)
    link.used_at = utcnow()
    end_all_sessions(link.user)
    db.session.flush()
    return link.user
