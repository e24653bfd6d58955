"""A typed client for Pinecone's control plane (API version 2026-04): indexes only.

Its document (`db_control_2026-04.oas.yaml`, pinecone-io/pinecone-api) is kept beside the
test fake, which checks both the requests and the answers against it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..rest import (
    ApiError,
    ApiKey,
    DeletionProtectedError,
    JsonApiClient,
    NotFoundError,
    RetryPolicy,
)

DEFAULT_BASE_URL = "https://api.pinecone.io"
API_VERSION = "2026-04"
INDEX_NAME = r"^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$"
"""IndexModel.name: 1-45 lower-case letters, digits or '-', starting and ending with one of
the first two."""


@dataclass(frozen=True)
class PineconeIndexModel:
    """The parts of an IndexModel this project manages and reads."""

    name: str
    dimension: int | None
    metric: str
    vector_type: str
    host: str
    spec: Mapping[str, Any]
    deletion_protection: str
    tags: Mapping[str, str] = field(default_factory=dict)
    ready: bool = False
    state: str = ""

    @classmethod
    def from_api(cls, data: Any) -> PineconeIndexModel:
        status = data["status"]
        return cls(
            name=str(data["name"]),
            dimension=int(data["dimension"]) if data.get("dimension") is not None else None,
            metric=str(data["metric"]),
            vector_type=str(data.get("vector_type") or "dense"),
            host=str(data["host"]),
            spec=dict(data["spec"]),
            deletion_protection=str(data.get("deletion_protection") or "disabled"),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
            ready=bool(status["ready"]),
            state=str(status["state"]),
        )


class PineconeClient(JsonApiClient):
    service = "Pinecone"
    log = logging.getLogger("sophia.pinecone")

    def __init__(
        self, api_key: str, base_url: str | None = None, *, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__(
            api_key,
            base_url or DEFAULT_BASE_URL,
            retry=retry,
            headers={"X-Pinecone-Api-Version": API_VERSION},
        )

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        return {"Api-Key": key.reveal()}

    def error_code(self, status: int, body: Any) -> tuple[str, str]:
        """ErrorResponse: `{"status", "error": {"code", "message"}}`."""
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            return super().error_code(status, body)
        return str(error.get("code") or f"http/{status}"), str(error.get("message") or "")

    def describe_index(self, name: str) -> PineconeIndexModel | None:
        try:
            return self.request("GET", f"/indexes/{name}", read=PineconeIndexModel.from_api)
        except NotFoundError:
            return None

    def list_indexes(self) -> list[PineconeIndexModel]:
        return self.request(
            "GET",
            "/indexes",
            read=lambda d: [PineconeIndexModel.from_api(i) for i in d.get("indexes") or []],
        )

    def create_index(self, body: Mapping[str, Any]) -> PineconeIndexModel:
        """One request, never repeated here: whether a lost answer made the index is for the
        caller to find out (by name: `rest.create_once`)."""
        data = self.send_once("POST", "/indexes", dict(body))
        return self.parse("the created index", data, PineconeIndexModel.from_api)

    def configure_index(self, name: str, body: Mapping[str, Any]) -> PineconeIndexModel:
        """Deletion protection, tags, pod type and replicas (a PATCH: repeating it is harmless)."""
        return self.request(
            "PATCH", f"/indexes/{name}", dict(body), read=PineconeIndexModel.from_api
        )

    def delete_index(self, name: str) -> None:
        """Delete an index; one already gone is no error."""
        try:
            self.request("DELETE", f"/indexes/{name}", read=lambda _d: None)
        except NotFoundError:
            return
        except ApiError as exc:
            if exc.status == 403:  # the documented answer for an index with protection on
                raise DeletionProtectedError(f"Pinecone index {name}: {exc.message}") from None
            raise
