"""The real Pulumi CLI and engine (file backend) with the real policy pack and the project's
dynamic providers: Lambda instances, SSH keys, file systems and firewall rulesets, ESC
environments, against the loopback fakes.

The program runs through the Automation API (an inline program: the engine talks to the
program over Pulumi's language protocol). What the offline engine records for the very same
program — URNs, types, parents and policy verdicts — must be what the real engine reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from components.esc import EscEnvironment, EscEnvironmentArgs
from components.gpu_host import k3s_firewall_rules
from components.lambda_cloud.firewall import LambdaFirewallRuleset
from components.lambda_cloud.resources import LambdaInstance, LambdaInstanceArgs, LambdaSshKey
from components.lambda_cloud.storage import LambdaFileSystem
from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import check_resources
from sophia.offline.runner import PROJECT, run_under_mocks
from tests.conftest import REPO, SPEC
from tests.e2e.engine import EventLog, scan_for
from tests.fakes.esc import VALID_TOKEN, FakeEsc
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud

STACK = "e2e"
CANARY = "canary-3f9c1e7d-config-secret"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e e2e"
POLICY_CONFIG = {"monthly-budget": {"monthlyBudgetUsd": 1000, "hoursPerMonth": 730}}


class CloudPieces(pulumi.ComponentResource):
    """A component with dynamic children, as LambdaGpuHost and EscSecretBundle have."""

    def __init__(
        self,
        name: str,
        lambda_url: str,
        esc_url: str,
        instance_type: str,
        admin_network: str = "203.0.113.0/24",
    ) -> None:
        super().__init__("sophia:e2e:CloudPieces", name, None)
        child = pulumi.ResourceOptions(parent=self)
        weights = LambdaFileSystem(
            f"{name}-weights",
            name="e2e-weights",
            region="us-west-1",
            api_key=VALID_KEY,
            api_base=lambda_url,
            opts=child.merge(pulumi.ResourceOptions(retain_on_delete=True)),
        )
        firewall = LambdaFirewallRuleset(
            f"{name}-firewall",
            name=f"sophia-ai-{STACK}-k3s",
            region="us-west-1",
            rules=k3s_firewall_rules([admin_network], "10.0.0.0/8"),
            api_key=VALID_KEY,
            api_base=lambda_url,
            opts=child,
        )
        key = LambdaSshKey(
            f"{name}-ssh-key",
            name="sophia-e2e",
            public_key=PUBLIC_KEY,
            api_key=VALID_KEY,
            api_base=lambda_url,
            opts=child,
        )
        self.instance = LambdaInstance(
            f"{name}-instance",
            LambdaInstanceArgs(
                name=f"sophia-ai-{STACK}-{name}",
                instance_type_name=instance_type,
                region_name="us-west-1",
                ssh_key_names=["sophia-e2e"],
                file_system_names=[weights.name],
                firewall_ruleset_ids=[firewall.ruleset_id],
                api_key=VALID_KEY,
                api_base=lambda_url,
                poll_interval_seconds=1,
                boot_timeout_seconds=60,
            ),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[key])),
        )
        EscEnvironment(
            f"{name}-esc",
            EscEnvironmentArgs(
                organization="sophia-ai",
                project="sophia-ai",
                environment="e2e",
                yaml=pulumi.Output.secret("values:\n  region: us-west-1\n"),
                access_token=VALID_TOKEN,
                api_url=esc_url,
                definition_is_secret=True,
            ),
            opts=child,
        )
        self.register_outputs({"ip": self.instance.ip})


def program(lambda_cloud: FakeLambdaCloud, esc: FakeEsc) -> Callable[[], None]:
    def run() -> None:
        config = pulumi.Config()
        instance_type = config.get("instanceType") or "gpu_1x_a10"
        admin = config.get("adminNetwork") or "203.0.113.0/24"
        pieces = CloudPieces("gpu", lambda_cloud.base_url, esc.url, instance_type, admin)
        pulumi.export("ip", pieces.instance.ip)

    return run


@pytest.fixture
def workspace(
    tmp_path: Path, pulumi_env: dict[str, str], lambda_cloud: FakeLambdaCloud, esc: FakeEsc
) -> auto.Stack:
    work = tmp_path / "project"
    work.mkdir()
    stack = auto.create_or_select_stack(
        stack_name=STACK,
        project_name=PROJECT,
        program=program(lambda_cloud, esc),
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(work),
            env_vars={**pulumi_env, "PULUMI_PYTHON_CMD": sys.executable},
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        ),
    )
    stack.set_config("canary", auto.ConfigValue(CANARY, secret=True))
    return stack


def _pack() -> str:
    venv = REPO / "policies" / "venv" / "bin" / "python"
    assert venv.exists(), "the policy pack's virtualenv is missing: `make policy-venv`"
    return str(REPO / "policies")


def _offline(
    lambda_cloud: FakeLambdaCloud,
    esc: FakeEsc,
    instance_type: str,
    config: dict[str, Any] = POLICY_CONFIG,
) -> Any:
    def with_type() -> None:
        pieces = CloudPieces("gpu", lambda_cloud.base_url, esc.url, instance_type)
        pulumi.export("ip", pieces.instance.ip)

    resources, _ = run_under_mocks(with_type, STACK)
    with PolicyPackProcess() as pack:
        diagnostics = check_resources(pack, resources, STACK, config)
    return resources, diagnostics


def test_preview_matches_the_offline_engine(
    workspace: auto.Stack, tmp_path: Path, lambda_cloud: FakeLambdaCloud, esc: FakeEsc
) -> None:
    """Over budget and off the allow-list: the same resources and the same verdicts."""
    workspace.set_config("instanceType", auto.ConfigValue("gpu_8x_h100_sxm5"))
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps(POLICY_CONFIG))
    log = EventLog()
    with pytest.raises(auto.CommandError):  # mandatory violations fail the preview
        workspace.preview(
            policy_packs=[_pack()], policy_pack_configs=[str(config_file)], on_event=log
        )
    resources, diagnostics = _offline(lambda_cloud, esc, "gpu_8x_h100_sxm5")

    assert log.planned() == {(r.urn, r.type, r.parent) for r in resources}
    assert log.violations() == sorted(
        (d.policy_name, d.enforcement_level, d.urn) for d in diagnostics
    )
    assert {v[0] for v in log.violations()} == {"gpu-instance-allowlist", "monthly-budget"}
    assert lambda_cloud.live_instances() == []  # a preview creates nothing


@pytest.mark.parametrize(("spec_stack", "fails"), [("prod", False), ("staging", True)])
def test_per_stack_budgets_reach_the_real_engine(
    workspace: auto.Stack,
    tmp_path: Path,
    lambda_cloud: FakeLambdaCloud,
    esc: FakeEsc,
    spec_stack: str,
    fails: bool,
) -> None:
    """An A100 host (941.70 USD/month) fits prod's 1000 but not staging's 800 (specs/sophia.yaml):
    the config `sophia policy-config --stack S` writes gives both engines the same verdict."""
    config_file = tmp_path / "policy-config.json"
    subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "sophia"),
            "policy-config",
            "--stack",
            spec_stack,
            "--out",
            str(config_file),
            str(SPEC),
        ],
        check=True,
    )
    config = json.loads(config_file.read_text())
    workspace.set_config("instanceType", auto.ConfigValue("gpu_1x_a100_sxm4"))
    log = EventLog()
    try:
        workspace.preview(
            policy_packs=[_pack()], policy_pack_configs=[str(config_file)], on_event=log
        )
        failed = False
    except auto.CommandError:
        failed = True
    _, diagnostics = _offline(lambda_cloud, esc, "gpu_1x_a100_sxm4", config)
    assert failed is fails
    assert log.violations() == sorted(
        (d.policy_name, d.enforcement_level, d.urn) for d in diagnostics
    )
    assert [v[0] for v in log.violations()] == (["monthly-budget"] if fails else [])


def test_up_update_replace_leak_check_and_destroy(
    workspace: auto.Stack,
    tmp_path: Path,
    pulumi_env: dict[str, str],
    lambda_cloud: FakeLambdaCloud,
    esc: FakeEsc,
) -> None:
    first = workspace.up(policy_packs=[_pack()])
    assert first.summary.result == "succeeded"
    assert first.summary.resource_changes == {"create": 7}
    live = lambda_cloud.live_instances()
    assert [i["instance_type"]["name"] for i in live] == ["gpu_1x_a10"]
    assert live[0]["file_system_names"] == ["e2e-weights"]
    (ruleset,) = lambda_cloud.state.firewall_rulesets.values()
    assert live[0]["firewall_rulesets"] == [{"id": ruleset["id"]}]
    assert first.outputs["ip"].value == live[0]["ip"]
    assert esc.open("sophia-ai", "sophia-ai", "e2e") == {"region": "us-west-1"}

    again = workspace.up(policy_packs=[_pack()])
    assert again.summary.resource_changes == {"same": 7}
    assert lambda_cloud.state.launches == 1

    # Narrower admin access patches the ruleset in place; the instance keeps running.
    workspace.set_config("adminNetwork", auto.ConfigValue("198.51.100.0/24"))
    narrowed = workspace.up(policy_packs=[_pack()])
    assert narrowed.summary.resource_changes == {"update": 1, "same": 6}
    assert {r["source_network"] for r in ruleset["rules"]} == {"198.51.100.0/24", "10.0.0.0/8"}
    assert lambda_cloud.state.launches == 1

    # A new instance type replaces the instance (Lambda cannot resize one): the plan says so.
    workspace.set_config("instanceType", auto.ConfigValue("gpu_1x_a6000"))
    log = EventLog()
    workspace.preview(policy_packs=[_pack()], on_event=log)
    instance = "urn:pulumi:e2e::sophia-ai::sophia:e2e:CloudPieces$pulumi-python:dynamic/lambda:Instance::gpu-instance"
    assert log.operations() == {instance: {"create-replacement", "replace", "delete-replaced"}}
    replaced = workspace.up(policy_packs=[_pack()])
    assert replaced.summary.resource_changes == {"replace": 1, "same": 6}
    live = lambda_cloud.live_instances()
    assert [i["instance_type"]["name"] for i in live] == ["gpu_1x_a6000"]

    # `pulumi stack export` as a user runs it (the Automation API's export shows secrets).
    exported = subprocess.run(
        ["pulumi", "stack", "export", "--stack", STACK],
        cwd=workspace.workspace.work_dir,
        env={**os.environ, **pulumi_env},
        capture_output=True,
        text=True,
        check=True,
    )
    state = exported.stdout
    assert json.loads(state)["deployment"]["resources"]
    files = tmp_path / "state"
    for canary in (CANARY, VALID_KEY, VALID_TOKEN):
        assert canary not in state
        assert scan_for(canary, files) == []

    gone = workspace.destroy()
    assert gone.summary.resource_changes == {"delete": 7}
    # The file system is retained (its data outlives the stack); the ruleset is not.
    assert [f["name"] for f in lambda_cloud.state.file_systems.values()] == ["e2e-weights"]
    assert lambda_cloud.state.firewall_rulesets == {}
    assert {i["status"] for i in lambda_cloud.live_instances()} <= {"terminating"}
    assert ("sophia-ai", "sophia-ai", "e2e") not in esc.state.environments
    assert not any(k["name"] == "sophia-e2e" for k in lambda_cloud.state.ssh_keys.values())
    twice = workspace.destroy()
    assert twice.summary.resource_changes in ({}, None)
