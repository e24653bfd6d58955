"""What `pulumi up` would do to each resource, from two recorded runs: create, update, replace
(and whether the old one goes first), delete — the way each provider decides it.

- Kubernetes: a change to a field pulumi-kubernetes declares replace-on-change (its
  `forceNewProperties`, provider/pkg/provider/diff.go, v4.32) replaces the object; a fixed
  `metadata.name` makes that delete-before-replace (two objects cannot share a name).
- pulumi-command: `triggers` replace a command (`replaceOnChanges`), anything else updates it.
- The project's dynamic providers (Lambda, ESC): their own `diff`, run on the recorded inputs.

A replacement that takes down the k3s server, a namespace, stored data or credentials is a
warning the report and the PR comment show loudly.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import dill

from components.lambda_cloud.resources import INSTANCE_TYPE
from components.lambda_cloud.storage import FILE_SYSTEM_TYPE

from .runner import RecordedResource, unwrap_secrets

Operation = Literal["create", "update", "replace", "delete"]
DYNAMIC_PREFIX = "pulumi-python:dynamic"
COMMAND_TYPE = "command:remote:Command"
LAMBDA_INSTANCE = INSTANCE_TYPE
ESC_ENVIRONMENT = "pulumi-python:dynamic/esc:Environment"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"

_SELECTOR = ("spec", "selector")
# (group/version, kind) → fields whose change replaces the object (besides metadata.name and
# metadata.namespace), as pulumi-kubernetes declares them.
_FORCE_NEW: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("apps/v1", "Deployment"): (_SELECTOR,),
    ("apps/v1", "DaemonSet"): (_SELECTOR,),
    ("apps/v1", "StatefulSet"): (
        _SELECTOR,
        ("spec", "podManagementPolicy"),
        ("spec", "revisionHistoryLimit"),
        ("spec", "serviceName"),
        ("spec", "volumeClaimTemplates"),
    ),
    ("batch/v1", "Job"): (
        _SELECTOR,
        ("spec", "completions"),
        ("spec", "parallelism"),
        ("spec", "template"),
    ),
    ("core/v1", "Service"): (("spec", "clusterIP"),),
    ("core/v1", "PersistentVolumeClaim"): (
        ("spec", "accessModes"),
        _SELECTOR,
        ("spec", "storageClassName"),
        ("spec", "volumeName"),
    ),
    ("core/v1", "ResourceQuota"): (("spec", "scopes"),),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (("roleRef",),),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): (("roleRef",),),
    ("storage.k8s.io/v1", "StorageClass"): (("parameters",), ("provisioner",)),
}
_METADATA_IDENTITY = (("metadata", "name"), ("metadata", "namespace"))
_STATEFUL_KUBERNETES = {
    "kubernetes:core/v1:Namespace": "deletes the namespace and everything in it",
    "kubernetes:core/v1:PersistentVolumeClaim": "deletes the volume and its data",
    "kubernetes:apps/v1:StatefulSet": "restarts every replica of a stateful set",
}


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    operation: Operation
    delete_before_replace: bool = False
    fields: tuple[str, ...] = ()
    """The inputs that changed; for a replacement, the ones that force it."""
    warning: str | None = None
    """Why this change deserves a reviewer's attention (a teardown of something stateful)."""

    @property
    def marker(self) -> str:
        if self.operation == "replace":
            return "-/+" if self.delete_before_replace else "+/-"
        return {"create": "+", "update": "~", "delete": "-"}[self.operation]


@dataclass(frozen=True)
class Plan:
    changes: list[Change] = field(default_factory=list)

    def of(self, operation: Operation) -> list[Change]:
        return [c for c in self.changes if c.operation == operation]

    @property
    def warnings(self) -> list[Change]:
        return [c for c in self.changes if c.warning]

    def counts(self) -> dict[str, int]:
        return {op: len(self.of(op)) for op in ("create", "update", "replace", "delete")}


def plan_changes(
    before: Sequence[RecordedResource],
    after: Sequence[RecordedResource],
    server_instances: Iterable[str] = (),
) -> Plan:
    """Changes from `before` to `after`; `server_instances`: URNs of the k3s servers' instances."""
    servers = set(server_instances)
    old = {r.urn: r for r in before if r.custom}
    new = {r.urn: r for r in after if r.custom}
    providers = {r.urn: r for r in (*before, *after) if r.type.startswith("pulumi:providers:")}
    changes = []
    for urn, resource in new.items():
        if urn not in old:
            changes.append(Change(urn, resource.type, resource.name, "create"))
            continue
        change = _diff(old[urn], resource, providers)
        if change is not None:
            changes.append(_with_warning(change, servers, resource.retain_on_delete))
    for urn, resource in old.items():
        if urn not in new:
            deletion = Change(urn, resource.type, resource.name, "delete")
            changes.append(_with_warning(deletion, servers, resource.retain_on_delete))
    return Plan(changes)


def _inputs(resource: RecordedResource) -> dict[str, Any]:
    return {k: v for k, v in resource.properties.items() if not k.startswith("__")}


def _diff(
    before: RecordedResource, after: RecordedResource, providers: Mapping[str, RecordedResource]
) -> Change | None:
    olds, news = _inputs(before), _inputs(after)
    changed = _changed_paths(olds, news)
    if not changed:
        return None
    base = Change(after.urn, after.type, after.name, "update", fields=tuple(changed))
    if after.type.startswith("kubernetes:"):
        return _kubernetes(base, olds, news, changed, providers.get(_provider_urn(after)))
    if after.type == COMMAND_TYPE:
        if "triggers" in {c.split(".")[0] for c in changed}:
            return _replace(base, ("triggers",), delete_first=False)
        return base
    if after.type.startswith(DYNAMIC_PREFIX):
        return _dynamic(base, before, after)
    return base


def _kubernetes(
    base: Change,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    changed: list[str],
    provider: RecordedResource | None,
) -> Change:
    _, _, token = base.type.partition(":")
    group_version, _, kind = token.rpartition(":")
    force_new: list[tuple[str, ...]] = [
        *_METADATA_IDENTITY,
        *_FORCE_NEW.get((group_version, kind), ()),
    ]
    settings = _inputs(provider) if provider else {}
    if kind == "Secret" and not _truthy(settings.get("enableSecretMutable")):
        force_new += [("type",), ("data",), ("stringData",)]
    elif kind == "Secret":
        force_new.append(("type",))
    if kind == "ConfigMap" and not _truthy(settings.get("enableConfigMapMutable")):
        force_new += [("data",), ("binaryData",)]
    forcing = tuple(
        path for path in changed if any(path.split(".")[: len(f)] == list(f) for f in force_new)
    )
    if not forcing:
        return base
    named = bool((news.get("metadata") or {}).get("name")) or bool(
        (olds.get("metadata") or {}).get("name")
    )
    return _replace(base, forcing, delete_first=named)


def _dynamic(base: Change, before: RecordedResource, after: RecordedResource) -> Change | None:
    """The provider's own diff on the recorded inputs (what the engine would ask it)."""
    serialized = unwrap_secrets(after.properties.get("__provider"))  # a secret on the wire
    if not isinstance(serialized, str):
        return base
    provider = dill.loads(base64.b64decode(serialized))
    olds = unwrap_secrets(before.properties)
    news = unwrap_secrets(after.properties)
    result = provider.diff(f"{before.name}-id", olds, news)
    if result.changes is False:
        return None
    if result.replaces:
        return _replace(base, tuple(result.replaces), bool(result.delete_before_replace))
    return base


def _replace(base: Change, forcing: tuple[str, ...], delete_first: bool) -> Change:
    return Change(base.urn, base.type, base.name, "replace", delete_first, forcing, None)


def _with_warning(change: Change, servers: set[str], retained: bool = False) -> Change:
    """`retained`: the resource is kept in the cloud on delete (`retain_on_delete`)."""
    if change.operation not in ("replace", "delete"):
        return change
    verb = "replaces" if change.operation == "replace" else "deletes"
    warning = None
    if change.urn in servers:
        warning = (
            f"{verb} the k3s server's Lambda instance: the whole cluster, its state and every "
            "workload on it are torn down"
        )
    elif change.type == LAMBDA_INSTANCE:
        warning = f"{verb} a Lambda instance: the node and its local disk are lost"
    elif change.type == FILE_SYSTEM_TYPE and not retained:
        warning = f"{verb} a Lambda persistent file system: the data on it is deleted"
    elif change.type == ESC_ENVIRONMENT:
        warning = f"{verb} an ESC environment (credentials)"
    elif change.type in _STATEFUL_KUBERNETES:
        warning = f"{verb} {change.name}: {_STATEFUL_KUBERNETES[change.type]}"
    if warning is None:
        return change
    return Change(
        change.urn,
        change.type,
        change.name,
        change.operation,
        change.delete_before_replace,
        change.fields,
        warning,
    )


def _provider_urn(resource: RecordedResource) -> str:
    return resource.provider.rpartition("::")[0] if resource.provider else ""


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves (or whole lists) that differ; secrets compared by value."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        paths = []
        for key in sorted({*old, *new}):
            paths += _changed_paths(old.get(key), new.get(key), f"{prefix}{key}.")
        return paths
    if _canonical(old) != _canonical(new):
        return [prefix.rstrip(".") or "(value)"]
    return []


def _canonical(value: Any) -> str:
    return json.dumps(unwrap_secrets(value), sort_keys=True, default=str)
