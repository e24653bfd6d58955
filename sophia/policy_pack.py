"""The policy pack `sophia-guardrails` as sophia ships it: its package and its catalog data.

The pack is self-contained (it imports nothing from this project, so it can be installed from
its own requirements and published to Pulumi Cloud); the instance data its rules read is a
generated copy of the project's catalog, kept in step by `sophia catalog sync`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from components.catalog import Catalog, load_catalog

PACK_MODULE = "sophia_guardrails"
"""The pack's Python package: `python -m sophia_guardrails` serves the Analyzer protocol."""


def pack_package_dir() -> Path:
    spec = importlib.util.find_spec(PACK_MODULE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the policy pack package {PACK_MODULE} is not installed")
    return Path(spec.origin).parent


def pack_catalog_file() -> Path:
    return pack_package_dir() / "catalog.json"


def pack_catalog(catalog: Catalog) -> dict[str, Any]:
    """What the pack's rules read of each instance type, precomputed (GPU type included)."""
    return {
        "takenAt": catalog.taken_at,
        "generatedBy": "sophia catalog sync (from components/catalog/instance_types.json)",
        "instanceTypes": {
            t.name: {
                "gpuType": t.gpu_type,
                "gpus": t.gpus,
                "vcpus": t.vcpus,
                "memoryGib": t.memory_gib,
                "priceCentsPerHour": t.price_cents_per_hour,
                "architecture": t.architecture,
            }
            for t in catalog
        },
    }


def pack_catalog_text(catalog: Catalog | None = None) -> str:
    return json.dumps(pack_catalog(catalog or load_catalog()), indent=2) + "\n"


def sync_pack_catalog(catalog: Catalog | None = None) -> Path:
    """Write the pack's copy of the catalog; returns its path."""
    target = pack_catalog_file()
    target.write_text(pack_catalog_text(catalog), encoding="utf-8")
    return target
