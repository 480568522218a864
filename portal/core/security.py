"""Password rules and hashing (argon2id), random tokens and safe redirects."""

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Words that make a password easy to guess for anyone who knows where it is used.
PORTAL_WORDS = ("agent", "adoption", "portal")
# Runs people type instead of choosing: alphabet, digits, keyboard rows and columns.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "1q2w3e4r5t6y7u8i9o0p",
)
_NOT_LETTER = re.compile(r"[^a-z]")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_keyboard_run(text: str) -> bool:
    """True for text that only walks along a sequence (either way), repeating it if need be."""
    if len(text) < 4:
        return False
    for sequence in _SEQUENCES:
        for run in (sequence, sequence[::-1]):
            if text in run * (len(text) // len(run) + 2):
                return True
    return False


def _personal_words(context: Iterable[str]) -> set[str]:
    """Pieces of the person's email and name (3 letters or more) and the portal's own words."""
    words = set(PORTAL_WORDS)
    for item in context:
        item = (item or "").lower()
        local, _, domain = item.partition("@")
        words.update(w for w in _SEPARATORS.split(local) if len(w) >= 3)
        words.update(w for w in _SEPARATORS.split(domain.split(".")[0]) if len(w) >= 3)
        if "@" in item:
            words.add(local)
    return {w for w in words if w}


def password_problem(password: str, context: Iterable[str] = ()) -> str | None:
    """Why `password` may not be chosen, or None. `context`: the person's email and name.

    One rule for every place a password is set: the set-password link, changing one's password,
    the CLI and the admin. Length first; then the shipped list of common passwords, with and
    without the digits and symbols people add to them; then repeated characters, keyboard runs,
    and passwords made of the person's name or email, or the portal's name.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    letters = _NOT_LETTER.sub("", lowered)
    common = common_passwords()
    if lowered in common or letters in common or _SEPARATORS.sub("", lowered) in common:
        return "This is one of the most common passwords. Choose one that is harder to guess."
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        return "Use more different characters: repeated characters are easy to guess."
    if _is_keyboard_run(_SEPARATORS.sub("", lowered)) or _is_keyboard_run(letters):
        return "Avoid runs of keys or letters such as 'qwerty' or 'abcd1234'."
    remainder = lowered
    for word in sorted(_personal_words(context), key=len, reverse=True):
        remainder = remainder.replace(word, "")
    remainder = _SEPARATORS.sub("", remainder)
    if remainder != _SEPARATORS.sub("", lowered) and (
        len(remainder) < 6 or _is_keyboard_run(remainder) or remainder in common
    ):
        return "Do not build your password from your name, your email or the portal's name."
    return None


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS") or {}
    return PasswordHasher(**params)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend similar time when there is no hash, so unknown accounts do not answer faster.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def account_digest(email: str) -> str:
    """What logs say for an email someone typed: a short digest, so a password typed into the
    email field never lands in a log, while an operator can still match a known address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Tokens are stored as digests only: a database leak does not hand out sessions or links."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
