"""`sophia secrets`: export, two-slot rotation and audit of the spec's credentials in ESC.

Pure functions over ESC definitions (dicts) plus the few calls that read and write them.
No value is ever returned for display: plans and states carry names only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.esc import (
    EnvironmentRef,
    EscGateway,
    EscNotFoundError,
    credential_states,
    credentials_environment_name,
    projection_definition,
)
from components.esc.definition import dump, load, new_credential, rotate_credential

from .spec.model import Platform, SecretGroup

REDACTED = "[redacted]"


@dataclass(frozen=True)
class EscLocation:
    credentials: EnvironmentRef
    projection: EnvironmentRef
    config_namespace: str


def esc_location(platform: Platform, config_namespace: str = "sophia-ai") -> EscLocation:
    if platform.secrets is None:
        raise ValueError("the spec has no 'secrets' section")
    esc = platform.secrets.esc
    return EscLocation(
        credentials=EnvironmentRef(
            esc.organization, esc.project, credentials_environment_name(esc.environment)
        ),
        projection=EnvironmentRef(esc.organization, esc.project, esc.environment),
        config_namespace=config_namespace,
    )


def _groups(platform: Platform) -> Mapping[str, SecretGroup]:
    return platform.secrets.groups if platform.secrets else {}


def group_of(platform: Platform, name: str) -> str | None:
    """The group a variable belongs to: listed in its keys, or starting with its prefixes."""
    groups = _groups(platform)
    for group, spec in groups.items():
        if name in spec.keys:
            return group
    for group, spec in groups.items():
        if spec.prefixes and name.startswith(tuple(spec.prefixes)):
            return group
    return None


@dataclass(frozen=True)
class ExportPlan:
    definition: dict[str, Any]
    added: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ungrouped: list[str] = field(default_factory=list)
    """Input names no group claims: not exported, reported by name."""
    missing: list[str] = field(default_factory=list)
    """Keys the spec lists that the input did not have."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.rotated)


def plan_export(
    platform: Platform,
    values: Mapping[str, str],
    stored: Mapping[str, Any],
    current: Mapping[str, Any],
    now: datetime,
) -> ExportPlan:
    """The credentials definition after an export; an unchanged value keeps its slots.

    `stored` is the definition as ESC keeps it (ciphertext), `current` the opened values.
    A value that differs from the active slot's is rotated in, so what runs now stays valid.
    """
    definition = copy.deepcopy(dict(stored)) or {}
    tree: dict[str, Any] = definition.setdefault("values", {})
    plan = ExportPlan(definition)
    for name in sorted(values):
        group = group_of(platform, name)
        if group is None:
            plan.ungrouped.append(name)
            continue
        nodes = tree.setdefault(group, {})
        node = nodes.get(name)
        if not isinstance(node, Mapping) or "active" not in node:
            nodes[name] = new_credential(group, name, values[name], now)
            plan.added.append(f"{group}.{name}")
            continue
        active_value = ((current.get(group) or {}).get(name) or {}).get("current")
        if active_value == values[name]:
            plan.unchanged.append(f"{group}.{name}")
        else:
            nodes[name] = rotate_credential(node, group, name, values[name], now)
            plan.rotated.append(f"{group}.{name}")
    plan.missing.extend(k for k in platform.credential_keys if k not in values)
    return plan


def redact(node: Any) -> Any:
    """A definition safe to print: every `fn::secret` content replaced."""
    if isinstance(node, Mapping):
        return {k: REDACTED if k == "fn::secret" else redact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [redact(v) for v in node]
    return node


def projection_yaml(platform: Platform, location: EscLocation) -> str:
    groups = {
        g: list(spec.keys)
        for g, spec in (platform.secrets.groups.items() if platform.secrets else [])
    }
    credentials = f"{location.credentials.project}/{location.credentials.name}"
    return dump(projection_definition(credentials, groups, location.config_namespace))


def export(
    gateway: EscGateway, platform: Platform, values: Mapping[str, str], now: datetime
) -> ExportPlan:
    """Write the credentials environment (If-Match), creating both environments if new."""
    location = esc_location(platform)
    if not gateway.exists(location.credentials):
        gateway.create(location.credentials)
    snapshot = gateway.read(location.credentials)
    stored = load(snapshot.yaml)
    current = gateway.open_values(location.credentials) if stored else {}
    plan = plan_export(platform, values, stored, current, now)
    if plan.changed:
        gateway.write(location.credentials, dump(plan.definition), snapshot.etag)
    if not gateway.exists(location.projection):
        # Bootstrap: the stack adopts this identical definition on its first `pulumi up`.
        gateway.create(location.projection)
        fresh = gateway.read(location.projection)
        gateway.write(location.projection, projection_yaml(platform, location), fresh.etag)
    return plan


def rotate(
    gateway: EscGateway, platform: Platform, group: str, key: str, value: str, now: datetime
) -> str:
    """Put `value` in the inactive slot and point at it; returns the slot now active."""
    location = esc_location(platform)
    snapshot = gateway.read(location.credentials)
    definition = load(snapshot.yaml)
    node = ((definition.get("values") or {}).get(group) or {}).get(key)
    if not isinstance(node, Mapping) or "active" not in node:
        raise EscNotFoundError(
            404,
            f"no credential {group}.{key} in {location.credentials}; "
            "export it first (`sophia secrets export`)",
        )
    rotated = rotate_credential(node, group, key, value, now)
    definition["values"][group][key] = rotated
    gateway.write(location.credentials, dump(definition), snapshot.etag)
    return str(rotated["active"])


@dataclass(frozen=True)
class CredentialAge:
    group: str
    key: str
    active: str | None
    rotated_at: str | None
    age_days: int | None
    max_age_days: int
    state: str
    """ok, expired (older than maxAgeDays), or missing (in the spec, not in ESC)."""


def credential_ages(
    platform: Platform, definition: Mapping[str, Any], now: datetime
) -> list[CredentialAge]:
    max_age = platform.secrets.rotation.max_age_days if platform.secrets else 90
    found = {(s.group, s.key): s for s in credential_states(definition)}
    ages = []
    for group, spec in _groups(platform).items():
        for key in spec.keys:
            state = found.get((group, key))
            if state is None:
                ages.append(CredentialAge(group, key, None, None, None, max_age, "missing"))
                continue
            age = (now - state.rotated_at).days if state.rotated_at else None
            expired = age is None or age > max_age
            ages.append(
                CredentialAge(
                    group,
                    key,
                    state.active,
                    state.rotated_at.isoformat() if state.rotated_at else None,
                    age,
                    max_age,
                    "expired" if expired else "ok",
                )
            )
    return ages
