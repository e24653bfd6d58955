"""Where the credentials live in ESC, and the environments derived from them.

- `<env>-credentials`: every credential, two slots each (written by export and rotate only).
- `<env>-<group>`: one per group; imports the credentials and exports that group's keys as
  `environmentVariables` and `pulumiConfig`. The unit of least privilege.
- `<env>`: what a stack imports (`Pulumi.<stack>.yaml`): every group, composed by imports.
- `<env>-mcp-<server>`: what `esc run` gives one MCP server: exactly its `secretGroups` (the
  project's own server gets only the Pulumi access token it deploys with).

Export and rotate rewrite every derived environment that is not what the spec says, so a new
key or group reaches stacks and servers with the export that brings it (no `pulumi up` needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.esc import EnvironmentRef, camel_config_key, credentials_environment_name

from ..spec.model import Platform

SOPHIA_SERVER = "sophia"
DEPLOY_TOKEN = "PULUMI_ACCESS_TOKEN"


@dataclass(frozen=True)
class EscLayout:
    credentials: EnvironmentRef
    projection: EnvironmentRef
    groups: dict[str, EnvironmentRef]
    mcp: dict[str, EnvironmentRef]
    """Per MCP server that gets credentials (servers without any are launched without ESC)."""
    config_namespace: str

    def derived(self, platform: Platform) -> dict[EnvironmentRef, dict[str, Any]]:
        """Every derived environment and the definition the spec gives it, in write order
        (what others import first)."""
        keys = _group_keys(platform)
        found: dict[EnvironmentRef, dict[str, Any]] = {}
        for group, env in self.groups.items():
            found[env] = self._exports([self._path(self.credentials)], keys[group], group)
        found[self.projection] = {"imports": [self._path(e) for e in self.groups.values()]}
        for server, env in self.mcp.items():
            found[env] = self._mcp_definition(platform, server)
        return found

    def exposed_keys(self, platform: Platform) -> dict[str, set[str]]:
        """Environment path (project/name) → the credentials opening it hands over: every one
        for the credentials environment, else its `environmentVariables` with those of what it
        imports (what `esc run` gives a process)."""
        derived = {self._path(env): d for env, d in self.derived(platform).items()}
        found: dict[str, set[str]] = {self._path(self.credentials): set(platform.credential_keys)}

        def keys_of(path: str) -> set[str]:
            if path not in found:
                definition = derived[path]
                own = set((definition.get("values") or {}).get("environmentVariables") or {})
                imported = [keys_of(p) for p in definition.get("imports") or [] if p in derived]
                found[path] = own.union(*imported)
            return found[path]

        for path in derived:
            keys_of(path)
        return found

    def _mcp_definition(self, platform: Platform, server: str) -> dict[str, Any]:
        if server == SOPHIA_SERVER:
            group = _group_of_key(platform, DEPLOY_TOKEN)
            assert group is not None
            return self._exports([self._path(self.credentials)], [DEPLOY_TOKEN], group)
        spec = next(m for m in platform.mcp if m.name == server)
        return {"imports": [self._path(self.groups[g]) for g in spec.secret_groups]}

    def _exports(self, imports: list[str], keys: Sequence[str], group: str) -> dict[str, Any]:
        env_vars = {k: f"${{{group}.{k}.current}}" for k in keys}
        config = {
            f"{self.config_namespace}:{camel_config_key(k)}": f"${{{group}.{k}.current}}"
            for k in keys
        }
        return {
            "imports": imports,
            "values": {"environmentVariables": env_vars, "pulumiConfig": config},
        }

    @staticmethod
    def _path(env: EnvironmentRef) -> str:
        return f"{env.project}/{env.name}"


def _group_keys(platform: Platform) -> Mapping[str, list[str]]:
    groups = platform.secrets.groups if platform.secrets else {}
    return {name: list(group.keys) for name, group in groups.items()}


def _group_of_key(platform: Platform, key: str) -> str | None:
    return next((g for g, keys in _group_keys(platform).items() if key in keys), None)


def esc_layout(platform: Platform, config_namespace: str = "sophia-ai") -> EscLayout:
    if platform.secrets is None:
        raise ValueError("the spec has no 'secrets' section")
    esc = platform.secrets.esc

    def ref(name: str) -> EnvironmentRef:
        return EnvironmentRef(esc.organization, esc.project, name)

    mcp = {m.name: ref(f"{esc.environment}-mcp-{m.name}") for m in platform.mcp if m.secret_groups}
    if _group_of_key(platform, DEPLOY_TOKEN) is not None:
        mcp[SOPHIA_SERVER] = ref(f"{esc.environment}-mcp-{SOPHIA_SERVER}")
    return EscLayout(
        credentials=ref(credentials_environment_name(esc.environment)),
        projection=ref(esc.environment),
        groups={g: ref(f"{esc.environment}-{g}") for g in _group_keys(platform)},
        mcp=mcp,
        config_namespace=config_namespace,
    )
