"""The Lambda instance types the rules price and count, from the data file shipped in the pack.

`catalog.json` is generated from the project's catalog (`sophia catalog sync`; a test fails
when the two drift), so the pack needs nothing from the project to run: it can be installed
from its own requirements and published on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("catalog.json")
HOURS_PER_MONTH = 730
"""The cloud industry's monthly convention (24 × 365 / 12)."""


@dataclass(frozen=True, slots=True)
class InstanceType:
    name: str
    gpu_type: str
    gpus: int
    vcpus: int
    memory_gib: int
    price_cents_per_hour: int

    @property
    def price_usd_per_hour(self) -> float:
        return self.price_cents_per_hour / 100

    def monthly_usd(self, hours_per_month: float = HOURS_PER_MONTH) -> float:
        return round(self.price_usd_per_hour * hours_per_month, 2)


@dataclass(frozen=True)
class Catalog:
    taken_at: str
    instance_types: Mapping[str, InstanceType]

    def get(self, name: str) -> InstanceType | None:
        return self.instance_types.get(name)

    def names(self) -> list[str]:
        return sorted(self.instance_types)


def catalog_from_json(data: Mapping[str, Any]) -> Catalog:
    return Catalog(
        taken_at=str(data["takenAt"]),
        instance_types={
            name: InstanceType(
                name=name,
                gpu_type=str(entry["gpuType"]),
                gpus=int(entry["gpus"]),
                vcpus=int(entry["vcpus"]),
                memory_gib=int(entry["memoryGib"]),
                price_cents_per_hour=int(entry["priceCentsPerHour"]),
            )
            for name, entry in data["instanceTypes"].items()
        },
    )


@cache
def load_catalog() -> Catalog:
    return catalog_from_json(json.loads(DATA_FILE.read_text(encoding="utf-8")))
