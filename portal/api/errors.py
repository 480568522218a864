"""Every API error is JSON: {"error": message, "fields": {field: message}}, never an HTML page."""

import logging

from flask import Blueprint, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from portal.core.db import db
from portal.core.web import ERROR_TEXT

log = logging.getLogger(__name__)

API_ERROR_TEXT = {
    401: "Send a valid API token: 'Authorization: Bearer <token>'.",
    403: "Your account is not allowed to do this.",
    404: "Not found, or you do not have access to it.",
    405: "This method is not available on this URL.",
    413: "The request body is too large.",
    429: "Too many requests with this token. Wait a moment (see Retry-After) and try again.",
    422: "Some fields are not valid.",
}


class ApiError(Exception):
    """Stop the request with a JSON error; `fields` names the payload fields at fault."""

    def __init__(self, status: int, message: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message or default_message(status)
        self.fields = fields or {}


def default_message(status: int) -> str:
    if status in API_ERROR_TEXT:
        return API_ERROR_TEXT[status]
    return ERROR_TEXT.get(status, ("", "The request could not be completed."))[1]


def error_json(status: int, message: str | None = None, fields: dict | None = None):
    response = jsonify({"error": message or default_message(status), "fields": fields or {}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    return response


# Pydantic's wording, said the way the rest of the portal speaks.
_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "string_too_short": "This field cannot be empty.",
    "string_type": "Give text.",
    "bool_type": "Give true or false.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_from_float": "Give a whole number.",
    "decimal_type": "Give a number.",
    "decimal_parsing": "Give a number.",
    "finite_number": "Give a finite number.",
    "dict_type": "Give a JSON object.",
    "model_type": "Give a JSON object.",
}


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if part != "[key]") or "body"


def fields_from_validation(exc: ValidationError) -> dict[str, str]:
    """One message per field (the first problem found), keyed by dotted path: `thresholds.quality_min_pct`."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = _field_path(error["loc"])
        message = _MESSAGES.get(error["type"], error["msg"])
        if error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        fields.setdefault(path, message)
    return fields


def validation_error(exc: ValidationError) -> ApiError:
    """Unreadable JSON or a body that is not an object is 400; fields that fail their rules are 422."""
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return ApiError(400, "The body is not valid JSON (UTF-8).")
    if any(e["type"] in ("model_type", "model_attributes_type") and not e["loc"] for e in errors):
        return ApiError(400, "The body must be a JSON object.")
    return ApiError(422, default_message(422), fields_from_validation(exc))


def register_error_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        db.session.rollback()  # nothing half-saved
        return error_json(exc.status, exc.message, exc.fields)

    @bp.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        return _api_error(validation_error(exc))

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        response = error_json(exc.code or 500)
        # Keep what the protocol needs: Allow on 405, Retry-After on 429 (rate limits).
        sources = [exc.get_headers()]
        if exc.response is not None:
            sources.append(list(exc.response.headers.items()))
        for headers in sources:
            for name, value in headers:
                if name.lower() in ("allow", "retry-after"):
                    response.headers[name] = value
        return response
