"""API tokens: issued once, stored only as a digest, named and revocable by the person they act for."""

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import ApiToken, User
from portal.accounts.services import AccountError
from portal.core.db import db
from portal.core.security import new_token, token_digest
from portal.core.timeutil import utcnow

log = logging.getLogger(__name__)

# A recognisable start lets secret scanners and people tell a portal token from other secrets.
TOKEN_START = "aap_"  # noqa: S105 - a fixed marker, not a secret
PREFIX_LENGTH = 10  # what the account page shows: TOKEN_START plus six random characters
NAME_MAX_LENGTH = 120
MAX_ACTIVE_TOKENS = 20
LAST_USED_INTERVAL = timedelta(minutes=1)
_MAX_ROW_ID = 2**31 - 1  # ids from URLs beyond an INTEGER column cannot exist


@dataclass
class IssuedToken:
    row: ApiToken
    token: str  # the full token: shown to its owner once, never stored


def active_tokens(user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def issue_token(user: User, name: str) -> IssuedToken:
    """Create a named token for `user`. Raises AccountError (field "name") for a bad name."""
    name = (name or "").strip()
    if not name:
        raise AccountError("Give the token a name, for example what will use it.", "name")
    if len(name) > NAME_MAX_LENGTH:
        raise AccountError(f"Use at most {NAME_MAX_LENGTH} characters.", "name")
    if not user.is_active_account:
        raise AccountError("This account is deactivated; it cannot have API tokens.")
    active = active_tokens(user)
    if any(token.name.lower() == name.lower() for token in active):
        raise AccountError("You already have a token with this name. Choose another.", "name")
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise AccountError(
            f"You have {MAX_ACTIVE_TOKENS} tokens already. Revoke one you no longer use.", "name"
        )
    token = TOKEN_START + new_token()
    row = ApiToken(
        user_id=user.id, name=name, token_digest=token_digest(token), prefix=token[:PREFIX_LENGTH]
    )
    db.session.add(row)
    db.session.flush()
    log.info("api token issued: token=%s user=%s", row.id, user.id)
    return IssuedToken(row=row, token=token)


def find_own_token(user: User, token_id: int) -> ApiToken | None:
    """The token with this id if it belongs to `user` (anyone else's looks missing)."""
    if not 0 < token_id <= _MAX_ROW_ID:
        return None
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke_token(token: ApiToken) -> None:
    """Stop the token working at once. Revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        log.info("api token revoked: token=%s user=%s", token.id, token.user_id)


def user_for_token(token: str) -> User | None:
    """The active person a bearer token acts for, or None (unknown, revoked, or deactivated).

    Records when the token was last used, at most once a minute (committed at once, like a session
    touch), so busy integrations do not write on every request.
    """
    if not token.startswith(TOKEN_START) or len(token) > 200:
        return None
    row = db.session.execute(
        sa.select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_digest == token_digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if not user.is_active_account:
        return None
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_INTERVAL:
        # Conditional, so concurrent requests with one token write once.
        db.session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == api_token.id,
                sa.or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - LAST_USED_INTERVAL,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return user
