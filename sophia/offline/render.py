"""Kubernetes manifests of a recorded run, with every secret value redacted."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .runner import RecordedResource, is_secret, unwrap_secrets

REDACTED = "<redacted>"
_LEADING_KEYS = ("apiVersion", "kind", "metadata")


def redact(value: Any) -> Any:
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def manifests(resources: Iterable[RecordedResource]) -> list[dict[str, Any]]:
    """One manifest per Kubernetes object, in registration order."""
    found = []
    for resource in resources:
        if not resource.custom or not resource.type.startswith("kubernetes:"):
            continue
        properties = resource.properties
        manifest = redact(properties)
        if resource.type == "kubernetes:core/v1:Secret":
            plain = unwrap_secrets(properties)  # only the key names are kept
            for field in ("data", "stringData"):
                if isinstance(plain.get(field), dict):
                    manifest[field] = dict.fromkeys(sorted(plain[field]), REDACTED)
        leading = {k: manifest[k] for k in _LEADING_KEYS if k in manifest}
        found.append({**leading, **{k: v for k, v in manifest.items() if k not in leading}})
    return found


def write_manifests(resources: Iterable[RecordedResource], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    written = []
    for manifest in manifests(resources):
        kind = str(manifest.get("kind", "object")).lower()
        name = manifest.get("metadata", {}).get("name", "unnamed")
        path = out / f"{kind}-{name}.yaml"
        with path.open("w", encoding="utf-8") as handle:
            yaml.dump(manifest, handle)
        written.append(path)
    return written
