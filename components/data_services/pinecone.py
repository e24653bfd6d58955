"""`PineconeIndex`: a Pinecone vector index, made exactly once by name, guarded on delete.

Pinecone has no Pulumi provider on the registries this project installs from, so the index
is a dynamic resource over the control-plane REST API. Immutable settings (dimension, metric,
cloud and region, pod environment) replace the index; deletion protection, tags, pod type and
replicas are changed in place. An index with deletion protection on is never deleted: the
provider refuses before asking, and says how to turn it off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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
from .pinecone_client import INDEX_NAME, PineconeClient, PineconeIndexModel

PINECONE_INDEX_TYPE = "pulumi-python:dynamic/pinecone:Index"
OWNER_TAG = "owner"
Metric = Literal["cosine", "euclidean", "dotproduct"]
_REPLACED = ("name", "dimension", "metric", "vector_type")
_UPDATED = ("deletion_protection", "tags", "api_key", "api_base")


@dataclass(frozen=True)
class ReadyWait:
    """How long a new index may take to become Ready."""

    poll_seconds: float = 5.0
    timeout_seconds: float = 600.0


def _placement(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a spec that fix where the index lives (changing them replaces it)."""
    if "serverless" in spec:
        s = spec["serverless"]
        return {"serverless": {"cloud": s.get("cloud"), "region": s.get("region")}}
    pod = spec.get("pod") or {}
    return {"pod": {"environment": pod.get("environment"), "shards": pod.get("shards", 1)}}


def _scaling(spec: Mapping[str, Any]) -> dict[str, Any]:
    pod = spec.get("pod")
    return {"pod_type": pod.get("pod_type"), "replicas": pod.get("replicas", 1)} if pod else {}


class PineconeIndexProvider(ResourceProvider):
    def __init__(self, retry: RetryPolicy | None = None, wait: ReadyWait | None = None) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()
        self.wait = wait or ReadyWait()

    def _client(self, props: Mapping[str, Any]) -> PineconeClient:
        key = props.get("api_key")
        if not key:
            raise ValueError("no Pinecone API key: pass api_key (PINECONE_API_KEY, a secret)")
        return PineconeClient(str(key), props.get("api_base") or None, retry=self.retry)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        name = news.get("name")
        if isinstance(name, str) and not re.fullmatch(INDEX_NAME, name):
            failures.append(
                CheckFailure(
                    "name",
                    f"'{name}' is not a Pinecone index name (1-45 lower-case letters, digits "
                    "and '-', starting and ending with a letter or digit)",
                )
            )
        dimension = news.get("dimension")
        if isinstance(dimension, int | float) and not 1 <= dimension <= 20000:
            failures.append(CheckFailure("dimension", f"{dimension} is not within 1..20000"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = str(props["name"])
        body = _create_body(props)
        with self._client(props) as client:

            def find() -> PineconeIndexModel | None:
                found = client.describe_index(name)
                if found is not None:
                    _same_index(found, body)
                return found

            create_once(
                f"Pinecone index {name}",
                find,
                lambda: client.create_index(body),
                is_ambiguous=lambda e: ambiguous(e) or isinstance(e, ConflictError),
            )
            ready = self._until_ready(client, name)
        return CreateResult(name, _outputs(props, ready))

    def _until_ready(self, client: PineconeClient, name: str) -> PineconeIndexModel:
        deadline = time.monotonic() + self.wait.timeout_seconds
        while True:
            index = client.describe_index(name)
            if index is None:
                raise RuntimeError(f"Pinecone index {name} disappeared while it was initialising")
            if index.ready:
                return index
            if index.state == "InitializationFailed":
                raise RuntimeError(f"Pinecone index {name} failed to initialise")
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Pinecone index {name} not Ready after {self.wait.timeout_seconds:g} s "
                    f"(state {index.state}); `pulumi up` again waits for it"
                )
            time.sleep(self.wait.poll_seconds)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client(props) as client:
            index = client.describe_index(id_)
        if index is None:
            return ReadResult(None, {})
        return ReadResult(id_, _outputs(props, index))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _REPLACED if olds.get(k) != news.get(k)]
        old_spec, new_spec = olds.get("spec") or {}, news.get("spec") or {}
        if _placement(old_spec) != _placement(new_spec):
            replaces.append("spec")
        updates = [k for k in _UPDATED if olds.get(k) != news.get(k)]
        if _scaling(old_spec) != _scaling(new_spec) and "spec" not in replaces:
            updates.append("spec")
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            # A name is unique in a project: the old index goes before its replacement comes.
            delete_before_replace=True,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        body: dict[str, Any] = {}
        if olds.get("deletion_protection") != news.get("deletion_protection"):
            body["deletion_protection"] = news["deletion_protection"]
        old_tags, new_tags = olds.get("tags") or {}, news.get("tags") or {}
        if old_tags != new_tags:
            # A tag is removed by setting it to "" (ConfigureIndexRequest).
            body["tags"] = {**dict.fromkeys(old_tags, ""), **new_tags}
        scaling = _scaling(news.get("spec") or {})
        if scaling and scaling != _scaling(olds.get("spec") or {}):
            body["spec"] = {"pod": scaling}
        with self._client(news) as client:
            index = (
                client.configure_index(str(news["name"]), body)
                if body
                else client.describe_index(str(news["name"]))
            )
        if index is None:
            raise RuntimeError(f"Pinecone index {news['name']} is gone; `pulumi refresh` first")
        return UpdateResult(_outputs(news, index))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("deletion_protection") == "enabled":
            raise DeletionProtectedError(
                f"Pinecone index {id_} has deletion protection on and is kept: set "
                "deletionProtection: false, `pulumi up`, then remove it"
            )
        with self._client(props) as client:
            client.delete_index(id_)


def _create_body(props: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": props["name"],
        "metric": props["metric"],
        "spec": props["spec"],
        "deletion_protection": props["deletion_protection"],
        "vector_type": props.get("vector_type") or "dense",
    }
    if props.get("dimension") is not None:
        body["dimension"] = int(props["dimension"])
    if props.get("tags"):
        body["tags"] = dict(props["tags"])
    return body


def _same_index(found: PineconeIndexModel, wanted: Mapping[str, Any]) -> None:
    """An existing index of the name is adopted only if it is the one asked for."""
    differences = [
        f"{what} {have} (asked: {want})"
        for what, have, want in (
            ("dimension", found.dimension, wanted.get("dimension")),
            ("metric", found.metric, wanted["metric"]),
            ("placement", _placement(found.spec), _placement(wanted["spec"])),
        )
        if have != want
    ]
    if differences:
        raise RuntimeError(
            f"a Pinecone index named '{found.name}' exists with {', '.join(differences)}: "
            "index names are unique in a project; choose another name or delete it"
        )


def _outputs(props: Mapping[str, Any], index: PineconeIndexModel) -> dict[str, Any]:
    return {**props, "host": index.host, "state": index.state}


@dataclass(frozen=True)
class PineconeIndexArgs:
    """A serverless index (`cloud`, `region`) or a pod-based one (`pod_environment`, …)."""

    name: str
    dimension: int
    owner: str
    """The service that uses the index (tagged `owner`; a policy requires one)."""
    metric: Metric = "cosine"
    cloud: str | None = "aws"
    region: str | None = "us-east-1"
    pod_environment: str | None = None
    pod_type: str = "p1.x1"
    replicas: int = 1
    deletion_protection: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    api_key: pulumi.Input[str] | None = None
    """PINECONE_API_KEY (kept secret in state)."""
    api_base: str | None = None

    def spec(self) -> dict[str, Any]:
        if self.pod_environment:
            return {
                "pod": {
                    "environment": self.pod_environment,
                    "pod_type": self.pod_type,
                    "replicas": self.replicas,
                    "shards": 1,
                    "pods": self.replicas,
                }
            }
        return {"serverless": {"cloud": self.cloud, "region": self.region}}


class PineconeIndexResource(pulumi.dynamic.Resource, module="pinecone", name="Index"):
    host: pulumi.Output[str]
    """The index's data-plane host (what a service connects to)."""

    def __init__(
        self,
        resource_name: str,
        args: PineconeIndexArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: PineconeIndexProvider | None = None,
    ) -> None:
        super().__init__(
            provider or PineconeIndexProvider(),
            resource_name,
            {
                "name": args.name,
                "dimension": args.dimension,
                "metric": args.metric,
                "vector_type": "dense",
                "spec": args.spec(),
                "deletion_protection": "enabled" if args.deletion_protection else "disabled",
                "tags": {**args.tags, OWNER_TAG: args.owner},
                "owner": args.owner,
                "api_key": secret_input(args.api_key),
                "api_base": args.api_base,
                "host": None,
                "state": None,
            },
            secret_outputs(opts, "api_key"),
        )


class PineconeIndex(pulumi.ComponentResource):
    """One Pinecone index and its connection details, usable from any Python stack."""

    def __init__(
        self, name: str, args: PineconeIndexArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:data:PineconeIndex", name, None, opts)
        self.index_name: str = args.name
        index = PineconeIndexResource(
            f"{name}-index", args, opts=pulumi.ResourceOptions(parent=self)
        )
        self.host: pulumi.Output[str] = index.host
        self.register_outputs({"host": self.host, "indexName": args.name})
