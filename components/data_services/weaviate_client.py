"""A typed client for Weaviate's schema REST API (v1): collections (classes) only.

Its document (`openapi-specs/schema.json` of weaviate/weaviate v1.39.0) is kept beside the
test fake, which checks both the requests and the answers against it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..rest import ApiError, ConflictError, JsonApiClient, NotFoundError, RetryPolicy

COLLECTION_NAME = r"^[A-Z][_0-9A-Za-z]{0,254}$"
"""Class.class: a GraphQL type name starting with a capital letter."""


class WeaviateClient(JsonApiClient):
    service = "Weaviate"
    log = logging.getLogger("sophia.weaviate")

    def __init__(self, api_key: str, base_url: str, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(api_key, base_url.rstrip("/") + "/v1", retry=retry)

    def error_code(self, status: int, body: Any) -> tuple[str, str]:
        """ErrorResponse: `{"error": [{"message"}]}`."""
        errors = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(errors, list) or not errors:
            return super().error_code(status, body)
        messages = [str(e.get("message")) for e in errors if isinstance(e, Mapping)]
        return f"http/{status}", "; ".join(messages)

    def error_class(self, status: int, code: str, message: str) -> type[ApiError]:
        if status == 422 and "already exists" in message:  # how Weaviate refuses a duplicate
            return ConflictError
        return super().error_class(status, code, message)

    def get_collection(self, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/schema/{name}", read=_class)
        except NotFoundError:
            return None

    def create_collection(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One request, never repeated here (`rest.create_once` finds a lost one by name)."""
        data = self.send_once("POST", "/schema", dict(body))
        return self.parse("the created collection", data, _class)

    def update_collection(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the collection's mutable settings (a PUT of the whole class)."""
        return self.request("PUT", f"/schema/{name}", dict(body), read=_class)

    def add_property(self, name: str, prop: Mapping[str, Any]) -> None:
        self.request("POST", f"/schema/{name}/properties", dict(prop), read=lambda _d: None)

    def delete_collection(self, name: str) -> None:
        """Delete the collection and every object in it."""
        self.request("DELETE", f"/schema/{name}", read=lambda _d: None)


def _class(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping) or not isinstance(data.get("class"), str):
        raise ValueError("no 'class' in the answer")
    return dict(data)
