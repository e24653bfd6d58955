"""`sophia stack init NAME`: the spec's entry, `Pulumi.NAME.yaml`, and shared-cluster safety."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sophia.spec import InvalidSpecError, load_spec
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def test_stack_init_adds_the_stack_and_its_file(tmp_path: Path) -> None:
    shutil.copy(SPEC, tmp_path / "sophia.yaml")
    env = {k: v for k, v in os.environ.items()}
    env["PATH"] = str(Path(sys.executable).parent)  # no Pulumi CLI: files only
    result = subprocess.run(
        [SOPHIA, "stack", "init", "qa", "--spec", "sophia.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote Pulumi.qa.yaml" in result.stdout and "pulumi stack init" in result.stdout
    assert "qa" in load_spec(tmp_path / "sophia.yaml").platform.stacks
    settings = YAML(typ="safe").load((tmp_path / "Pulumi.qa.yaml").read_text())
    assert settings == {
        "environment": ["sophia-ai/production"],
        "config": {"sophia-ai:spec": "sophia.yaml"},
    }
    again = subprocess.run(
        [SOPHIA, "stack", "init", "qa", "--spec", "sophia.yaml"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "exists already" in again.stderr


def test_stacks_sharing_an_existing_clusters_namespace_are_refused(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    text = (REPO / "specs" / "examples" / "minimal.yaml").read_text(encoding="utf-8")
    shared = write_spec(text + "stacks:\n  prod: {}\n  staging: {}\n", "shared.yaml")
    with pytest.raises(InvalidSpecError) as caught:
        load_spec(shared)
    assert "would deploy into the same namespace" in str(caught.value)
    separate = write_spec(
        text + "stacks:\n  prod: {}\n  staging: {namespace: staging}\n", "separate.yaml"
    )
    assert load_spec(separate)
