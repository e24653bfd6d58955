"""`sophia mcp-config`, `sophia scale` and the Automation API path up to the Pulumi CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sophia.automation import PulumiCliMissingError, require_pulumi_cli
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def sophia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOPHIA, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env or {**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


def test_mcp_config_launches_through_esc_and_holds_no_secret(tmp_path: Path) -> None:
    out = tmp_path / ".cursor" / "mcp.json"
    result = sophia("mcp-config", "--spec", str(SPEC), "--out", str(out))
    assert result.returncode == 0, result.stderr
    config = json.loads(out.read_text())
    servers = config["mcpServers"]
    assert set(servers) == {"sophia", "pinecone", "tavily"}
    for name, server in servers.items():
        assert server["command"] == "esc"  # each under its own, least-privilege environment
        assert server["args"][:3] == ["run", f"sophia-ai/sophia-ai/production-mcp-{name}", "--"]
    assert servers["sophia"]["args"][3:] == [SOPHIA, "mcp", "--spec", str(SPEC)]
    assert servers["tavily"]["args"][3:] == ["npx", "-y", "tavily-mcp@0.2.9"]
    assert all(set(server) == {"command", "args"} for server in servers.values())  # no "env"
    text = out.read_text()
    assert "KEY" not in text and "TOKEN" not in text and "PASSWORD" not in text


def test_scale_command(tmp_path: Path) -> None:
    spec = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, spec)
    ok = sophia("scale", "infrastructure", "2", "--spec", str(spec))
    assert ok.returncode == 0 and "applied: infrastructure replicas → 2" in ok.stdout
    before = spec.read_bytes()
    refused = sophia("scale", "business-intelligence", "3", "--spec", str(spec))
    assert refused.returncode == 1 and "capacity" in refused.stderr
    assert spec.read_bytes() == before


def test_without_the_pulumi_cli_the_message_is_clear() -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # our tools, no pulumi
    for command in (["up"], ["preview", "--engine", "pulumi"]):
        result = sophia(*command, env=env)
        assert result.returncode == 1
        assert "the Pulumi CLI is not installed" in result.stderr
        assert "Traceback" not in result.stderr


def test_require_pulumi_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PulumiCliMissingError, match="needs no CLI"):
        require_pulumi_cli()
