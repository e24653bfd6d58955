"""The spec the README shows is one `sophia preview` passes, as the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def test_the_readme_example_spec_passes_the_preview(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The spec", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README's spec section has no yaml block"
    spec = tmp_path / "sophia.yaml"
    spec.write_text(match.group(1), encoding="utf-8")
    for stack in ("prod", "staging"):
        result = subprocess.run(
            [SOPHIA, "preview", str(spec), "--stack", stack],
            capture_output=True,
            text=True,
            timeout=120,
            env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "PASSED: no mandatory policy violation" in result.stdout
