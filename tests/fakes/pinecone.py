"""A loopback fake of Pinecone's control plane (indexes), following `db_control` 2026-04.

The document (pinecone-db-control-2026-04.oas.yaml, pinecone-io/pinecone-api) sits beside
this file; every request and answer is checked against it. Indexes initialise for
`ready_after_polls` describes, then are Ready; deletion protection refuses a delete (403), a
duplicate name 409.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.json_api import Answer, JsonApiFake, Route
from tests.fakes.openapi_contract import pinecone

VALID_KEY = "pcsk_fake_0123456789abcdef"
API_VERSION = "2026-04"


@dataclass
class PineconeState:
    ready_after_polls: int = 1
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    creates: int = 0


class FakePinecone(JsonApiFake):
    def __init__(self) -> None:
        self.state = PineconeState()
        super().__init__(pinecone())

    @property
    def base_url(self) -> str:
        return self.origin

    def authorized(self, headers: Any) -> bool:
        return bool(
            headers.get("Api-Key") == VALID_KEY
            and headers.get("X-Pinecone-Api-Version") == API_VERSION
        )

    def error(self, status: int, message: str, code: str = "") -> Answer:
        return status, {"status": status, "error": {"code": code or "UNKNOWN", "message": message}}

    def routes(self) -> list[Route]:
        return [
            (r"/indexes", "GET", self._list),
            (r"/indexes", "POST", self._create),
            (r"/indexes/(?P<index_name>[^/]+)", "GET", self._describe),
            (r"/indexes/(?P<index_name>[^/]+)", "PATCH", self._configure),
            (r"/indexes/(?P<index_name>[^/]+)", "DELETE", self._delete),
        ]

    def _view(self, index: dict[str, Any]) -> dict[str, Any]:
        polls = self.state.polls.get(index["name"], 0)
        ready = polls >= self.state.ready_after_polls
        view = {k: v for k, v in index.items() if v is not None}  # sparse: no dimension
        view["status"] = {"ready": ready, "state": "Ready" if ready else "Initializing"}
        return view

    def _list(self, _body: Any) -> Answer:
        return 200, {"indexes": [self._view(i) for i in self.state.indexes.values()]}

    def _create(self, body: Any) -> Answer:
        name = body["name"]
        if name in self.state.indexes:
            return self.error(409, "Resource already exists.", "ALREADY_EXISTS")
        spec = body["spec"]
        capacity = (spec.get("serverless") or {}).get("read_capacity") or {"mode": "OnDemand"}
        if not ("serverless" in spec or "pod" in spec) or capacity.get("mode") != "OnDemand":
            # BYOC and dedicated read capacity: documented, not served by this fake
            return self.error(
                400, "Only serverless on-demand and pod indexes here.", "INVALID_ARGUMENT"
            )
        if "serverless" in spec:
            spec = {
                "serverless": {
                    **spec["serverless"],
                    "read_capacity": {"mode": "OnDemand", "status": {"state": "Ready"}},
                }
            }
        index = {
            "name": name,
            "dimension": body.get("dimension"),
            "metric": body.get("metric", "cosine"),
            "host": f"{name}-{secrets.token_hex(4)}.svc.fake.pinecone.io",
            "spec": spec,
            "deletion_protection": body.get("deletion_protection", "disabled"),
            "tags": dict(body.get("tags") or {}),
            "vector_type": body.get("vector_type", "dense"),
        }
        self.state.indexes[name] = index
        self.state.polls[name] = 0
        self.state.creates += 1
        self.dropped_create()
        return 201, self._view(index)

    def _describe(self, _body: Any, index_name: str) -> Answer:
        index = self.state.indexes.get(index_name)
        if index is None:
            return self.error(404, f"Index {index_name} not found.", "NOT_FOUND")
        self.state.polls[index_name] = self.state.polls.get(index_name, 0) + 1
        return 200, self._view(index)

    def _configure(self, body: Any, index_name: str) -> Answer:
        index = self.state.indexes.get(index_name)
        if index is None:
            return self.error(404, f"Index {index_name} not found.", "NOT_FOUND")
        if "deletion_protection" in body:
            index["deletion_protection"] = body["deletion_protection"]
        for key, value in (body.get("tags") or {}).items():
            if value == "":
                index["tags"].pop(key, None)
            else:
                index["tags"][key] = value
        pod = (body.get("spec") or {}).get("pod")
        if pod:
            if "pod" not in index["spec"]:
                return self.error(400, "Not a pod-based index.", "INVALID_ARGUMENT")
            index["spec"]["pod"].update(pod)
        return 202, self._view(index)

    def _delete(self, _body: Any, index_name: str) -> Answer:
        index = self.state.indexes.get(index_name)
        if index is None:
            return self.error(404, f"Index {index_name} not found.", "NOT_FOUND")
        if index["deletion_protection"] == "enabled":
            return self.error(
                403,
                "Deletion protection is enabled for this index. Disable deletion protection "
                "before retrying.",
                "FORBIDDEN",
            )
        del self.state.indexes[index_name]
        return 202, None
