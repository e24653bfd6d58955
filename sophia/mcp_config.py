"""`.cursor/mcp.json` for the project's own MCP server and the servers a spec lists.

Credentials reach servers at launch through `esc run <org>/<project>/<env> -- …`, which
exports the ESC environment's `environmentVariables`; the file never holds a value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .spec.model import Platform


def mcp_config(platform: Platform, spec_path: Path, sophia_command: str) -> dict[str, Any]:
    environment = None
    if platform.secrets is not None:
        esc = platform.secrets.esc
        environment = f"{esc.organization}/{esc.project}/{esc.environment}"

    def launched(command: str, args: list[str], needs_credentials: bool) -> dict[str, Any]:
        if needs_credentials and environment is not None:
            return {"command": "esc", "args": ["run", environment, "--", command, *args]}
        return {"command": command, "args": args}

    servers: dict[str, Any] = {
        "sophia": launched(sophia_command, ["mcp", "--spec", str(spec_path)], True),
    }
    for server in platform.mcp:
        servers[server.name] = launched(
            server.command, list(server.args), bool(server.secret_groups)
        )
    return {"mcpServers": servers}


def write_mcp_config(config: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
