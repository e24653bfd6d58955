"""The Pulumi project files as Pulumi's own tools read them."""

from __future__ import annotations

from ruamel.yaml import YAML

from sophia.spec import load_spec
from tests.conftest import REPO, SPEC

yaml = YAML(typ="safe", pure=True)


def test_the_pip_toolchain_has_a_requirements_file_that_installs_the_project() -> None:
    project = yaml.load(REPO / "Pulumi.yaml")
    assert project["runtime"]["options"]["toolchain"] == "pip"
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["-e ."]


def test_every_stack_of_the_spec_has_its_stack_file() -> None:
    for stack in load_spec(SPEC).platform.stacks:
        settings = yaml.load(REPO / f"Pulumi.{stack}.yaml")
        assert settings["config"]["sophia-ai:spec"] == "specs/sophia.yaml", stack
        esc = load_spec(SPEC, stack).platform.secrets
        assert esc is not None
        assert settings["environment"] == [f"{esc.esc.project}/{esc.esc.environment}"], stack
