"""The policies as a preview runs them: the same verdicts, and failures still reported.

`preview_spec` prepares the pack while the program runs and sends the resources pipelined
(`Analysis`); these tests hold its answers to the one-at-a-time ones and check that a pack
which cannot start or a config it refuses ends the preview with the pack's message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sophia.offline.analyzer import Analysis, PolicyPackError, PolicyPackProcess
from sophia.offline.preview import preview_spec
from sophia.offline.runner import PROJECT, run_spec
from sophia.spec import load_stack

ROOT = Path(__file__).resolve().parents[2]


def test_pipelined_answers_are_the_one_at_a_time_ones_in_order() -> None:
    spec = load_stack(ROOT / "specs" / "sophia.yaml", "staging")
    config = {"monthly-budget": {"monthlyBudgetUsd": 10}, "pinned-images": "mandatory"}
    with PolicyPackProcess() as pack:
        with Analysis(pack, config, PROJECT, "staging") as analysis:
            resources, _ = run_spec(spec, "staging")
            pipelined = analysis.finish(resources)
        pack.configure(pack.resolve_config(config))
        pack.configure_stack(PROJECT, "staging")
        sequential = [d for r in resources for d in pack.analyze(r)]
        sequential += pack.analyze_stack(resources)
    assert pipelined == sequential
    assert any(d.policy_name == "monthly-budget" for d in pipelined)


def test_a_config_the_pack_refuses_ends_the_preview_with_its_message() -> None:
    spec = load_stack(ROOT / "specs" / "sophia.yaml", "staging")
    with pytest.raises(PolicyPackError, match="unknown policies: monthly-budgt"):
        preview_spec(spec, "staging", {"monthly-budgt": {"monthlyBudgetUsd": 1}})


def test_a_pack_that_does_not_start_ends_the_preview_with_its_last_words() -> None:
    spec = load_stack(ROOT / "specs" / "sophia.yaml", "staging")
    broken = PolicyPackProcess(args=("-c", "raise SystemExit('no analyzer here')"))
    broken.launch()
    try:
        with pytest.raises(PolicyPackError, match="did not start: no analyzer here"):
            preview_spec(spec, "staging", pack=broken)
    finally:
        broken.stop()


def test_the_cli_reports_a_refused_config_as_bad_input(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "blocking"}), encoding="utf-8")
    sophia = str(Path(sys.executable).with_name("sophia"))
    done = subprocess.run(
        [sophia, "preview", "specs/sophia.yaml", "--policy-config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "enforcement level 'blocking' is not one of" in done.stderr
    assert "Traceback" not in done.stderr
