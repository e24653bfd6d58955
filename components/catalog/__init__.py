"""Lambda Cloud instance types: GPUs, size and price, from a dated data file.

Prices change often, so nothing here is hard-coded: the figures live in
``instance_types.json`` with the date they were taken, and ``sophia catalog refresh``
rebuilds that file from the API. Cost estimates and policies read this module only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HOURS_PER_MONTH = 730
"""The cloud industry's monthly convention (24 × 365 / 12)."""

DATA_FILE = Path(__file__).with_name("instance_types.json")

_GPU_PREFIX = re.compile(r"^gpu_(?P<count>\d+)x_(?P<model>.+)$")
_INTERCONNECT_SUFFIX = re.compile(r"_(sxm\d|pcie)$")


def architecture_of(instance_type_name: str) -> str:
    """The CPU architecture of a Lambda instance type: GH200 hosts are arm64 (Grace CPUs); the
    API's instance-types answer does not say, so `sophia catalog refresh` applies this rule."""
    return "arm64" if "gh200" in instance_type_name else "x86_64"


def gpu_memory_of(gpu_description: str) -> int:
    """GiB of one GPU from Lambda's description ('A10 (24 GB PCIe)' → 24)."""
    match = re.search(r"\((\d+) GB", gpu_description)
    return int(match.group(1)) if match else 0


def gpu_type_of(instance_type_name: str) -> str:
    """The short GPU model used for node labels (``gpu_8x_a100_80gb_sxm4`` → ``a100-80gb``).

    Interconnect suffixes are dropped: a pod asks for an H100, not for a form factor.
    """
    match = _GPU_PREFIX.match(instance_type_name)
    model = match.group("model") if match else instance_type_name
    return _INTERCONNECT_SUFFIX.sub("", model).replace("_", "-")


@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    description: str
    gpu_description: str
    gpus: int
    vcpus: int
    memory_gib: int
    storage_gib: int
    price_cents_per_hour: int
    architecture: str = "x86_64"
    """'x86_64' or 'arm64' (GH200): the platform of the images the host can run."""
    gpu_memory_gib: int = 0
    """Memory of one GPU."""

    @property
    def gpu_type(self) -> str:
        return gpu_type_of(self.name)

    @property
    def price_usd_per_hour(self) -> float:
        return self.price_cents_per_hour / 100

    def monthly_usd(self, hours_per_month: float = HOURS_PER_MONTH) -> float:
        return round(self.price_usd_per_hour * hours_per_month, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "gpuDescription": self.gpu_description,
            "gpus": self.gpus,
            "vcpus": self.vcpus,
            "memoryGib": self.memory_gib,
            "storageGib": self.storage_gib,
            "priceCentsPerHour": self.price_cents_per_hour,
            "architecture": self.architecture,
            "gpuMemoryGib": self.gpu_memory_gib,
        }

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> InstanceType:
        return cls(
            name=name,
            description=str(data["description"]),
            gpu_description=str(data["gpuDescription"]),
            gpus=int(data["gpus"]),
            vcpus=int(data["vcpus"]),
            memory_gib=int(data["memoryGib"]),
            storage_gib=int(data["storageGib"]),
            price_cents_per_hour=int(data["priceCentsPerHour"]),
            architecture=str(data.get("architecture", "x86_64")),
            gpu_memory_gib=int(data.get("gpuMemoryGib", 0)),
        )


@dataclass(frozen=True)
class Catalog:
    taken_at: str
    source: str
    regions: tuple[str, ...]
    instance_types: Mapping[str, InstanceType]

    def __iter__(self) -> Iterator[InstanceType]:
        return iter(self.instance_types.values())

    def __contains__(self, name: object) -> bool:
        return name in self.instance_types

    def get(self, name: str) -> InstanceType | None:
        return self.instance_types.get(name)

    def gpu_types(self) -> set[str]:
        return {t.gpu_type for t in self}

    def to_json(self) -> dict[str, Any]:
        return {
            "takenAt": self.taken_at,
            "source": self.source,
            "regions": list(self.regions),
            "instanceTypes": {t.name: t.to_json() for t in self},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        types = {
            name: InstanceType.from_json(name, entry)
            for name, entry in sorted(data["instanceTypes"].items())
        }
        return cls(
            taken_at=str(data["takenAt"]),
            source=str(data["source"]),
            regions=tuple(data.get("regions", ())),
            instance_types=types,
        )


def catalog_from_api(
    instance_types: Iterable[InstanceType], taken_at: str, regions: Iterable[str]
) -> Catalog:
    """A catalog from the API's instance types (see `sophia catalog refresh`)."""
    return Catalog(
        taken_at=taken_at,
        source="Lambda Cloud API GET /instance-types",
        regions=tuple(regions),
        instance_types={t.name: t for t in sorted(instance_types, key=lambda t: t.name)},
    )


def save_catalog(catalog: Catalog, path: Path = DATA_FILE) -> None:
    path.write_text(json.dumps(catalog.to_json(), indent=2) + "\n", encoding="utf-8")
    _default_catalog.cache_clear()


def load_catalog(path: Path | None = None) -> Catalog:
    """The committed catalog (cached), or the one at ``path``."""
    if path is None:
        return _default_catalog()
    return Catalog.from_json(json.loads(path.read_text(encoding="utf-8")))


@cache
def _default_catalog() -> Catalog:
    return Catalog.from_json(json.loads(DATA_FILE.read_text(encoding="utf-8")))


__all__ = [
    "DATA_FILE",
    "HOURS_PER_MONTH",
    "Catalog",
    "InstanceType",
    "architecture_of",
    "catalog_from_api",
    "gpu_memory_of",
    "gpu_type_of",
    "load_catalog",
    "save_catalog",
]
