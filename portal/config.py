"""Configuration from environment variables (documented in the README)."""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """PORTAL_SECRET_KEY, or a key generated once into the instance folder (mode 0600)."""
    from_env = os.environ.get("PORTAL_SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        _write_new_key(key_file)
    return key_file.read_text().strip()


def _write_new_key(key_file: Path) -> None:
    """Write the whole key under a temporary name, then link it into place.

    Server workers starting together all end up with the first key linked, and nobody reads a
    half-written file (which would give each worker a different key and break every session).
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another worker won; everybody uses its key
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)


def _engine_options(database_url: str) -> dict:
    """Connections per process: PORTAL_DB_POOL_SIZE kept open, PORTAL_DB_MAX_OVERFLOW more at peaks
    (size it so workers x (size + overflow) stays under the server's max_connections).

    Connections are pinged before use by `portal.core.db.ping_when_idle`, not pool_pre_ping."""
    options: dict = {}
    if not database_url.startswith("sqlite"):
        options["pool_size"] = int(os.environ.get("PORTAL_DB_POOL_SIZE", "5"))
        options["max_overflow"] = int(os.environ.get("PORTAL_DB_MAX_OVERFLOW", "5"))
    return options


def from_environment(instance_path: Path) -> dict:
    database_url = (
        os.environ.get("PORTAL_DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        # A pooled connection idle this many seconds is pinged before use; 0: before every use.
        "DB_PING_AFTER": float(os.environ.get("PORTAL_DB_PING_AFTER", "1")),
        "BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000"),
        "SMTP_HOST": os.environ.get("PORTAL_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("PORTAL_SMTP_PORT", "25")),
        "SMTP_USERNAME": os.environ.get("PORTAL_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("PORTAL_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool("PORTAL_SMTP_STARTTLS"),
        "SMTP_FROM": os.environ.get("PORTAL_SMTP_FROM", "Agent Adoption Portal <portal@localhost>"),
        "SESSION_COOKIE_SECURE": _bool("PORTAL_SECURE_COOKIES"),
        "UPLOAD_FOLDER": os.environ.get("PORTAL_UPLOAD_FOLDER", str(instance_path / "uploads")),
        "RATELIMIT_STORAGE_URI": os.environ.get("PORTAL_RATELIMIT_STORAGE_URI", "memory://"),
        "API_RATE_LIMIT": os.environ.get("PORTAL_API_RATE_LIMIT", "300 per minute; 5000 per hour"),
        # Rendered fragments kept per process (portal.core.fragments); 0 turns the cache off.
        "FRAGMENT_CACHE_SIZE": int(os.environ.get("PORTAL_FRAGMENT_CACHE_SIZE", "128")),
    }


DEFAULTS = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, so long forms never expire
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "SET_PASSWORD_LINK_HOURS": 72,
    "ARGON2_PARAMS": {},
}
