"""The GitHub workflows validate against the GitHub workflow schema (vendored by check-jsonschema)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CHECK = str(Path(sys.executable).with_name("check-jsonschema"))
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_workflows_validate() -> None:
    assert WORKFLOWS
    result = subprocess.run(
        [CHECK, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = subprocess.run(
        [CHECK, "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1


def test_the_real_preview_enforces_the_specs_policy_config() -> None:
    """The pack's config comes from the spec, as for `sophia preview`; never a fixed file."""
    text = (REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8")
    assert "sophia policy-config specs/sophia.yaml --stack prod --out policy-config.json" in text
    assert "policyPackConfigs: policy-config.json" in text
