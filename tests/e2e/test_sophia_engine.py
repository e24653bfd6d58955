"""`sophia preview --engine pulumi` and `sophia up` with the real CLI, as a user runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO

SOPHIA = REPO / ".venv" / "bin" / "sophia"


def _sophia(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SOPHIA), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_plugin_the_cli_may_not_download_is_named_with_its_install_command(
    pulumi_env: dict[str, str],
) -> None:
    """No provider plugin of kubernetes can be had here (see toolchain/README.md): the engine
    would fail half-way; sophia says so first, in one line, with the command that fixes it."""
    for command in (["preview", "--engine", "pulumi"], ["up", "--yes"]):
        result = _sophia(*command, "specs/examples/minimal.yaml", "--stack", "e2e", env=pulumi_env)
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert "resource plugin(s) kubernetes not installed" in lines[0]
        assert "`pulumi plugin install resource kubernetes 4.32.0`" in lines[0]


def test_prod_is_not_changed_without_a_confirmation(
    pulumi_env: dict[str, str], tmp_path: Path
) -> None:
    result = _sophia("up", "specs/sophia.yaml", "--stack", "prod", env=pulumi_env)
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
