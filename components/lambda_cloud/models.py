"""Typed views of the API's payloads; unknown fields are ignored, optional ones tolerated.

A payload without a required field, or with one of the wrong type, raises
`MalformedResponseError` naming what is wrong — never a bare KeyError or AttributeError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..catalog import InstanceType, architecture_of, gpu_memory_of
from .errors import MalformedResponseError

T = TypeVar("T")


def parse(kind: str, data: Any, build: Callable[[Any], T]) -> T:
    """`build(data)`, or a typed error saying which payload could not be read and why."""
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedResponseError(
            200, f"{kind} in the answer cannot be read ({type(exc).__name__}: {exc})"
        ) from None


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    name: str | None
    status: str
    ip: str | None
    private_ip: str | None
    region: str
    instance_type: str
    gpus: int
    price_cents_per_hour: int
    ssh_key_names: tuple[str, ...]
    file_system_names: tuple[str, ...]

    @property
    def is_gone(self) -> bool:
        return self.status in ("terminating", "terminated")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Instance:
        itype = data.get("instance_type") or {}
        specs = itype.get("specs") or {}
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            status=str(data.get("status", "unknown")),
            ip=data.get("ip"),
            private_ip=data.get("private_ip"),
            region=str((data.get("region") or {}).get("name", "")),
            instance_type=str(itype.get("name", "")),
            gpus=int(specs.get("gpus", 0)),
            price_cents_per_hour=int(itype.get("price_cents_per_hour", 0)),
            ssh_key_names=tuple(data.get("ssh_key_names") or ()),
            file_system_names=tuple(data.get("file_system_names") or ()),
        )


@dataclass(frozen=True, slots=True)
class InstanceTypeOffer:
    """An instance type and the regions that have capacity for it right now."""

    instance_type: InstanceType
    regions_with_capacity: tuple[str, ...]

    @classmethod
    def from_api(cls, name: str, data: dict[str, Any]) -> InstanceTypeOffer:
        itype = data.get("instance_type") or {}
        specs = itype.get("specs") or {}
        return cls(
            InstanceType(
                name=str(itype.get("name", name)),
                description=str(itype.get("description", "")),
                gpu_description=str(itype.get("gpu_description", "")),
                gpus=int(specs.get("gpus", 0)),
                vcpus=int(specs.get("vcpus", 0)),
                memory_gib=int(specs.get("memory_gib", 0)),
                storage_gib=int(specs.get("storage_gib", 0)),
                price_cents_per_hour=int(itype.get("price_cents_per_hour", 0)),
                architecture=architecture_of(str(itype.get("name", name))),
                gpu_memory_gib=gpu_memory_of(str(itype.get("gpu_description", ""))),
            ),
            tuple(r["name"] for r in data.get("regions_with_capacity_available") or ()),
        )


@dataclass(frozen=True, slots=True)
class SshKey:
    id: str
    name: str
    public_key: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> SshKey:
        return cls(str(data["id"]), str(data["name"]), str(data.get("public_key", "")))


@dataclass(frozen=True, slots=True)
class FileSystem:
    """A Lambda persistent file system: NFS storage in one region, mounted by instances at
    `mount_point` (by default `/lambda/nfs/<name>`)."""

    id: str
    name: str
    region: str
    mount_point: str
    is_in_use: bool

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FileSystem:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            region=str(data["region"]["name"]),
            mount_point=str(data["mount_point"]),
            is_in_use=bool(data.get("is_in_use", False)),
        )


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """One inbound rule: `protocol` traffic to ports `port_range` (inclusive) from
    `source_network` (CIDR). `icmp` takes no port range."""

    protocol: str
    source_network: str
    description: str
    port_range: tuple[int, int] | None = None

    def to_api(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "protocol": self.protocol,
            "source_network": self.source_network,
            "description": self.description,
        }
        if self.port_range is not None:
            rule["port_range"] = list(self.port_range)
        return rule

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FirewallRule:
        ports = data.get("port_range")
        return cls(
            protocol=str(data["protocol"]),
            source_network=str(data["source_network"]),
            description=str(data.get("description", "")),
            port_range=(int(ports[0]), int(ports[1])) if ports else None,
        )


@dataclass(frozen=True, slots=True)
class FirewallRuleset:
    """Rules of one region, attached to instances at launch (`firewall_rulesets`)."""

    id: str
    name: str
    region: str
    rules: tuple[FirewallRule, ...]
    instance_ids: tuple[str, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FirewallRuleset:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            region=str(data["region"]["name"]),
            rules=tuple(FirewallRule.from_api(r) for r in data["rules"]),
            instance_ids=tuple(str(i) for i in data.get("instance_ids") or ()),
        )
