"""Editing `sophia.yaml` in place, safely: comments and key order kept, or nothing written.

An edit holds the file's lock (`.<name>.lock` beside it) from reading to writing, so two
edits at once (two `sophia scale`, two MCP calls) both land, one after the other. It is
applied to a ruamel round-trip tree; the new text must validate for the base and every stack
of the file, and every stack's preview must pass its mandatory policies. Only then is the
file replaced — atomically, through a symlink to its target, with its mode, owner and line
endings kept. Otherwise the file is left byte for byte as it was.
"""

from __future__ import annotations

import codecs
import copy
import fcntl
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from .offline.analyzer import PolicyPackError
from .offline.preview import PreviewResult, preview_spec
from .spec import InvalidSpecError, validate_document
from .spec.source import parse_document

Mutation = Callable[[Any], None]


class EditError(Exception):
    """The edit itself makes no sense (an unknown service, say)."""


@dataclass(frozen=True)
class EditOutcome:
    applied: bool
    message: str
    problems: list[str] = field(default_factory=list)
    preview: PreviewResult | None = None


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def service_node(tree: Any, name: str) -> Any:
    for node in tree.get("services") or []:
        if node.get("name") == name:
            return node
    known = ", ".join(str(n.get("name")) for n in tree.get("services") or [])
    raise EditError(f"no service '{name}' in the spec (services: {known})")


@contextmanager
def spec_lock(path: Path) -> Iterator[None]:
    """The spec's edit lock: every edit of one file, from any process or thread, in turn."""
    target = path.resolve()
    lock = target.with_name(f".{target.name}.lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


Description = str | Callable[[], str]
"""What the edit does, in the outcome's message; a callable is asked after the mutation (an
edit may learn what it did while making it)."""


def edit_spec(
    path: Path, mutate: Mutation, describe: Description, stack: str | None = None
) -> EditOutcome:
    with spec_lock(path):
        return _edit_locked(path, mutate, describe, stack)


def _edit_locked(
    path: Path, mutate: Mutation, description: Description, stack: str | None
) -> EditOutcome:
    raw = path.read_bytes()
    original = raw.decode("utf-8-sig")
    yaml = _round_trip()
    tree = yaml.load(original)
    try:
        mutate(tree)
    except EditError as problem:
        return EditOutcome(False, f"not applied: {problem}")
    describe = description() if callable(description) else description
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    text = buffer.getvalue()
    try:
        document = parse_document(text, str(path))
        every = validate_document(document, path, None)  # the base and every stack
        chosen = stack or every.platform.default_stack
        stacks = list(every.platform.stacks) or [chosen]
        results = {s: preview_spec(validate_document(document, path, s), s) for s in stacks}
    except InvalidSpecError as invalid:
        return EditOutcome(
            False,
            f"not applied: {describe} makes the spec invalid",
            [str(e) for e in invalid.errors],
        )
    except PolicyPackError as problem:
        return EditOutcome(False, f"not applied: {problem}")
    result = results.get(chosen) or next(iter(results.values()))
    several = len(results) > 1
    broken = [
        f"{f'stack {name}: ' if several else ''}{d.policy_name}: {d.message}"
        for name, r in results.items()
        for d in r.mandatory
    ]
    if broken:
        return EditOutcome(
            False, f"not applied: {describe} breaks mandatory policies", broken, result
        )
    replace_keeping_attributes(path, _like(raw, text))
    return EditOutcome(True, f"applied: {describe}", preview=result)


def _like(original: bytes, text: str) -> bytes:
    """`text` encoded as the original was: its line endings and byte-order mark."""
    if b"\r\n" in original:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    encoded = text.encode("utf-8")
    return codecs.BOM_UTF8 + encoded if original.startswith(codecs.BOM_UTF8) else encoded


def replace_keeping_attributes(path: Path, data: bytes) -> None:
    """Atomically replace the file `path` names (through a symlink, to its target), keeping
    its mode and owner; the new bytes reach the disk before the name moves."""
    target = path.resolve()
    before = target.stat()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(before.st_mode))
        with suppress(PermissionError):  # only root may give a file to someone else
            os.chown(temporary, before.st_uid, before.st_gid)
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def scale(path: Path, service: str, replicas: int, stack: str | None = None) -> EditOutcome:
    """Set a service's pod count. Under an HPA, which owns `replicas`, the count becomes its
    minimum (the maximum raised to it where lower): writing `replicas` would change nothing."""
    described = f"{service} replicas → {replicas}"

    def mutate(tree: Any) -> None:
        nonlocal described
        node = service_node(tree, service)
        hpa = node.get("autoscaling")
        if hpa is None:
            node["replicas"] = replicas
            return
        hpa["min"] = replicas
        if int(hpa.get("max", replicas)) < replicas:
            hpa["max"] = replicas
        if "replicas" in node:
            node["replicas"] = replicas  # the count before the HPA acts: within its range
        described = (
            f"{service} is autoscaled (an HPA owns its replicas): autoscaling min → {replicas}, "
            f"max → {hpa['max']}"
        )

    return edit_spec(path, mutate, lambda: described, stack)


def set_image(path: Path, service: str, image: str, stack: str | None = None) -> EditOutcome:
    def mutate(tree: Any) -> None:
        service_node(tree, service)["image"] = image

    return edit_spec(path, mutate, f"{service} image → {image}", stack)


def add_stack(path: Path, stack: str) -> EditOutcome:
    """Add `stacks.<stack>: {}` (the base as it is) to the spec, checked like any edit."""

    def mutate(tree: Any) -> None:
        stacks = tree.get("stacks")
        if stacks is None:
            tree["stacks"] = stacks = {}
        if stack in stacks:
            raise EditError(f"the spec already has a stack '{stack}'")
        stacks[stack] = {}

    return edit_spec(path, mutate, f"stack {stack} added", stack)


def add_credential_keys(path: Path, keys: dict[str, list[str]]) -> EditOutcome:
    """Add keys to credential groups (`sophia secrets export --adopt`), checked like any edit."""

    def mutate(tree: Any) -> None:
        groups = (tree.get("secrets") or {}).get("groups") or {}
        for group, names in keys.items():
            if group not in groups:
                raise EditError(f"the spec has no credential group '{group}'")
            listed = groups[group].setdefault("keys", [])
            listed.extend(n for n in names if n not in listed)

    added = ", ".join(f"{g}: {', '.join(n)}" for g, n in sorted(keys.items()))
    return edit_spec(path, mutate, f"credential keys added ({added})")


def _host_node(tree: Any, name: str) -> Any:
    for node in tree.get("hosts") or []:
        if node.get("name") == name:
            return node
    raise EditError(f"the spec has no host '{name}'")


def add_host(
    path: Path, name: str, instance_type: str, region: str | None = None, stack: str | None = None
) -> EditOutcome:
    """A new k3s agent host, set up like the server host (SSH key, k3s release, the file
    systems of its region) unless told otherwise."""

    def mutate(tree: Any) -> None:
        hosts = tree.get("hosts")
        if not hosts:
            raise EditError("the spec has no hosts to join (add the first one by hand)")
        if any(h.get("name") == name for h in hosts):
            raise EditError(f"the spec already has a host '{name}'")
        cluster = tree.get("cluster") or {}
        server = next((h for h in hosts if h.get("name") == cluster.get("server")), hosts[0])
        node = CommentedMap()
        node["name"] = name
        node["instanceType"] = instance_type
        node["region"] = region or server["region"]
        for key in ("sshKeys", "k3sVersion", "fileSystems"):
            if key in server and (key != "fileSystems" or node["region"] == server["region"]):
                node[key] = copy.deepcopy(server[key])
        hosts.append(node)

    return edit_spec(path, mutate, f"host {name} ({instance_type}) added", stack)


def resize_host(path: Path, name: str, instance_type: str, stack: str | None = None) -> EditOutcome:
    """Another instance type for a host (Lambda replaces the instance: a new one boots)."""

    def mutate(tree: Any) -> None:
        _host_node(tree, name)["instanceType"] = instance_type

    return edit_spec(path, mutate, f"host {name} → {instance_type}", stack)


def remove_host(path: Path, name: str, stack: str | None = None) -> EditOutcome:
    """Drop a k3s agent host; services pinned to it lose the pin (the preview then says
    whether their pods still fit). The k3s server cannot be removed this way."""

    def mutate(tree: Any) -> None:
        hosts = tree.get("hosts") or []
        cluster = tree.get("cluster") or {}
        server = cluster.get("server") or (hosts[0].get("name") if hosts else None)
        if name == server:
            raise EditError(f"'{name}' runs the k3s server: removing it tears the cluster down")
        hosts.remove(_host_node(tree, name))
        for service in tree.get("services") or []:
            if service.get("host") == name:
                del service["host"]

    return edit_spec(path, mutate, f"host {name} removed", stack)


def set_budget(path: Path, monthly_usd: float, stack: str | None = None) -> EditOutcome:
    """The monthly budget of `stack` where the spec overrides it there, else the base one."""
    where = "budget"

    def mutate(tree: Any) -> None:
        nonlocal where
        stacks = tree.get("stacks") or {}
        override = stacks.get(stack) if stack else None
        if override is not None and "budget" in override:
            override["budget"]["monthlyUsd"] = monthly_usd
            where = f"stacks.{stack}.budget"
        else:
            tree["budget"]["monthlyUsd"] = monthly_usd

    return edit_spec(path, mutate, lambda: f"{where}.monthlyUsd → {monthly_usd:g}", stack)


@dataclass(frozen=True)
class NewIndex:
    """A Pinecone index to add (serverless), and the service that owns and uses it."""

    name: str
    owner: str
    dimension: int
    metric: str = "cosine"
    cloud: str = "aws"
    region: str = "us-east-1"
    description: str = ""
    read_units_per_month: float = 0
    write_units_per_month: float = 0
    storage_gb: float = 1


def _number(value: float) -> float | int:
    """2000000 rather than 2000000.0 in the file."""
    return int(value) if float(value).is_integer() else value


def add_pinecone_index(path: Path, index: NewIndex, stack: str | None = None) -> EditOutcome:
    """A serverless Pinecone index owned by a service, which also gets its host (deletion
    protection on). The spec must already sign in to Pinecone (`dataServices.pinecone`)."""

    def mutate(tree: Any) -> None:
        pinecone = (tree.get("dataServices") or {}).get("pinecone")
        if pinecone is None:
            raise EditError(
                "the spec has no dataServices.pinecone section (which credential group holds "
                "PINECONE_API_KEY is for a person to say)"
            )
        if "indexes" not in pinecone:
            pinecone["indexes"] = []
        if any(i.get("name") == index.name for i in pinecone["indexes"]):
            raise EditError(f"the spec already has a Pinecone index '{index.name}'")
        owner = service_node(tree, index.owner)
        node = CommentedMap()
        node["name"] = index.name
        node["owner"] = index.owner
        if index.description:
            node["description"] = index.description
        node["dimension"] = index.dimension
        node["metric"] = index.metric
        node["serverless"] = CommentedMap(cloud=index.cloud, region=index.region)
        node["serverless"].fa.set_flow_style()
        node["deletionProtection"] = True
        usage = CommentedMap(
            readUnitsPerMonth=_number(index.read_units_per_month),
            writeUnitsPerMonth=_number(index.write_units_per_month),
            storageGb=_number(index.storage_gb),
        )
        usage.fa.set_flow_style()
        node["usage"] = usage
        pinecone["indexes"].append(node)
        uses = owner.setdefault("dataServices", CommentedMap())
        uses.setdefault("pinecone", []).append(index.name)

    return edit_spec(
        path,
        mutate,
        f"Pinecone index {index.name} ({index.dimension}-d, {index.metric}) added for "
        f"{index.owner}",
        stack,
    )
