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
from datetime import UTC, datetime
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .errors import EscDefinitionError

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
    origin: str = "export"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def dump(definition: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    _yaml().dump(_plain(definition), buffer)
    return buffer.getvalue()


def load(text: str, environment: str = "the environment") -> dict[str, Any]:
    """A definition as data; EscDefinitionError (naming `environment`) if it does not parse or
    is not a mapping."""
    try:
        data = YAML(typ="safe", pure=True).load(text) or {}
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise EscDefinitionError(environment, f"its YAML does not parse{where}") from None
    if not isinstance(data, dict):
        raise EscDefinitionError(environment, "its definition is not a mapping")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def slot_entry(value: str) -> dict[str, Any]:
    return {"fn::secret": value}


Origin = Literal["export", "rotate"]
"""Who put the active value there: an export from GitHub, or `sophia secrets rotate`. An
export never overrides a rotation silently (`secret_ops.plan_export`)."""


def new_credential(group: str, key: str, value: str, now: datetime) -> dict[str, Any]:
    return {
        "a": slot_entry(value),
        "active": "a",
        "origin": "export",
        "rotatedAt": now.isoformat(timespec="seconds"),
        "current": f"${{{group}.{key}.a}}",
    }


def rotate_credential(
    node: Mapping[str, Any], group: str, key: str, value: str, now: datetime, origin: Origin
) -> dict[str, Any]:
    """Fill the inactive slot, point at it; the previous slot stays valid until next time."""
    rotated = copy.deepcopy(dict(node))
    active = rotated.get("active", "a")
    inactive = "b" if active == "a" else "a"
    rotated[inactive] = slot_entry(value)
    rotated["active"] = inactive
    rotated["origin"] = origin
    rotated["rotatedAt"] = now.isoformat(timespec="seconds")
    rotated["current"] = f"${{{group}.{key}.{inactive}}}"
    return rotated


def credential_states(
    definition: Mapping[str, Any], environment: str = "the credentials environment"
) -> Iterator[CredentialState]:
    """Every credential of a credentials definition; EscDefinitionError for a shape this tool
    never writes (a group that is not a mapping, a slot pointer or timestamp that is wrong)."""
    values = definition.get("values") or {}
    if not isinstance(values, Mapping):
        raise EscDefinitionError(environment, "`values` is not a mapping of groups")
    for group, credentials in values.items():
        if not isinstance(credentials, Mapping):
            raise EscDefinitionError(
                environment,
                f"values.{group} is a {_kind(credentials)}, not a mapping of credentials",
            )
        for key, node in credentials.items():
            where = f"values.{group}.{key}"
            if not isinstance(node, Mapping):
                raise EscDefinitionError(
                    environment, f"{where} is a {_kind(node)}, not a credential"
                )
            active = node.get("active")
            if active not in SLOTS or active not in node:
                raise EscDefinitionError(
                    environment, f"{where}.active is {active!r}, not a filled slot ('a' or 'b')"
                )
            stamp = node.get("rotatedAt")
            try:
                rotated = datetime.fromisoformat(str(stamp)) if stamp else None
            except ValueError:
                raise EscDefinitionError(
                    environment, f"{where}.rotatedAt is {str(stamp)[:40]!r}, not a timestamp"
                ) from None
            if rotated is not None and rotated.tzinfo is None:
                rotated = rotated.replace(tzinfo=UTC)
            slots = tuple(s for s in SLOTS if s in node)
            origin = str(node.get("origin", "export"))
            yield CredentialState(str(group), str(key), str(active), rotated, slots, origin)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return type(value).__name__


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
