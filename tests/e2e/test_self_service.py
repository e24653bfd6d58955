"""Self-service on the real CLI and a file backend: `sophia stack init/select`, `sophia
outputs`, and the MCP `deploy` tool — gated by a passing preview's token, then handed to the
real engine (which names the plugin this machine cannot have: toolchain/README.md)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import ClientSession

from tests.conftest import REPO, SPEC
from tests.e2e.test_sophia_engine import _sophia
from tests.mcp.test_mcp_server import error_of, payload, session_run


@pytest.fixture
def stack_settings() -> Iterator[None]:
    """The Automation API keeps a stack's settings (the passphrase's salt) beside Pulumi.yaml,
    in the repository: removed after the test, as a user would `pulumi stack rm`."""
    settings = REPO / "Pulumi.e2e-self.yaml"
    settings.unlink(missing_ok=True)
    yield
    settings.unlink(missing_ok=True)


def test_stack_init_select_and_outputs(
    pulumi_env: dict[str, str], tmp_path: Path, stack_settings: None
) -> None:
    spec = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, spec)
    created = _sophia(
        "stack", "init", "e2e-self", "--spec", str(spec), env=pulumi_env, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert "created stack e2e-self in the backend" in created.stdout
    assert (tmp_path / "Pulumi.e2e-self.yaml").exists()
    selected = _sophia("stack", "select", "e2e-self", env=pulumi_env)
    assert selected.returncode == 0 and "stack e2e-self selected" in selected.stdout
    outputs = _sophia("outputs", "--stack", "e2e-self", "--json", env=pulumi_env)
    assert outputs.returncode == 0, outputs.stderr
    assert json.loads(outputs.stdout) == {}  # not deployed yet
    missing = _sophia("outputs", "--stack", "nope", env=pulumi_env)
    assert missing.returncode == 1 and "`sophia stack init nope` creates it" in missing.stderr


def test_mcp_deploy_reaches_the_real_engine_only_with_a_token(
    pulumi_env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, spec)

    async def body(session: ClientSession) -> tuple[str, str]:
        refused = error_of(await session.call_tool("deploy", {"token": "prod:guess"}))
        token = payload(await session.call_tool("preview", {}))["deployToken"]
        engine = error_of(await session.call_tool("deploy", {"token": token}))
        return refused, engine

    refused, engine = session_run(spec, body, env={**pulumi_env, "PATH": os.environ["PATH"]})
    assert "not that of a passing preview" in refused
    assert "resource plugin(s) kubernetes, command not installed" in engine
