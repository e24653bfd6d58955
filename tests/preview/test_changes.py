"""Replacements are first-class in the plan: the operation each provider would choose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s
import pytest

from sophia.offline.changes import Plan, plan_changes
from sophia.offline.runner import run_under_mocks
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def _plan(before: Callable[[], None], after: Callable[[], None]) -> Plan:
    old, _ = run_under_mocks(before)
    new, _ = run_under_mocks(after)
    return plan_changes(old, new)


def _deployment(selector: str, image: str) -> Callable[[], None]:
    def program() -> None:
        k8s.apps.v1.Deployment(
            "api",
            metadata={"name": "api"},
            spec={
                "selector": {"matchLabels": {"app": selector}},
                "template": {
                    "metadata": {"labels": {"app": selector}},
                    "spec": {"containers": [{"name": "api", "image": image}]},
                },
            },
        )

    return program


def test_a_new_image_updates_a_new_selector_replaces_deleting_first() -> None:
    image = _plan(_deployment("api", "api:1"), _deployment("api", "api:2"))
    assert [(c.operation, c.fields) for c in image.changes] == [
        ("update", ("spec.template.spec.containers",))
    ]
    selector = _plan(_deployment("api", "api:1"), _deployment("api-v2", "api:1"))
    (change,) = selector.changes
    assert change.operation == "replace" and change.delete_before_replace  # a fixed name
    assert "spec.selector.matchLabels.app" in change.fields
    assert change.marker == "-/+"


def _secret(value: str, mutable: bool | None) -> Callable[[], None]:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}", enable_secret_mutable=mutable)
        k8s.core.v1.Secret(
            "creds",
            metadata={"name": "creds"},
            string_data={"KEY": pulumi.Output.secret(value)},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return program


@pytest.mark.parametrize(("mutable", "operation"), [(None, "replace"), (True, "update")])
def test_secret_data_follows_the_providers_setting(mutable: bool | None, operation: str) -> None:
    plan = _plan(_secret("old-value", mutable), _secret("new-value", mutable))
    (change,) = [c for c in plan.changes if c.type == "kubernetes:core/v1:Secret"]
    assert change.operation == operation
    assert "new-value" not in repr(plan)  # fields are paths, never values


def _command(trigger: str, create: str) -> Callable[[], None]:
    def program() -> None:
        command.remote.Command(
            "boot",
            connection={"host": "192.0.2.1"},
            create=create,
            triggers=[trigger],
        )

    return program


def test_command_triggers_replace_other_changes_update() -> None:
    assert _plan(_command("a", "x"), _command("b", "x")).changes[0].operation == "replace"
    assert _plan(_command("a", "x"), _command("a", "y")).changes[0].operation == "update"


def _preview(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOPHIA, "preview", str(spec), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        timeout=120,
        check=False,
    )


def test_replacing_the_k3s_server_is_a_loud_warning(tmp_path: Path) -> None:
    """A new instance type for the server host: the plan says replace (the Lambda provider's
    own diff), the cluster goes with it, and both the report and the PR comment say so."""
    resized = tmp_path / "sophia.yaml"
    resized.write_text(
        SPEC.read_text()
        .replace("instanceType: gpu_1x_a10", "instanceType: gpu_1x_a6000")
        .replace("gpu: {count: 1, type: a10}", "gpu: {count: 1, type: a6000}")
    )
    comment = tmp_path / "comment.md"
    text = _preview(resized, "--base", str(SPEC), "--comment", str(comment))
    assert text.returncode == 0, text.stderr
    assert "1 to replace" in text.stdout
    assert (
        "-/+ pulumi-python:dynamic/lambda:Instance gpu-a10-instance (instance_type_name) — "
        "deleted first" in text.stdout
    )
    assert "WARNING: gpu-a10-instance — replaces the k3s server's Lambda instance" in text.stdout
    markdown = comment.read_text()
    assert "> [!WARNING]" in markdown
    assert "> **gpu-a10-instance**: replaces the k3s server's Lambda instance" in markdown
    assert "-/+1" in markdown

    data = json.loads(_preview(resized, "--base", str(SPEC), "--json").stdout)
    (project,) = data["projects"]
    (host,) = [r for r in project["breakdown"]["resources"] if "instanceType" in r["metadata"]]
    assert host["metadata"]["operation"] == "replace"
    assert host["metadata"]["deleteBeforeReplace"] is True
    assert "k3s server" in host["metadata"]["warning"]
    assert any(w["code"] == 1101 for w in project["metadata"]["warnings"])


def test_a_scale_change_is_an_update_and_nothing_else(tmp_path: Path) -> None:
    scaled = tmp_path / "sophia.yaml"
    scaled.write_text(
        SPEC.read_text().replace(
            "replicas: 1\n    ports:\n      - {name: http, port: 9000}",
            "replicas: 2\n    ports:\n      - {name: http, port: 9000}",
        )
    )
    result = _preview(scaled, "--base", str(SPEC))
    assert "0 to create, 1 to update, 0 to replace, 0 to delete" in result.stdout
    assert (
        "~ kubernetes:apps/v1:Deployment infrastructure-deployment (spec.replicas)" in result.stdout
    )
    assert "WARNING" not in result.stdout
