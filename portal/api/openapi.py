"""The OpenAPI document, generated from the routes themselves: their URL rules, docstrings, the
pydantic schemas they read and the roles they require. Nothing here is written twice by hand."""

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from pydantic import BaseModel

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "fields"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for people."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Field (dotted path) -> what is wrong with it.",
        },
    },
}
ERROR_TEXT = {
    400: "Unreadable body: not JSON, not an object, or a bad header",
    401: "Missing, unknown or revoked token, or a deactivated account",
    403: "Your roles do not allow this",
    404: "Not found, or not visible to you",
    409: "The object's state does not allow this, or it changed since you read it",
    413: "Body too large",
    422: "Fields failed validation (see `fields`)",
    429: "Too many requests with this token (or from this address): wait for Retry-After seconds",
}
_PATH_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    errors: tuple[int, ...] = ()
    also_ok: tuple[int, ...] = ()


def operation(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    public: bool = False,
    errors: tuple[int, ...] = (),
    also_ok: tuple[int, ...] = (),
):
    """Describe a route for the OpenAPI document (the schemas must be the ones the route reads).

    `errors`: statuses beyond those the shape implies (400/413/422 with a body, 401 unless public,
    403 with roles, 404 with URL arguments), e.g. 409 where the object's state can refuse.
    `also_ok`: other success statuses, e.g. 200 where a retry or a replacement answers.
    """

    def mark(view):
        view.api_operation = Operation(body, query, status, public, errors, also_ok)
        return view

    return mark


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    # Enums the parameters name (ReportStatus...) go with the other schemas: no dangling $ref.
    components.update(schema.pop("$defs", {}))
    return [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def build_document(app: Flask, blueprint: str = "api") -> dict:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(f"{blueprint}."):
            continue
        view = app.view_functions[rule.endpoint]
        described: Operation | None = getattr(view, "api_operation", None)
        if described is None:
            continue
        path = _PATH_ARGUMENT.sub(r"{\2}", rule.rule)
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if converter == "int" else "string"},
            }
            for converter, name in _PATH_ARGUMENT.findall(rule.rule)
        ]
        if described.query:
            parameters += _query_parameters(described.query, components)
        doc = (view.__doc__ or "").strip()
        roles = getattr(view, "required_roles", ())
        summary, _, description = doc.partition("\n")
        if roles:
            description = f"{description.strip()}\n\nRoles: {', '.join(roles)}.".strip()
        errors = list(described.errors)
        errors += [400, 413, 422] if described.body else ([422] if described.query else [])
        if not described.public:
            errors.append(401)
        if roles:
            errors.append(403)
        if rule.arguments:
            errors.append(404)
        errors.append(429)  # every API route is rate-limited per token (portal/api/auth.py)
        responses: dict[str, Any] = {
            str(ok): {
                "description": "Created" if ok == 201 else "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
            for ok in sorted({described.status, *described.also_ok})
        }
        for status in sorted(set(errors)):
            responses[str(status)] = {
                "description": ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            if status == 429:
                responses[str(status)]["headers"] = {
                    "Retry-After": {
                        "description": "Seconds to wait before trying again.",
                        "schema": {"type": "integer"},
                    }
                }
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix(f"{blueprint}."),
                "summary": summary.strip(),
                "parameters": parameters,
                "responses": responses,
            }
            if description.strip():
                entry["description"] = description.strip()
            if described.public:
                entry["security"] = []
            if described.body:
                entry["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _schema_ref(described.body, components)}
                    },
                }
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Agent Adoption Portal API",
            "version": "1",
            "description": (
                "Send `Authorization: Bearer <token>` (create a token on your account page or "
                "with `flask --app wsgi portal create-token`). Every error is "
                '`{"error": message, "fields": {field: message}}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
