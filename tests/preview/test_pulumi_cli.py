"""The real `pulumi preview --policy-pack policies`, where the Pulumi CLI is installed.

It is not installed here (no network to fetch it): the test then says so and is reported as
skipped, never as passed. Where it runs it uses a local file backend and no cloud account.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

PULUMI = shutil.which("pulumi")


@pytest.mark.needs_pulumi_cli
@pytest.mark.skipif(
    PULUMI is None,
    reason="the pulumi CLI is not on PATH: real `pulumi preview "
    "--policy-pack policies` NOT run here",
)
def test_real_pulumi_preview_with_the_policy_pack(tmp_path: Path) -> None:
    assert PULUMI is not None
    project = tmp_path / "project"
    project.mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "specs", "policies", "components", "sophia"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / item)
    (project / ".venv").symlink_to(REPO / ".venv")  # the program and the pack use it
    (tmp_path / "state").mkdir()
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "test-only",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PULUMI, *args, "--cwd", str(REPO)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert pulumi("stack", "init", "test").returncode == 0  # no ESC import: no Pulumi Cloud
    minimal = "specs/examples/minimal.yaml"  # an existing cluster: no Lambda, no SSH
    assert pulumi("config", "set", "spec", minimal).returncode == 0
    assert (
        pulumi(
            "config", "set", "--secret", "kubeconfig", "apiVersion: v1\nkind: Config\n"
        ).returncode
        == 0
    )
    result = pulumi("preview", "--policy-pack", "policies", "--non-interactive")
    assert "sophia-guardrails" in result.stdout + result.stderr
