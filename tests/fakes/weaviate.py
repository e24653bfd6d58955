"""A loopback fake of Weaviate's schema REST API (collections), following v1.39.0's Swagger.

The document (weaviate-openapi-1.39.0.json, weaviate/weaviate openapi-specs/schema.json at
v1.39.0) sits beside this file; every request and answer is checked against it. A duplicate
class is refused with 422, as Weaviate does; properties are added, never removed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.json_api import Answer, JsonApiFake, Route
from tests.fakes.openapi_contract import weaviate

VALID_KEY = "weaviate-fake-key-0123456789"


@dataclass
class WeaviateState:
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)
    """Objects stored per class (what a delete would lose)."""
    creates: int = 0


class FakeWeaviate(JsonApiFake):
    base_path = "/v1"
    invalid_status = 422  # Weaviate's answer to a body it cannot use

    def __init__(self) -> None:
        self.state = WeaviateState()
        super().__init__(weaviate())

    @property
    def url(self) -> str:
        return self.origin

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == f"Bearer {VALID_KEY}")

    def error(self, status: int, message: str, code: str = "") -> Answer:
        return status, {"error": [{"message": message}]}

    def routes(self) -> list[Route]:
        return [
            (r"/schema", "GET", self._dump),
            (r"/schema", "POST", self._create),
            (r"/schema/(?P<className>[^/]+)", "GET", self._get),
            (r"/schema/(?P<className>[^/]+)", "PUT", self._update),
            (r"/schema/(?P<className>[^/]+)", "DELETE", self._delete),
            (r"/schema/(?P<className>[^/]+)/properties", "POST", self._add_property),
        ]

    def _find(self, name: str) -> dict[str, Any] | None:
        """Class names are case-insensitive on their first letter in Weaviate; exact here."""
        return self.state.classes.get(name)

    def _dump(self, _body: Any) -> Answer:
        return 200, {"classes": [copy.deepcopy(c) for c in self.state.classes.values()]}

    def _create(self, body: Any) -> Answer:
        name = body["class"]
        if name in self.state.classes:
            return 422, {"error": [{"message": f'class name "{name}" already exists'}]}
        made = {
            "class": name,
            "description": body.get("description", ""),
            "vectorizer": body.get("vectorizer", "none"),
            "replicationConfig": {"factor": (body.get("replicationConfig") or {}).get("factor", 1)},
            "properties": [
                {**p, "tokenization": "word"} if p["dataType"][0].startswith("text") else dict(p)
                for p in body.get("properties") or []
            ],
        }
        self.state.classes[name] = made
        self.state.objects[name] = 0
        self.state.creates += 1
        self.dropped_create()
        return 200, copy.deepcopy(made)

    def _get(self, _body: Any, className: str) -> Answer:  # noqa: N803 — the document's name
        found = self._find(className)
        if found is None:
            return 404, None
        return 200, copy.deepcopy(found)

    def _update(self, body: Any, className: str) -> Answer:  # noqa: N803
        found = self._find(className)
        if found is None:
            return self.error(404, f"class {className} not found")
        if body.get("vectorizer", found["vectorizer"]) != found["vectorizer"]:
            return 422, {"error": [{"message": "vectorizer is immutable"}]}
        found["description"] = body.get("description", "")
        found["replicationConfig"] = dict(body.get("replicationConfig") or {"factor": 1})
        return 200, copy.deepcopy(found)

    def _delete(self, _body: Any, className: str) -> Answer:  # noqa: N803
        self.state.classes.pop(className, None)
        self.state.objects.pop(className, None)
        return 200, None

    def _add_property(self, body: Any, className: str) -> Answer:  # noqa: N803
        found = self._find(className)
        if found is None:  # the document gives this operation no 404
            return self.error(422, f"class {className} not found")
        if any(p["name"].lower() == body["name"].lower() for p in found["properties"]):
            return 422, {"error": [{"message": f"property {body['name']} already exists"}]}
        found["properties"].append(dict(body))
        return 200, dict(body)
