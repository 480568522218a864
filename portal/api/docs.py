"""The API reference page: the OpenAPI document drawn as HTML on the server (no Swagger UI, no CDN)."""

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template

from portal.api.openapi import build_document

bp = Blueprint("api_docs", __name__)

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass
class FieldRow:
    """One field of a request body or query, flattened: nested objects get dotted names."""

    name: str
    type: str
    required: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class ResponseRow:
    status: str
    description: str
    is_error: bool


@dataclass
class OperationDoc:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    is_public: bool
    path_parameters: list[FieldRow]
    query_parameters: list[FieldRow]
    body_fields: list[FieldRow]
    body_schema: str
    responses: list[ResponseRow]

    @property
    def anchor(self) -> str:
        return f"op-{self.operation_id}-{self.method}"


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _type_text(schema: dict, components: dict) -> str:
    """A short reading of a JSON schema's type: 'string', 'integer or null', 'one of: a, b'."""
    schema = _resolve(schema, components)
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_type_text(s, components) for s in schema.get("anyOf", schema.get("oneOf", []))]
        return " or ".join(dict.fromkeys(part for text in parts for part in text.split(" or ")))
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_text(schema.get('items', {}), components)}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type_text(schema['additionalProperties'], components)}"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)


def _notes(schema: dict) -> list[str]:
    notes = []
    for key, text in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minimum", "at least {}"),
        ("maximum", "at most {}"),
        ("exclusiveMinimum", "more than {}"),
        ("exclusiveMaximum", "less than {}"),
        ("pattern", "matches {}"),
    ):
        if key in schema:
            notes.append(text.format(schema[key]))
    for variant in schema.get("anyOf", []):
        notes += _notes(variant)
    if "default" in schema and not isinstance(schema["default"], dict | list | None):
        notes.append(f"default {schema['default']}")
    if schema.get("description"):
        notes.append(schema["description"])
    return notes


def _object_fields(schema: dict, components: dict, prefix: str = "") -> list[FieldRow]:
    schema = _resolve(schema, components)
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        resolved = _resolve(prop, components)
        rows.append(
            FieldRow(prefix + name, _type_text(prop, components), name in required, _notes(prop))
        )
        if resolved.get("type") == "object" and resolved.get("properties"):
            rows += _object_fields(resolved, components, f"{prefix}{name}.")
    return rows


def describe_operations(document: dict) -> list[OperationDoc]:
    """Every operation of the document, in path order, ready for the template."""
    components = document.get("components", {}).get("schemas", {})
    described = []
    for path, methods in document["paths"].items():
        for method in sorted(methods, key=lambda m: METHOD_ORDER.index(m)):
            entry: dict[str, Any] = methods[method]
            params = entry.get("parameters", [])
            body = entry.get("requestBody", {}).get("content", {}).get("application/json", {})
            body_schema = body.get("schema", {})
            described.append(
                OperationDoc(
                    method=method.upper(),
                    path=path,
                    operation_id=entry["operationId"],
                    summary=entry.get("summary", ""),
                    description=entry.get("description", ""),
                    is_public=entry.get("security") == [],
                    path_parameters=[
                        FieldRow(p["name"], _type_text(p["schema"], components), True)
                        for p in params
                        if p["in"] == "path"
                    ],
                    query_parameters=[
                        FieldRow(
                            p["name"],
                            _type_text(p["schema"], components),
                            p.get("required", False),
                            _notes(p["schema"]),
                        )
                        for p in params
                        if p["in"] == "query"
                    ],
                    body_fields=_object_fields(body_schema, components) if body_schema else [],
                    body_schema=body_schema.get("$ref", "").rsplit("/", 1)[-1],
                    responses=[
                        ResponseRow(status, answer["description"], not status.startswith("2"))
                        for status, answer in sorted(entry["responses"].items())
                    ],
                )
            )
    return described


@bp.get("/api/docs")
def reference():
    """The API reference for people: public, like the document it is drawn from."""
    document = build_document(current_app)
    return render_template(
        "api/docs.html", document=document, operations=describe_operations(document)
    )
