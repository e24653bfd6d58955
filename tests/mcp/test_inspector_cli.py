"""The same intent through the MCP Inspector's CLI (npm `@modelcontextprotocol/inspector`,
pinned, installed once into ~/.cache/sophia-infra/npm): another client implementation
than the Python SDK's, so the server's wire format is checked twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SPEC

INSPECTOR_VERSION = "0.17.2"
CACHE = Path.home() / ".cache" / "sophia-infra" / "npm" / f"inspector-{INSPECTOR_VERSION}"
SOPHIA = str(Path(sys.executable).with_name("sophia"))


@pytest.fixture(scope="module")
def inspector() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "mcp-inspector"
    if not binary.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the MCP Inspector (a fresh machine has it)"
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE),
             f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    return binary


def _call(inspector: Path, spec: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(inspector), "--cli", SOPHIA, "mcp", "--spec", str(spec), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_inspector_sees_annotated_tools_and_plans_the_bi_load(
    inspector: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, spec)
    listed = _call(inspector, spec, "--method", "tools/list")["tools"]
    by_name = {t["name"]: t for t in listed}
    assert by_name["deploy"]["annotations"]["destructiveHint"] is True
    assert by_name["plan_capacity"]["inputSchema"]["properties"]["max_hosts"]["maximum"] == 12

    plan = _call(
        inspector, spec, "--method", "tools/call", "--tool-name", "plan_capacity",
        "--tool-arg", 'replicas={"business-intelligence": 3}',
    )["structuredContent"]  # fmt: skip
    assert plan["hostsMonthlyUsd"] == 1642.5 and plan["withinBudget"] is False

    refused = _call(
        inspector, spec, "--method", "tools/call", "--tool-name", "scale_service",
        "--tool-arg", "service=business-intelligence", "--tool-arg", "replicas=3",
    )  # fmt: skip
    assert refused["isError"] is True
    assert "capacity" in refused["content"][0]["text"]  # one A10 holds one GPU pod
