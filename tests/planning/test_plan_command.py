"""`sophia plan` on the real spec: the seed's "high business intelligence load" planned,
explained, refused over budget, and applied as one checked edit (comments kept)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sophia.spec import load_spec
from tests.conftest import SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOPHIA, "plan", *args], capture_output=True, text=True, timeout=120,
        env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip


def test_three_bi_replicas_need_three_a10s_and_say_so(tmp_path: Path) -> None:
    result = _plan(str(SPEC), "-r", "business-intelligence=3", "--json")
    assert result.returncode == 1  # over the prod budget of 1000
    report = json.loads(result.stdout)
    assert report["feasible"] and not report["withinBudget"]
    assert [h["instance_type"] for h in report["hosts"]] == ["gpu_1x_a10"] * 3
    assert report["hosts"][0]["name"] == "gpu-a10"  # the existing host keeps its name
    # three A10s 1642.50 and the data services 203.99, as they are
    assert report["hostsMonthlyUsd"] == 1642.5 and report["dataServicesMonthlyUsd"] == 203.99
    assert report["monthlyUsd"] == 1846.49 and report["deltaMonthlyUsd"] == 1095.0
    assert report["binding"].startswith("GPUs")
    assert report["demand"]["business-intelligence"] == 3


def test_apply_writes_hosts_and_replicas_only_if_every_stack_passes(tmp_path: Path) -> None:
    spec = tmp_path / "sophia.yaml"
    spec.write_text(SPEC.read_text().replace("monthlyUsd: 1000", "monthlyUsd: 1900"))
    before = spec.read_bytes()
    refused = _plan(str(spec), "-r", "business-intelligence=3", "--apply")
    assert refused.returncode == 1 and "staging: monthly-budget" in refused.stderr
    assert spec.read_bytes() == before  # staging's 800 refuses it: nothing written

    spec.write_text(spec.read_text().replace("monthlyUsd: 800", "monthlyUsd: 1900"))
    comments = [line for line in spec.read_text().splitlines() if line.lstrip().startswith("#")]
    applied = _plan(str(spec), "-r", "business-intelligence=3", "--apply")
    assert applied.returncode == 0, applied.stderr
    platform = load_spec(spec, "prod").platform
    assert [h.instance_type for h in platform.hosts] == ["gpu_1x_a10"] * 3
    bi = platform.service("business-intelligence")
    assert bi is not None and bi.replicas == 3 and bi.host is None
    assert all(h.file_systems == ["sophia-models"] for h in platform.hosts)
    kept = [line for line in spec.read_text().splitlines() if line.lstrip().startswith("#")]
    assert kept == comments


def test_the_cheapest_type_wins_and_bad_demands_are_clear() -> None:
    bad = _plan(str(SPEC), "-r", "business-intelligence=many")
    assert bad.returncode == 2 and "expected SERVICE=N" in bad.stderr
    unknown = _plan(str(SPEC), "-r", "nope=2")
    assert unknown.returncode == 2 and "no service nope" in unknown.stderr
    assert "Traceback" not in bad.stderr + unknown.stderr
