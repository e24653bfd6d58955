"""Published API documents as the contracts the fakes and the clients are checked against.

Each fake keeps its provider's document beside it, unedited: Lambda's OpenAPI 3.1 (1.8.3),
Pinecone's control-plane OpenAPI 3.0 (2026-04, pinecone-io/pinecone-api) and Weaviate's
Swagger 2.0 (weaviate/weaviate v1.39.0, openapi-specs/schema.json). A fake records every
request and answer that breaks its document; the tests require none.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

HERE = Path(__file__).parent

FORMATS = FormatChecker()
"""OpenAPI's integer formats, which JSON Schema leaves unchecked."""


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenApiContract:
    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path = path
        self.prefix = prefix
        self._uri = f"urn:contract:{path.name}"
        text = path.read_text(encoding="utf-8")
        self.document: dict[str, Any] = (
            json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        )
        self.swagger2 = str(self.document.get("swagger", "")).startswith("2")
        self._registry: Registry[Any] = Registry().with_resource(
            self._uri,
            Resource.opaque(self.document),  # type: ignore[arg-type]
        )
        self._validator = cache(self._make_validator)

    def _make_validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{self._uri}#/{pointer}"}, registry=self._registry, format_checker=FORMATS
        )

    def _operation(self, method: str, template: str) -> dict[str, Any]:
        return self.document["paths"][f"{self.prefix}{template}"][method.lower()]  # type: ignore[no-any-return]

    def _errors(self, pointer: tuple[str, ...], body: Any) -> list[str]:
        return [e.message for e in self._validator(_pointer(*pointer)).iter_errors(body)]

    def response_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Where `body` breaks the documented response schema (empty when it conforms)."""
        responses = self._operation(method, template)["responses"]
        key = str(status) if str(status) in responses else None
        if key is None:
            if status == 429 or status >= 500:
                return []  # documented as undocumented: rate limits and server errors
            return [f"status {status} is not one the document lists ({', '.join(responses)})"]
        base = ("paths", f"{self.prefix}{template}", method.lower(), "responses", key)
        if self.swagger2:
            if "schema" not in responses[key]:
                return [] if body is None else ["the document gives this answer no body"]
            return self._errors((*base, "schema"), body)
        if "content" not in responses[key]:
            return [] if body is None else ["the document gives this answer no body"]
        return self._errors((*base, "content", "application/json", "schema"), body)

    def request_errors(self, method: str, template: str, body: Any) -> list[str]:
        operation = self._operation(method, template)
        base = ("paths", f"{self.prefix}{template}", method.lower())
        if self.swagger2:
            for i, parameter in enumerate(operation.get("parameters", [])):
                if parameter.get("in") == "body":
                    return self._errors((*base, "parameters", str(i), "schema"), body)
            return []
        if "requestBody" not in operation:
            return []
        return self._errors((*base, "requestBody", "content", "application/json", "schema"), body)

    def documented_statuses(self, method: str, template: str) -> list[int]:
        responses = self._operation(method, template)["responses"]
        return sorted(int(code) for code in responses if code.isdigit())


@cache
def lambda_cloud() -> OpenApiContract:
    """A copy of shared/reference/lambda-cloud-openapi-1.8.3.json, Lambda's published contract."""
    return OpenApiContract(HERE / "lambda-cloud-openapi-1.8.3.json", prefix="/api/v1")


@cache
def pinecone() -> OpenApiContract:
    return OpenApiContract(HERE / "pinecone-db-control-2026-04.oas.yaml")


@cache
def weaviate() -> OpenApiContract:
    return OpenApiContract(HERE / "weaviate-openapi-1.39.0.json", prefix="")


# Lambda's fake and tests call these directly.
OPENAPI = HERE / "lambda-cloud-openapi-1.8.3.json"


def response_errors(method: str, template: str, status: int, body: Any) -> list[str]:
    return lambda_cloud().response_errors(method, template, status, body)


def request_errors(method: str, template: str, body: Any) -> list[str]:
    return lambda_cloud().request_errors(method, template, body)


def documented_statuses(method: str, template: str) -> list[int]:
    return lambda_cloud().documented_statuses(method, template)
