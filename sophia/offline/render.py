"""Kubernetes manifests of a recorded run: safe to review and to apply.

Secrets are never written as manifests: a Secret with placeholder values would overwrite the
real ones when applied. Their names and keys are listed in SECRETS.txt instead; `pulumi up`
writes their values from ESC.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sophia_guardrails.capacity import DEPLOYMENT, HPA

from .runner import RecordedResource, is_secret, unwrap_secrets

REDACTED = "<redacted>"
SECRET_TYPE = "kubernetes:core/v1:Secret"
SECRETS_LISTING = "SECRETS.txt"
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
    """One manifest per Kubernetes object but Secrets, in registration order; a Deployment an
    autoscaler scales has no `replicas` (applying one would fight the autoscaler)."""
    resources = list(resources)
    scaled = {
        (r.properties.get("metadata", {}).get("namespace"), target.get("name"))
        for r in resources
        if r.type == HPA
        for target in [r.properties.get("spec", {}).get("scaleTargetRef", {})]
        if target.get("kind") == "Deployment"
    }
    found = []
    for resource in resources:
        if not resource.custom or not resource.type.startswith("kubernetes:"):
            continue
        if resource.type == SECRET_TYPE:
            continue
        manifest = redact(resource.properties)
        metadata = manifest.get("metadata", {})
        if (
            resource.type == DEPLOYMENT
            and (metadata.get("namespace"), metadata.get("name")) in scaled
        ):
            manifest["spec"].pop("replicas", None)
        leading = {k: manifest[k] for k in _LEADING_KEYS if k in manifest}
        found.append({**leading, **{k: v for k, v in manifest.items() if k not in leading}})
    return found


def secret_outlines(resources: Iterable[RecordedResource]) -> list[str]:
    """`namespace/name: KEY, …` of each Secret the stack writes (key names, never values)."""
    lines = []
    for resource in resources:
        if resource.type != SECRET_TYPE:
            continue
        plain = unwrap_secrets(resource.properties)
        metadata = plain.get("metadata") or {}
        keys = sorted({k for f in ("data", "stringData") for k in (plain.get(f) or {})})
        where = f"{metadata.get('namespace', 'default')}/{metadata.get('name', resource.name)}"
        lines.append(f"{where}: {', '.join(keys)}")
    return lines


def write_manifests(resources: list[RecordedResource], out: Path) -> list[Path]:
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
    outlines = secret_outlines(resources)
    if outlines:
        path = out / SECRETS_LISTING
        path.write_text(
            "# Secrets the stack writes with `pulumi up` (values from ESC; never rendered):\n"
            + "".join(f"{line}\n" for line in outlines),
            encoding="utf-8",
        )
        written.append(path)
    return written
