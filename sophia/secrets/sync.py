"""Export from GitHub and two-slot rotation, keeping every derived environment in step.

Which value is active is decided per credential from GitHub's value, both slots and who set
the active one (`origin`):

| GitHub's value is …                     | active set by export | active set by rotate |
|-----------------------------------------|----------------------|----------------------|
| the active slot's                       | unchanged            | unchanged            |
| the other slot's (the value rotated out) | stale: kept          | stale: kept          |
| new                                     | rotated in           | **conflict**         |

A stale value is GitHub still holding what a rotation replaced: applying it would undo the
rotation (and break production if the old key was revoked). A conflict is a genuine change in
GitHub after a rotation: reported with the choice, applied only with `--prefer-github KEY`.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.esc import EscGateway, EscNotFoundError, credential_states
from components.esc.definition import dump, load, new_credential, rotate_credential

from ..spec.model import Platform
from .layout import EscLayout, esc_layout

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Unclaimed:
    """An input name that only a group's prefix matches: reported with the edit to make."""

    name: str
    group: str
    prefix: str

    @property
    def edit(self) -> str:
        return f"add {self.name} to secrets.groups.{self.group}.keys"


@dataclass(frozen=True)
class ExportPlan:
    definition: dict[str, Any]
    added: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    """GitHub still has the value a rotation replaced: the rotation is kept."""
    conflicts: list[str] = field(default_factory=list)
    """GitHub changed after a rotation: nothing applied (see `prefer_github`)."""
    unclaimed: list[Unclaimed] = field(default_factory=list)
    ungrouped: list[str] = field(default_factory=list)
    """Input names no group claims: not exported, reported by name."""
    missing: list[str] = field(default_factory=list)
    """Keys the spec lists that the input did not have."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.rotated)


def _prefix_group(platform: Platform, name: str) -> tuple[str, str] | None:
    groups = platform.secrets.groups if platform.secrets else {}
    for group, spec in groups.items():
        for prefix in spec.prefixes:
            if name.startswith(prefix):
                return group, prefix
    return None


def group_of(platform: Platform, name: str) -> str | None:
    """The group that lists `name` among its keys (prefixes only report, see `Unclaimed`)."""
    groups = platform.secrets.groups if platform.secrets else {}
    return next((g for g, spec in groups.items() if name in spec.keys), None)


def plan_export(
    platform: Platform,
    values: Mapping[str, str],
    stored: Mapping[str, Any],
    current: Mapping[str, Any],
    now: datetime,
    prefer_github: Collection[str] = (),
    environment: str = "the credentials environment",
) -> ExportPlan:
    """The credentials definition after an export (the table in this module's docstring).

    `stored` is the definition as ESC keeps it (ciphertext), `current` the opened values.
    """
    definition = copy.deepcopy(dict(stored)) or {}
    tree: dict[str, Any] = definition.setdefault("values", {})
    origins = {(s.group, s.key): s.origin for s in credential_states(stored, environment)}
    plan = ExportPlan(definition)
    for name in sorted(values):
        group = group_of(platform, name)
        if group is None:
            by_prefix = _prefix_group(platform, name)
            if by_prefix is not None:
                plan.unclaimed.append(Unclaimed(name, *by_prefix))
            else:
                plan.ungrouped.append(name)
            continue
        label = f"{group}.{name}"
        nodes = tree.setdefault(group, {})
        node = nodes.get(name)
        if not isinstance(node, Mapping):
            nodes[name] = new_credential(group, name, values[name], now)
            plan.added.append(label)
            continue
        opened = (current.get(group) or {}).get(name) or {}
        active = str(node["active"])
        inactive = "b" if active == "a" else "a"
        value = values[name]
        if value == opened.get(active):
            plan.unchanged.append(label)
        elif inactive in node and value == opened.get(inactive):
            plan.stale.append(label)
        elif origins.get((group, name)) == "rotate" and name not in prefer_github:
            plan.conflicts.append(label)
        else:
            nodes[name] = rotate_credential(node, group, name, value, now, "export")
            plan.rotated.append(label)
    plan.missing.extend(k for k in platform.credential_keys if k not in values)
    return plan


def redact(node: Any) -> Any:
    """A definition safe to print: every `fn::secret` content replaced."""
    if isinstance(node, Mapping):
        return {k: REDACTED if k == "fn::secret" else redact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [redact(v) for v in node]
    return node


def export(
    gateway: EscGateway,
    platform: Platform,
    values: Mapping[str, str],
    now: datetime,
    prefer_github: Collection[str] = (),
) -> ExportPlan:
    """Write the credentials environment (If-Match), then bring every derived one in step."""
    layout = esc_layout(platform)
    if not gateway.exists(layout.credentials):
        gateway.create(layout.credentials)
    snapshot = gateway.read(layout.credentials)
    stored = load(snapshot.yaml, str(layout.credentials))
    list(credential_states(stored, str(layout.credentials)))  # an outside edit: before opening
    current = gateway.open_values(layout.credentials) if stored else {}
    plan = plan_export(
        platform, values, stored, current, now, prefer_github, str(layout.credentials)
    )
    if plan.changed:
        gateway.write(layout.credentials, dump(plan.definition), snapshot.etag)
    sync_derived(gateway, platform, layout)
    return plan


def sync_derived(gateway: EscGateway, platform: Platform, layout: EscLayout) -> list[str]:
    """Write each derived environment that differs from the spec's; returns those written."""
    written = []
    for env, wanted in layout.derived(platform).items():
        if not gateway.exists(env):
            gateway.create(env)
        snapshot = gateway.read(env)
        if load(snapshot.yaml, str(env)) != wanted:
            gateway.write(env, dump(wanted), snapshot.etag)
            written.append(str(env))
    return written


def rotate(
    gateway: EscGateway, platform: Platform, group: str, key: str, value: str, now: datetime
) -> str:
    """Put `value` in the inactive slot and point at it; returns the slot now active."""
    layout = esc_layout(platform)
    snapshot = gateway.read(layout.credentials)
    definition = load(snapshot.yaml, str(layout.credentials))
    list(credential_states(definition, str(layout.credentials)))  # refuses outside edits
    node = ((definition.get("values") or {}).get(group) or {}).get(key)
    if not isinstance(node, Mapping):
        raise EscNotFoundError(
            404,
            f"no credential {group}.{key} in {layout.credentials}; "
            "export it first (`sophia secrets export`)",
        )
    rotated = rotate_credential(node, group, key, value, now, "rotate")
    definition["values"][group][key] = rotated
    gateway.write(layout.credentials, dump(definition), snapshot.etag)
    sync_derived(gateway, platform, layout)
    return str(rotated["active"])
