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
