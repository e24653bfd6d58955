"""ESC environment definitions for grouped, two-slot credentials, and their projection.

Two environments per stack environment (DESIGN.md, "Rotation: two-secret strategy"):

- the credentials environment `<project>/<env>-credentials` holds every credential under
  `fn::secret`, in two slots `a`/`b` with an `active` pointer, `rotatedAt` (not secret) and
  `current`, an interpolation of the active slot. `sophia secrets export/rotate` write it.
- the projection environment `<project>/<env>` imports it and exports `environmentVariables`
  (for `esc run`) and `pulumiConfig` (for stacks) from each credential's `current`. The stack
  owns it (`EscSecretBundle`) and it holds no literal credential at all.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ruamel.yaml import YAML

SLOTS = ("a", "b")


def camel_config_key(env_name: str) -> str:
    """`OPENROUTER_API_KEY` → `openrouterApiKey` (the stack-config key a credential maps to)."""
    first, *rest = env_name.lower().split("_")
    return first + "".join(part.capitalize() for part in rest)


def credentials_environment_name(environment: str) -> str:
    return f"{environment}-credentials"


@dataclass(frozen=True, slots=True)
class CredentialState:
    """What may be shown of a credential: never its value."""

    group: str
    key: str
    active: str
    rotated_at: datetime | None
    slots: tuple[str, ...]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def dump(definition: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    _yaml().dump(_plain(definition), buffer)
    return buffer.getvalue()


def load(text: str) -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("an ESC environment definition is a mapping")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def slot_entry(value: str) -> dict[str, Any]:
    return {"fn::secret": value}


def new_credential(group: str, key: str, value: str, now: datetime) -> dict[str, Any]:
    return {
        "a": slot_entry(value),
        "active": "a",
        "rotatedAt": now.isoformat(timespec="seconds"),
        "current": f"${{{group}.{key}.a}}",
    }


def rotate_credential(
    node: Mapping[str, Any], group: str, key: str, value: str, now: datetime
) -> dict[str, Any]:
    """Fill the inactive slot, point at it; the previous slot stays valid until next time."""
    rotated = copy.deepcopy(dict(node))
    active = rotated.get("active", "a")
    inactive = "b" if active == "a" else "a"
    rotated[inactive] = slot_entry(value)
    rotated["active"] = inactive
    rotated["rotatedAt"] = now.isoformat(timespec="seconds")
    rotated["current"] = f"${{{group}.{key}.{inactive}}}"
    return rotated


def credential_states(definition: Mapping[str, Any]) -> Iterator[CredentialState]:
    values = definition.get("values") or {}
    for group, credentials in values.items():
        if not isinstance(credentials, Mapping):
            continue
        for key, node in credentials.items():
            if not isinstance(node, Mapping) or "active" not in node:
                continue
            stamp = node.get("rotatedAt")
            rotated = datetime.fromisoformat(str(stamp)) if stamp else None
            slots = tuple(s for s in SLOTS if s in node)
            yield CredentialState(str(group), str(key), str(node["active"]), rotated, slots)


def projection_definition(
    credentials_env: str,
    groups: Mapping[str, Sequence[str]],
    config_namespace: str,
) -> dict[str, Any]:
    """The stack-owned environment: imports the credentials, exports their active slots."""
    env_vars: dict[str, str] = {}
    config: dict[str, str] = {}
    for group, keys in groups.items():
        for key in keys:
            reference = f"${{{group}.{key}.current}}"
            env_vars[key] = reference
            config[f"{config_namespace}:{camel_config_key(key)}"] = reference
    return {
        "imports": [credentials_env],
        "values": {"environmentVariables": env_vars, "pulumiConfig": config},
    }
