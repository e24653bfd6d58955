"""`.cursor/mcp.json` for the project's own MCP server and the servers a spec lists.

Each server that needs credentials starts under `esc run <its own environment> -- …`
(`secrets/layout.py`): the environment exports exactly the groups the spec grants it (the
project's server: only the Pulumi access token it deploys with). A server without
`secretGroups` starts without ESC. The file never holds a value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .secrets.layout import SOPHIA_SERVER, esc_layout
from .spec.model import Platform


def mcp_config(platform: Platform, spec_path: Path, sophia_command: str) -> dict[str, Any]:
    environments = esc_layout(platform).mcp if platform.secrets is not None else {}

    def launched(name: str, command: str, args: list[str]) -> dict[str, Any]:
        env = environments.get(name)
        if env is not None:
            return {"command": "esc", "args": ["run", str(env), "--", command, *args]}
        return {"command": command, "args": args}

    servers: dict[str, Any] = {
        SOPHIA_SERVER: launched(SOPHIA_SERVER, sophia_command, ["mcp", "--spec", str(spec_path)]),
    }
    for server in platform.mcp:
        servers[server.name] = launched(server.name, server.command, list(server.args))
    return {"mcpServers": servers}


def write_mcp_config(config: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
