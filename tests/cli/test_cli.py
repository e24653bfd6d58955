"""The `sophia` command as a user runs it: a real process, exit codes, and no tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, SPEC

SOPHIA = Path(sys.executable).with_name("sophia")
ERROR_LINE = re.compile(r"^.+:\d+:\d+: \S+: .+$")


def sophia(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # wide tables, whatever terminal runs the tests
    return subprocess.run(
        [str(SOPHIA), *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], errors: int) -> list[str]:
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{errors} problem{'s' if errors != 1 else ''} found"
    assert all(ERROR_LINE.match(line) for line in lines[:-1]), lines
    return lines[:-1]


def test_validate_the_committed_specs() -> None:
    result = sophia("validate", SPEC, *EXAMPLES)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"{SPEC}: valid — 4 services, 1 host, 19 credentials; stacks: prod, staging"
    )
    assert len(result.stdout.splitlines()) == 1 + len(EXAMPLES)


def test_validate_defaults_to_specs_sophia_yaml() -> None:
    result = sophia("validate")
    assert result.returncode == 0
    assert result.stdout.startswith("specs/sophia.yaml: valid")


def test_validate_reports_every_problem_of_every_file(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    bad = write_spec(
        "apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: x}\n"
        "budget: {monthlyUsd: 0}\nservices: [{name: a, image: nginx, replicsa: 2}]\n"
    )
    result = sophia("validate", bad, tmp_path / "missing.yaml", SPEC)
    lines = assert_clean_failure(result, 3)
    assert lines == [
        f"{bad}:4:10: budget.monthlyUsd: must be greater than 0, got 0",
        f"{bad}:5:36: services[a].replicsa: unknown field 'replicsa' (did you mean 'replicas'?)",
        f"{tmp_path / 'missing.yaml'}:1:1: $: file not found",
    ]
    assert "specs/sophia.yaml: valid" in result.stdout  # good files are still reported


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "is a binary file, not YAML text"),
        (b"- a\n- b\n", "the top level is a list"),
        (b"x: 1\n" * (2 * 1024 * 1024), "file is 10.0 MiB; a spec may be at most 1 MiB"),
    ],
    ids=["empty", "binary", "list", "ten-megabytes"],
)
def test_unusable_files_get_one_clear_line(
    write_spec: Callable[..., Path], content: bytes, message: str
) -> None:
    result = sophia("validate", write_spec(content))
    (line,) = assert_clean_failure(result, 1)
    assert message in line


def test_unknown_stack() -> None:
    result = sophia("validate", SPEC, "--stack", "prdo")
    (line,) = assert_clean_failure(result, 1)
    assert "no stack 'prdo' here (did you mean 'prod'?)" in line


def test_values_quoted_from_the_spec_are_printed_as_written(
    write_spec: Callable[..., Path],
) -> None:
    bad = write_spec(
        "apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: 'x:fire:'}\n"
        "budget: {monthlyUsd: 10}\n"
    )
    (line,) = assert_clean_failure(sophia("validate", bad), 1)
    assert "got 'x:fire:'" in line, line  # not rich's emoji for :fire:


def test_version_and_help() -> None:
    version = sophia("--version")
    assert version.returncode == 0
    assert re.fullmatch(r"sophia \d+\.\d+\.\d+\S*\n", version.stdout)
    for command in ([], ["validate"], ["summary"], ["schema"], ["catalog"]):
        result = sophia(*command, "--help")
        assert result.returncode == 0, command
        assert "Usage: sophia" in result.stdout


def test_schema_prints_the_committed_schema() -> None:
    result = sophia("schema")
    assert result.returncode == 0
    assert result.stdout == (REPO / "specs" / "sophia.schema.json").read_text(encoding="utf-8")
    assert sophia("schema", "--check", "specs/sophia.schema.json").returncode == 0


def test_schema_check_detects_drift(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    result = sophia("schema", "--check", stale)
    assert result.returncode == 1
    assert "out of date" in result.stderr


def test_summary_shows_hosts_services_gpus_and_secret_groups() -> None:
    result = sophia("summary", SPEC)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in (
        "sophia-ai (production)",
        "k3s on 1 host; 4 services; GPUs: 1 wanted at peak, 1 on hosts; 19 credentials in 4 groups",
        "751.49 USD/month of a 1,000.00 USD budget",
        "warehouse SOPHIA_ANALYTICS_WH",
        "pinecone index bi-documents",
        "gpu-a10",
        "k3s server",
        "gpu_1x_a10",
        "ai-intelligence",
        "data-intelligence",
        "business-intelligence",
        "infrastructure",
        "1× a10",
        "2–4",
        "ai_intelligence",
        "data_intelligence",
        "business_intelligence",
    ):
        assert expected in text, expected


def test_summary_of_a_staging_stack() -> None:
    result = sophia("summary", SPEC, "--stack", "staging")
    assert result.returncode == 0
    assert "sophia-ai (staging, stack staging)" in result.stdout
    assert "800.00 USD budget" in result.stdout


def test_catalog_lists_instance_types_with_prices() -> None:
    result = sophia("catalog")
    assert result.returncode == 0
    assert re.search(r"gpu_1x_a10\s.*\ba10\b.*0\.75\s.*547\.50", result.stdout)
    assert "taken 2025-11-01" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("policy-config",),
        ("plan",),
        ("summary",),
        ("render", "--out", "OUT"),
        ("preview",),
        ("up", "--yes"),
        ("outputs", "--spec"),
        ("scale", "infrastructure", "2", "--spec"),
        ("mcp-config", "--out", "OUT", "--spec"),
    ],
    ids=lambda c: c[0],
)
def test_every_command_reports_an_invalid_spec_with_its_location(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """Exit 2 and located one-line errors — never an internal error (exit 70), whichever
    command reads the spec first (`policy-config` once crashed on the default stack)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: x}\n")
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = sophia(*args, bad)  # the spec last: an argument, or the value of --spec
    assert result.returncode == 2, (command, result.stdout, result.stderr)
    assert f"{bad}:" in result.stderr and "budget" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
