"""`sophia preview` end to end: a real process, the real pack, exit codes, JSON, --base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from jsonschema import Draft7Validator

from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import check_resources
from sophia.offline.runner import run_under_mocks
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))
SPECS = REPO / "tests" / "specs"
INFRACOST_SCHEMA = json.loads(
    (REPO / "sophia" / "offline" / "infracost-0.2.schema.json").read_text()
)


def infracost(stdout: str) -> dict[str, Any]:
    """The `--json` document, checked against Infracost's format."""
    data: dict[str, Any] = json.loads(stdout)
    Draft7Validator(INFRACOST_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(data)
    return data


def violations(data: dict[str, Any], level: str = "mandatory") -> list[dict[str, Any]]:
    """Policy violations, where the Infracost format keeps them: the project's diagnostics."""
    kind = "errors" if level == "mandatory" else "warnings"
    found = data["projects"][0]["metadata"].get(kind, [])
    return [{**d["data"], "message": d["message"]} for d in found if "policyName" in d["data"]]


def preview(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOPHIA, "preview", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


def test_sophia_yaml_is_clean() -> None:
    result = preview(SPEC)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "PASSED: no mandatory policy violation — 60 resources" in out
    assert "sophia-ai-prod (stack)" in out
    for fragment in (
        "pulumi-python:dynamic/lambda:Instance gpu-a10-instance",
        "kubernetes:apps/v1:Deployment business-intelligence-deployment",
        "host gpu-a10",
        "547.50",
        "service business-intelligence",
    ):
        assert fragment in out, fragment
    assert "Traceback" not in out + result.stderr


@pytest.mark.parametrize(
    ("spec", "policy", "fragment"),
    [
        ("over-budget.yaml", "monthly-budget", "exceeds the monthly budget of 400.00 USD"),
        ("gpu-over-capacity.yaml", "capacity", "2 of 3 pod(s) at peak"),
        ("eight-gpu-host.yaml", "gpu-instance-allowlist", "not on the allow-list"),
        ("plaintext-webhook.yaml", "no-plaintext-secrets", "env[ALERT_WEBHOOK]"),
    ],
)
def test_specs_that_break_a_mandatory_rule_exit_1(spec: str, policy: str, fragment: str) -> None:
    result = preview(SPECS / spec, "--json")
    assert result.returncode == 1, result.stderr
    mandatory = violations(infracost(result.stdout))
    assert {v["policyName"] for v in mandatory} == {policy}
    assert {v["enforcementLevel"] for v in mandatory} == {"mandatory"}
    assert any(fragment in v["message"] for v in mandatory), mandatory


def _program_with_misplaced_gpu_pod() -> None:
    k8s.apps.v1.Deployment(
        "rogue",
        metadata={"name": "rogue"},
        spec={
            "selector": {"matchLabels": {"app": "rogue"}},
            "template": {
                "metadata": {"labels": {"app": "rogue"}},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "nvcr.io/nvidia/cuda:12.4.0-base-ubuntu22.04",
                            "resources": {
                                "limits": {"nvidia.com/gpu": "1", "cpu": "1", "memory": "1Gi"},
                                "requests": {"cpu": "1", "memory": "1Gi"},
                            },
                        }
                    ]
                },
            },
        },
    )


def test_gpu_placement_through_the_same_engine() -> None:
    """The components always place GPU pods right, so a spec cannot break gpu-placement;
    a hand-written program can, and the same engine and pack catch it."""
    resources, _ = run_under_mocks(_program_with_misplaced_gpu_pod)
    with PolicyPackProcess() as pack:
        diagnostics = check_resources(pack, resources, "dev", {})
    placement = [d for d in diagnostics if d.policy_name == "gpu-placement"]
    assert {d.enforcement_level for d in placement} == {"mandatory"}
    assert len(placement) == 3  # runtime class, node selector, toleration


def test_json_is_infracosts_format() -> None:
    result = preview(SPEC, "--json")
    assert result.returncode == 0
    data = infracost(result.stdout)
    assert data["version"] == "0.2" and data["currency"] == "USD"
    assert data["metadata"]["infracostCommand"] == "breakdown"
    # the A10 at 0.75/h, the warehouse and the index priced by the month (185.54 + 18.45)
    assert (data["totalHourlyCost"], data["totalMonthlyCost"]) == ("1.03", "751.49")
    priced = {r["name"]: r for r in data["projects"][0]["breakdown"]["resources"]}
    warehouse = priced["snowflake:index/warehouse:Warehouse.SOPHIA_ANALYTICS_WH"]
    assert warehouse["monthlyCost"] == "185.54"
    assert warehouse["metadata"]["urn"].endswith("::snowflake-wh-sophia_analytics_wh")
    assert "60 s auto-suspend" in warehouse["costComponents"][0]["name"]
    assert priced["pulumi-python:dynamic/pinecone:Index.bi-documents"]["monthlyCost"] == "18.45"
    assert data["pastTotalMonthlyCost"] is None and data["diffTotalMonthlyCost"] is None
    (project,) = data["projects"]
    assert project["name"] == "sophia-ai/prod"
    assert project["metadata"] == {"path": str(SPEC), "type": "sophia_spec"}  # no violation
    assert project["pastBreakdown"] is None and project["diff"] is None
    host = priced["lambda_cloud_instance.gpu-a10"]
    assert host["metadata"]["urn"].endswith(
        "$pulumi-python:dynamic/lambda:Instance::gpu-a10-instance"
    )
    assert host["costComponents"] == [
        {
            "name": "Instance usage (gpu_1x_a10, 1× a10)",
            "unit": "hours",
            "hourlyQuantity": "1",
            "monthlyQuantity": "730.00",
            "price": "0.75",
            "hourlyCost": "0.75",
            "monthlyCost": "547.50",
            "priceNotFound": False,
        }
    ]
    summary = data["summary"]
    # the host, the warehouse and the index are priced (the last two by usage)
    assert summary["totalDetectedResources"] == len(project["breakdown"]["freeResources"]) + 3
    assert summary["totalUsageBasedResources"] == 2
    assert summary["noPriceResourceCounts"]["kubernetes:apps/v1:Deployment"] == 4


def test_base_shows_the_cost_delta_and_the_changes(tmp_path: Path) -> None:
    grown = (
        SPEC.read_text()
        .replace(
            "cluster:\n",
            "  - name: gpu-a100\n    instanceType: gpu_1x_a100_sxm4\n    region: us-west-1\n"
            "    sshKeys: [sophia-deploy]\n\ncluster:\n",
        )
        .replace("monthlyUsd: 1000", "monthlyUsd: 2000")
    )
    current = tmp_path / "sophia.yaml"
    current.write_text(grown)
    comment = tmp_path / "comment.md"
    result = preview(current, "--json", "--base", SPEC, "--comment", comment)
    assert result.returncode == 0, result.stderr
    data = infracost(result.stdout)
    assert data["metadata"]["infracostCommand"] == "diff"
    assert (
        data["pastTotalMonthlyCost"],
        data["totalMonthlyCost"],
        data["diffTotalMonthlyCost"],
    ) == ("751.49", "1693.19", "941.70")
    (project,) = data["projects"]
    assert [r["name"] for r in project["diff"]["resources"]] == ["lambda_cloud_instance.gpu-a100"]
    listed = project["breakdown"]["resources"] + project["breakdown"]["freeResources"]
    created = {r["name"] for r in listed if r["metadata"].get("operation") == "create"}
    assert created == {
        "lambda_cloud_instance.gpu-a100",
        "command:remote:Command.gpu-a100-bootstrap",
    }
    assert all(r["metadata"].get("operation") in (None, "create") for r in listed)
    text = comment.read_text()
    assert text.startswith("## Monthly cost will increase by $942 (+125%)")
    assert "| sophia-ai/prod | $751.49 | $1,693.19 | +941.70 (+125%) | +2 ~0 -/+0 -0 |" in text


def test_base_from_git() -> None:
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True).returncode:
        pytest.fail("the tests run from a git checkout (CI clones the repository)")
    result = preview(SPEC, "--json", "--base", "git:HEAD:specs/sophia.yaml")
    assert result.returncode == 0, result.stderr
    data = infracost(result.stdout)
    assert data["diffTotalMonthlyCost"] == "0.00"
    assert data["projects"][0]["diff"]["resources"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--base", "git:no-such-ref:specs/sophia.yaml"],
            "--base git:no-such-ref:specs/sophia.yaml:",
        ),
        (["--base", "missing.yaml"], "--base missing.yaml: No such file or directory"),
        (["--base", "git:HEAD"], "expected git:REF:path"),
        (["--policy-config", "missing.json"], "missing.json: policy config file not found"),
    ],
)
def test_bad_options_are_one_clear_line(args: list[str], message: str) -> None:
    result = preview(SPEC, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_config_file_changes_the_verdict(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"monthly-budget": {"monthlyBudgetUsd": 100}}))
    result = preview(SPEC, "--json", "--policy-config", config)
    assert result.returncode == 1
    assert "monthly-budget" in {v["policyName"] for v in violations(infracost(result.stdout))}
    config.write_text(json.dumps({"all": "advisory", "monthly-budget": {"monthlyBudgetUsd": 100}}))
    assert preview(SPEC, "--policy-config", config).returncode == 0


def test_invalid_spec_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: sophia.ai/v1\nkind: Platform\n")
    result = preview(bad)
    assert result.returncode == 2
    assert f"{bad}:1:1: $: missing required field 'metadata'" in result.stderr


def test_staging_stack(tmp_path: Path) -> None:
    result = preview(SPEC, "--stack", "staging", "--json")
    assert result.returncode == 0
    data = infracost(result.stdout)
    assert data["projects"][0]["name"] == "sophia-ai/staging"


def test_headroom_per_host_in_the_report_and_the_json() -> None:
    text = preview(SPEC)
    assert "Capacity at peak (after the system reserve)" in text.stdout
    assert "6.7 / 29" in text.stdout and "1 / 1" in text.stdout
    data = infracost(preview(SPEC, "--json").stdout)
    resources = data["projects"][0]["breakdown"]["resources"]
    (host,) = [r for r in resources if "instanceType" in r["metadata"]]
    assert host["metadata"]["headroom"] == {
        "cpu": "22300m",
        "memory": "184832Mi",
        "gpus": 0,
        "pods": 16,
    }
