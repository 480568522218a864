"""Bearer-token authentication for the API.

Only a bearer token signs an API request in; a browser's session cookie never does. So a page on
another site cannot make a signed-in browser write through the API, and CSRF tokens are not needed.
"""

import logging
from functools import wraps

from flask import Blueprint, g, request

from portal.accounts import tokens
from portal.accounts.models import User
from portal.api.errors import ApiError
from portal.core.limits import api_rate_limit, api_token_key, limiter

log = logging.getLogger(__name__)


def bearer_token() -> str | None:
    """The token from `Authorization: Bearer <token>`, or None when the header is missing or odd."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def limit_requests_per_token(bp: Blueprint) -> None:
    """Rate-limit every route of `bp` per bearer token (its digest), or per address without one.

    The limit is checked before the token is looked up, so guessing tokens is limited too; the
    refusal is a JSON 429 with Retry-After (portal/api/errors.py).
    """
    limiter.limit(api_rate_limit, key_func=api_token_key)(bp)


def authenticate_request() -> None:
    """Load the person behind the request's token into `g.api_user`, or answer 401."""
    token = bearer_token()
    user = tokens.user_for_token(token) if token else None
    if user is None:
        log.info("api token refused: path=%s", request.path)
        raise ApiError(401)
    g.api_user = user


def api_user() -> User:
    """The person this API request acts for (set by `authenticate_request`)."""
    return g.api_user


def api_role_required(*roles: str):
    """Let through token holders with any of `roles`; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if not user.has_any_role(*roles):
                log.info("api permission refused: user=%s endpoint=%s", user.id, request.endpoint)
                raise ApiError(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
