"""`sophia policy-config`: the policy pack's config for a stack, from its spec."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sophia.policy_config import policy_config
from sophia.spec import load_spec
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOPHIA, "policy-config", *map(str, args)], cwd=REPO, capture_output=True, text=True
    )


USAGE = {
    "snowflakeUsdPerCredit": 3.0,
    "warehouseActiveHoursPerDay": {"SOPHIA_ANALYTICS_WH": 2.0},
    "pineconeUsage": {
        "bi-documents": {
            "readUnitsPerMonth": 1_000_000.0,
            "writeUnitsPerMonth": 200_000.0,
            "storageGb": 5.0,
        }
    },
}
"""What the budget policy cannot read from the resources: the spec's usage assumptions."""


def test_per_stack_budgets() -> None:
    prod = json.loads(_run(SPEC, "--stack", "prod").stdout)
    staging = json.loads(_run(SPEC, "--stack", "staging").stdout)
    assert prod["monthly-budget"] == {"monthlyBudgetUsd": 1000.0, "hoursPerMonth": 730, **USAGE}
    assert staging["monthly-budget"]["monthlyBudgetUsd"] == 800.0
    # Data is protected from deletion in production only.
    assert prod["data-deletion-protection"] == {"required": True}
    assert staging["data-deletion-protection"] == {"required": False}


def test_spec_policies_and_a_merged_file(
    write_spec: Callable[[str | bytes, str], Path], tmp_path: Path
) -> None:
    spec = write_spec(
        SPEC.read_text(encoding="utf-8").replace(
            "budget:\n  monthlyUsd: 1000\n",
            "budget:\n  monthlyUsd: 1000\npolicies:\n"
            "  allowedInstanceTypes: [gpu_1x_a10]\n  maxGpusPerHost: 1\n"
            "  enforcement: {all: advisory, monthly-budget: mandatory}\n",
        ),
        "sophia.yaml",
    )
    derived = policy_config(load_spec(spec, "prod").platform)
    assert derived == {
        "all": "advisory",
        "monthly-budget": {
            "monthlyBudgetUsd": 1000.0,
            "hoursPerMonth": 730,
            **USAGE,
            "enforcementLevel": "mandatory",
        },
        "data-deletion-protection": {"required": True},
        "gpu-instance-allowlist": {"allowedInstanceTypes": ["gpu_1x_a10"], "maxGpusPerHost": 1},
    }
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps({"monthly-budget": {"monthlyBudgetUsd": 50}, "pinned-images": "disabled"})
    )
    out = tmp_path / "config.json"
    assert _run(spec, "--stack", "prod", "--merge", extra, "--out", out).returncode == 0
    merged = json.loads(out.read_text())
    assert merged["monthly-budget"]["monthlyBudgetUsd"] == 50  # the file wins
    assert merged["monthly-budget"]["enforcementLevel"] == "mandatory"  # the rest is kept
    assert merged["pinned-images"] == "disabled"


def test_the_offline_preview_uses_the_same_config(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    """A spec that makes the budget advisory passes `sophia preview` though it overruns it."""
    spec = write_spec(
        SPEC.read_text(encoding="utf-8").replace(
            "budget:\n  monthlyUsd: 1000\n",
            "budget:\n  monthlyUsd: 100\npolicies:\n  enforcement: {monthly-budget: advisory}\n",
        ),
        "sophia.yaml",
    )
    result = subprocess.run(
        [SOPHIA, "preview", str(spec)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-800:]
    assert "monthly-budget" in result.stdout  # reported, as advisory


def test_a_bad_merge_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1")
    result = _run(SPEC, "--merge", bad)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid JSON" in result.stderr
