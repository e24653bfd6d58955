"""`WeaviateCollection`: a collection (class) on a Weaviate cluster given by URL.

Weaviate has no Pulumi provider on the registries this project installs from, so the
collection is a dynamic resource over the schema REST API. The name and the vectorizer fix a
collection (changing them replaces it); new properties are added in place, while removing a
property or changing its data type replaces the collection (Weaviate cannot). Deleting a
collection deletes its objects, so `deletion_protection` (on by default) keeps it: the
provider refuses and says how to turn it off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ..rest import ConflictError, DeletionProtectedError, RetryPolicy, ambiguous, create_once
from ..secret_inputs import secret_input, secret_outputs
from .weaviate_client import COLLECTION_NAME, WeaviateClient

WEAVIATE_COLLECTION_TYPE = "pulumi-python:dynamic/weaviate:Collection"


@dataclass(frozen=True)
class CollectionProperty:
    name: str
    data_type: str
    """A Weaviate data type: 'text', 'int', 'number', 'boolean', 'date', 'uuid', 'text[]', …"""
    description: str = ""

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "dataType": [self.data_type]}
        if self.description:
            body["description"] = self.description
        return body


def _properties(props: Mapping[str, Any]) -> dict[str, list[str]]:
    return {str(p["name"]): list(p["dataType"]) for p in props.get("properties") or []}


class WeaviateCollectionProvider(ResourceProvider):
    def __init__(self, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()

    def _client(self, props: Mapping[str, Any]) -> WeaviateClient:
        key = props.get("api_key")
        if not key:
            raise ValueError("no Weaviate API key: pass api_key (a secret)")
        return WeaviateClient(str(key), str(props["url"]), retry=self.retry)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        name = news.get("name")
        if isinstance(name, str) and not re.fullmatch(COLLECTION_NAME, name):
            failures.append(
                CheckFailure(
                    "name",
                    f"'{name}' is not a Weaviate collection name (a capital letter, then "
                    "letters, digits and '_')",
                )
            )
        url = news.get("url")
        if isinstance(url, str) and not re.match(r"^https?://", url):
            failures.append(CheckFailure("url", f"'{url}' is not an http(s) URL"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = str(props["name"])
        body = _class_body(props)
        with self._client(props) as client:

            def find() -> dict[str, Any] | None:
                found = client.get_collection(name)
                if found is not None:
                    _same_collection(found, props)
                    _add_missing_properties(client, name, found, props)
                return found

            create_once(
                f"Weaviate collection {name}",
                find,
                lambda: client.create_collection(body),
                is_ambiguous=lambda e: ambiguous(e) or isinstance(e, ConflictError),
            )
        return CreateResult(name, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client(props) as client:
            found = client.get_collection(id_)
        if found is None:
            return ReadResult(None, {})
        properties = [
            {"name": p["name"], "dataType": list(p["dataType"])}
            | ({"description": p["description"]} if p.get("description") else {})
            for p in found.get("properties") or []
        ]
        return ReadResult(id_, {**props, "properties": properties})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "url", "vectorizer") if olds.get(k) != news.get(k)]
        old_props, new_props = _properties(olds), _properties(news)
        if any(new_props.get(k) != v for k, v in old_props.items()):
            replaces.append("properties")  # a property removed or retyped
        updates = [
            k
            for k in ("description", "replication_factor", "deletion_protection", "owner")
            if olds.get(k) != news.get(k)
        ]
        if new_props.keys() - old_props.keys():
            updates.append("properties")
        if olds.get("api_key") != news.get("api_key"):
            updates.append("api_key")
        return DiffResult(
            changes=bool(replaces or updates), replaces=replaces, delete_before_replace=True
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name = str(news["name"])
        with self._client(news) as client:
            current = client.get_collection(name)
            if current is None:
                raise RuntimeError(f"Weaviate collection {name} is gone; `pulumi refresh` first")
            _add_missing_properties(client, name, current, news)
            if any(olds.get(k) != news.get(k) for k in ("description", "replication_factor")):
                current = client.get_collection(name) or current
                current["description"] = news.get("description") or ""
                current["replicationConfig"] = {
                    **(current.get("replicationConfig") or {}),
                    "factor": int(news["replication_factor"]),
                }
                client.update_collection(name, current)
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("deletion_protection"):
            raise DeletionProtectedError(
                f"Weaviate collection {id_} has deletion protection on and is kept (deleting "
                "it deletes its objects): set deletionProtection: false, `pulumi up`, then "
                "remove it"
            )
        with self._client(props) as client:
            client.delete_collection(id_)


def _class_body(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "class": props["name"],
        "description": props.get("description") or "",
        "vectorizer": props["vectorizer"],
        "replicationConfig": {"factor": int(props["replication_factor"])},
        "properties": list(props.get("properties") or []),
    }


def _same_collection(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """An existing collection of the name is adopted only where it can become the one asked
    for (same vectorizer, no property of another type)."""
    problems = []
    if found.get("vectorizer", "none") != wanted["vectorizer"]:
        problems.append(f"vectorizer {found.get('vectorizer')} (asked: {wanted['vectorizer']})")
    have = _properties(found)
    for name, data_type in _properties(wanted).items():
        if name in have and [t.lower() for t in have[name]] != [t.lower() for t in data_type]:
            problems.append(f"property {name} of type {have[name]} (asked: {data_type})")
    if problems:
        raise RuntimeError(
            f"a Weaviate collection named '{found.get('class')}' exists with "
            f"{', '.join(problems)}; choose another name or delete it"
        )


def _add_missing_properties(
    client: WeaviateClient, name: str, found: Mapping[str, Any], wanted: Mapping[str, Any]
) -> None:
    have = {str(p["name"]).lower() for p in found.get("properties") or []}
    for prop in wanted.get("properties") or []:
        if str(prop["name"]).lower() not in have:
            client.add_property(name, prop)


@dataclass(frozen=True)
class WeaviateCollectionArgs:
    name: str
    url: str
    """The Weaviate cluster's URL, e.g. 'https://sophia.weaviate.cloud'."""
    owner: str
    """The service that uses the collection (a policy requires one)."""
    properties: Sequence[CollectionProperty] = ()
    vectorizer: str = "none"
    """'none' (vectors come with the objects) or a module such as 'text2vec-openai'."""
    replication_factor: int = 1
    description: str = ""
    deletion_protection: bool = True
    api_key: pulumi.Input[str] | None = None
    """The cluster's API key (kept secret in state)."""


class WeaviateCollectionResource(pulumi.dynamic.Resource, module="weaviate", name="Collection"):
    def __init__(
        self,
        resource_name: str,
        args: WeaviateCollectionArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: WeaviateCollectionProvider | None = None,
    ) -> None:
        super().__init__(
            provider or WeaviateCollectionProvider(),
            resource_name,
            {
                "name": args.name,
                "url": args.url,
                "description": args.description,
                "vectorizer": args.vectorizer,
                "replication_factor": args.replication_factor,
                "properties": [p.to_api() for p in args.properties],
                "deletion_protection": args.deletion_protection,
                "owner": args.owner,
                "api_key": secret_input(args.api_key),
            },
            secret_outputs(opts, "api_key"),
        )


class WeaviateCollection(pulumi.ComponentResource):
    """One Weaviate collection, usable from any Python stack."""

    def __init__(
        self, name: str, args: WeaviateCollectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:data:WeaviateCollection", name, None, opts)
        self.collection_name: str = args.name
        WeaviateCollectionResource(
            f"{name}-collection", args, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"collectionName": args.name, "url": args.url})
