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


def _steps(workflow: str) -> list[dict[str, object]]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((REPO / ".github" / "workflows" / workflow).read_text())
    return [step for job in data["jobs"].values() for step in job["steps"]]


def test_only_the_secrets_the_spec_names_reach_the_export() -> None:
    """No `toJSON(secrets)`: the export step gets one variable per credential of the spec,
    and no other step sees a secret."""
    from sophia.spec import load_spec

    keys = load_spec(REPO / "specs" / "sophia.yaml").platform.credential_keys
    text = (REPO / ".github" / "workflows" / "export-secrets-to-esc.yml").read_text()
    assert "toJSON(secrets)" not in text
    with_secrets = [s for s in _steps("export-secrets-to-esc.yml") if "secrets." in str(s)]
    (export,) = with_secrets
    assert export["env"] == {f"SOPHIA_SECRET_{k}": f"${{{{ secrets.{k} }}}}" for k in keys}
    assert "--from-env" in str(export["run"])


def test_actions_are_pinned_by_commit_and_dependencies_by_hash() -> None:
    for workflow in WORKFLOWS:
        for step in _steps(workflow.name):
            uses = step.get("uses")
            if uses:
                ref = str(uses).split("@", 1)[1]
                assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), uses
            if "pip install" in str(step.get("run", "")):
                for line in str(step["run"]).splitlines():
                    if "pip install" in line:
                        assert "--require-hashes" in line or "--no-deps" in line, line


def test_zizmor_finds_nothing() -> None:
    zizmor = str(Path(sys.executable).with_name("zizmor"))
    result = subprocess.run(
        [zizmor, "--offline", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
