"""Lambda's OpenAPI document (1.8.3) as the contract the fake and the client are checked against."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

# A copy of shared/reference/lambda-cloud-openapi-1.8.3.json, Lambda's published contract.
OPENAPI = Path(__file__).with_name("lambda-cloud-openapi-1.8.3.json")
_URI = "urn:lambda-cloud-openapi"


@cache
def _registry() -> Registry[Any]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return Registry().with_resource(_URI, Resource.opaque(document))  # type: ignore[arg-type]


@cache
def _document() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_URI}#/{pointer}"}, registry=_registry())


def response_errors(method: str, template: str, status: int, body: Any) -> list[str]:
    """Where `body` breaks the documented response schema (empty when it conforms)."""
    operation = _document()["paths"][f"/api/v1{template}"][method.lower()]
    responses = operation["responses"]
    key = str(status) if str(status) in responses else None
    if key is None:
        if status == 429 or status >= 500:
            return []  # documented as undocumented: rate limits and server errors
        return [f"status {status} is not one the document lists ({', '.join(responses)})"]
    if "content" not in responses[key]:
        return []
    pointer = _pointer(
        "paths",
        f"/api/v1{template}",
        method.lower(),
        "responses",
        key,
        "content",
        "application/json",
        "schema",
    )
    return [e.message for e in _validator(pointer).iter_errors(body)]


def request_errors(method: str, template: str, body: Any) -> list[str]:
    operation = _document()["paths"][f"/api/v1{template}"][method.lower()]
    if "requestBody" not in operation:
        return []
    pointer = _pointer(
        "paths",
        f"/api/v1{template}",
        method.lower(),
        "requestBody",
        "content",
        "application/json",
        "schema",
    )
    return [e.message for e in _validator(pointer).iter_errors(body)]


def documented_statuses(method: str, template: str) -> list[int]:
    operation = _document()["paths"][f"/api/v1{template}"][method.lower()]
    return sorted(int(code) for code in operation["responses"] if code.isdigit())
