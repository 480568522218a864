"""Attachments: what is accepted (by content as well as name), where files live, and how they are named."""

import secrets
from dataclasses import dataclass
from pathlib import Path, PurePath

from flask import current_app

MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    extensions: tuple[str, ...]
    content_type: str
    label: str


PNG = FileKind((".png",), "image/png", "PNG image")
JPEG = FileKind((".jpg", ".jpeg"), "image/jpeg", "JPEG image")
PDF = FileKind((".pdf",), "application/pdf", "PDF document")
TXT = FileKind((".txt",), "text/plain", "text file")
CSV = FileKind((".csv",), "text/csv", "CSV file")
KINDS = (PNG, JPEG, PDF, TXT, CSV)
ACCEPT = ",".join(ext for kind in KINDS for ext in kind.extensions)
ALLOWED_TEXT = "PNG, JPEG, PDF, TXT or CSV, up to 5 MB each, at most 3 files"


class AttachmentRefused(ValueError):
    """The file cannot be accepted; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class UploadedFile:
    """A file as received (from a form or an API), before it is checked."""

    filename: str
    content: bytes

    @classmethod
    def from_storage(cls, storage) -> "UploadedFile":
        """Read a werkzeug FileStorage, at most one byte over the limit (enough to refuse it)."""
        return cls(storage.filename or "", storage.stream.read(MAX_ATTACHMENT_BYTES + 1))


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    kind: FileKind
    content: bytes


def clean_name(filename: str) -> str:
    """The last path part of what the browser sent, without control characters, kept short."""
    name = PurePath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"/\\')
    return name.strip()[-200:] or "attachment"


def _kind_by_content(content: bytes) -> FileKind | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"%PDF-"):
        return PDF
    return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Accept the file only if its name and its bytes agree on one of the allowed kinds."""
    name = clean_name(upload.filename)
    if not upload.content:
        raise AttachmentRefused(f"{name} is empty.")
    if len(upload.content) > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(f"{name} is larger than 5 MB.")
    suffix = PurePath(name).suffix.lower()
    by_name = next((kind for kind in KINDS if suffix in kind.extensions), None)
    if by_name is None:
        raise AttachmentRefused(f"{name} is not an accepted type ({ALLOWED_TEXT}).")
    by_content = _kind_by_content(upload.content)
    if by_name in (TXT, CSV):
        ok = by_content is None and _is_text(upload.content)
    else:
        ok = by_content is by_name
    if not ok:
        raise AttachmentRefused(
            f"{name} does not contain what its name says (a {by_name.label} was expected)."
        )
    return CheckedFile(name, by_name, upload.content)


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "reports"


def store(checked: CheckedFile) -> str:
    """Write the file under a random server-made name; returns that name."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + checked.kind.extensions[0]
    (folder / stored_name).write_bytes(checked.content)
    return stored_name


def stored_path(stored_name: str) -> Path:
    return upload_folder() / PurePath(stored_name).name
