"""One file of pinned versions: the built toolchain, pyproject and the policy pack agree."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO

VERSIONS = REPO / "toolchain" / "versions.env"


def pinned() -> dict[str, str]:
    found = {}
    for line in VERSIONS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key] = value
    return found


def _exact_pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", requirement)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_pyproject_pins_the_sdks_of_the_built_toolchain() -> None:
    versions = pinned()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = _exact_pins(project["project"]["dependencies"])
    assert pins["pulumi"] == versions["PULUMI_VERSION"]
    assert pins["pulumi-kubernetes"] == versions["PULUMI_KUBERNETES_VERSION"]
    assert pins["pulumi-command"] == versions["PULUMI_COMMAND_VERSION"]


def test_the_policy_pack_runs_on_the_same_pulumi() -> None:
    lines = (REPO / "policies" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = _exact_pins(lines)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pins["pulumi"] == pinned()["PULUMI_VERSION"]
    assert pins["pulumi-policy"] == _exact_pins(project["project"]["dependencies"])["pulumi-policy"]


def test_every_version_is_a_plain_release() -> None:
    for key, value in pinned().items():
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", value), f"{key}={value}"
