"""`sophia secrets export | rotate | status` end to end against the fake ESC API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.esc.definition import new_credential
from sophia.builder import build_platform
from sophia.offline.runner import run_under_mocks
from sophia.spec import load_spec
from tests.conftest import REPO, SPEC
from tests.fakes.esc import VALID_TOKEN, FakeEsc

SOPHIA = str(Path(sys.executable).with_name("sophia"))
ORG = PROJECT = "sophia-ai"
CANARY = "CANARY-esc-7d41"


def canaries() -> dict[str, str]:
    platform = load_spec(SPEC).platform
    assert platform.secrets is not None
    values = {k: f"{CANARY}-{k}-v1" for g in platform.secrets.groups.values() for k in g.keys}
    values["GITHUB_TOKEN"] = f"{CANARY}-github"  # toJSON(secrets) always has it: no group
    return values


def sophia(esc: FakeEsc, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PULUMI_ACCESS_TOKEN": VALID_TOKEN,
        "PULUMI_BACKEND_URL": esc.url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [SOPHIA, "secrets", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


def test_export_round_trip(esc: FakeEsc) -> None:
    values = canaries()
    result = sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "exported to sophia-ai/sophia-ai/production-credentials: 19 added, 0 rotated, "
        "0 unchanged, 0 kept (rotated since)"
    )
    assert "not exported (no group claims them): GITHUB_TOKEN" in result.stderr
    assert_no_canary(result.stdout, result.stderr)
    opened = esc.open(ORG, PROJECT, "production")  # the projection the stack imports
    expected = {k: v for k, v in values.items() if k != "GITHUB_TOKEN"}
    assert opened["environmentVariables"] == expected
    assert opened["pulumiConfig"]["sophia-ai:openrouterApiKey"] == values["OPENROUTER_API_KEY"]
    stored = esc.stored_yaml(ORG, PROJECT, "production-credentials")
    assert_no_canary(stored)  # ciphertext only
    again = sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))
    assert "0 added, 0 rotated, 19 unchanged" in again.stdout


def test_export_of_a_changed_value_rotates_it(esc: FakeEsc) -> None:
    values = canaries()
    sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))
    values["TAVILY_API_KEY"] = f"{CANARY}-tavily-v2"
    result = sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))
    assert "0 added, 1 rotated, 18 unchanged" in result.stdout
    node = esc.open(ORG, PROJECT, "production-credentials")["data_intelligence"]["TAVILY_API_KEY"]
    assert node["active"] == "b" and node["current"] == f"{CANARY}-tavily-v2"
    assert node["a"] == f"{CANARY}-TAVILY_API_KEY-v1"  # the previous value is still there


def test_dry_run_prints_the_grouped_redacted_definition(esc: FakeEsc) -> None:
    result = sophia(esc, "export", "--spec", str(SPEC), "--dry-run", stdin=json.dumps(canaries()))
    assert result.returncode == 0
    assert_no_canary(result.stdout, result.stderr)
    assert "fn::secret: '[redacted]'" in result.stdout
    assert "ai_intelligence:\n    ARIZE_API_KEY:" in result.stdout
    assert (
        "# sophia-ai/sophia-ai/production-ai_intelligence\nimports:\n"
        "- sophia-ai/production-credentials" in result.stdout
    )
    assert "# sophia-ai/sophia-ai/production\nimports:\n- sophia-ai/production-ai_intelligence" in (
        result.stdout
    )
    assert esc.state.requests == []  # nothing was written, nothing was even asked


def test_rotation_keeps_the_previous_value_until_the_next(esc: FakeEsc) -> None:
    values = canaries()
    sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))
    key = "ai_intelligence.OPENROUTER_API_KEY"
    first = sophia(esc, "rotate", key, "--spec", str(SPEC), stdin=f"{CANARY}-or-v2\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"rotated {key}: slot b is active; slot a keeps the previous value until the next rotation"
    )
    node = esc.open(ORG, PROJECT, "production-credentials")["ai_intelligence"]["OPENROUTER_API_KEY"]
    assert (node["a"], node["b"], node["current"]) == (
        values["OPENROUTER_API_KEY"],
        f"{CANARY}-or-v2",
        f"{CANARY}-or-v2",
    )
    projection = esc.open(ORG, PROJECT, "production")
    assert projection["environmentVariables"]["OPENROUTER_API_KEY"] == f"{CANARY}-or-v2"
    second = sophia(esc, "rotate", key, "--spec", str(SPEC), stdin=f"{CANARY}-or-v3")
    assert "slot a is active" in second.stdout
    node = esc.open(ORG, PROJECT, "production-credentials")["ai_intelligence"]["OPENROUTER_API_KEY"]
    assert (node["a"], node["b"]) == (f"{CANARY}-or-v3", f"{CANARY}-or-v2")
    assert_no_canary(first.stdout, first.stderr, second.stdout, second.stderr)


def test_rotate_refuses_unknown_credentials_and_empty_values(esc: FakeEsc) -> None:
    bad = sophia(esc, "rotate", "ai_intelligence.NOPE", "--spec", str(SPEC), stdin="x")
    assert bad.returncode == 2 and "is not a credential of the spec" in bad.stderr
    empty = sophia(esc, "rotate", "ai_intelligence.OPENROUTER_API_KEY", "--spec", str(SPEC))
    assert empty.returncode == 2 and "no new value on stdin" in empty.stderr
    missing = sophia(
        esc, "rotate", "ai_intelligence.OPENROUTER_API_KEY", "--spec", str(SPEC), stdin="v"
    )
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_status_shows_ages_never_values(esc: FakeEsc) -> None:
    now = datetime.now(UTC)
    old = new_credential(
        "ai_intelligence", "ARIZE_API_KEY", f"{CANARY}-old", now - timedelta(days=120)
    )
    fresh = new_credential(
        "ai_intelligence", "OPENROUTER_API_KEY", f"{CANARY}-new", now - timedelta(days=3)
    )
    esc.seed(
        ORG,
        PROJECT,
        "production-credentials",
        {"values": {"ai_intelligence": {"ARIZE_API_KEY": old, "OPENROUTER_API_KEY": fresh}}},
    )
    result = sophia(esc, "status", "--spec", str(SPEC), "--json")
    assert result.returncode == 1  # overdue and missing credentials
    assert_no_canary(result.stdout, result.stderr)
    ages = {f"{a['group']}.{a['key']}": a for a in json.loads(result.stdout)}
    assert ages["ai_intelligence.ARIZE_API_KEY"]["state"] == "expired"
    assert ages["ai_intelligence.ARIZE_API_KEY"]["age_days"] == 120
    assert ages["ai_intelligence.OPENROUTER_API_KEY"] | {"rotated_at": None} == {
        "group": "ai_intelligence",
        "key": "OPENROUTER_API_KEY",
        "active": "a",
        "rotated_at": None,
        "age_days": 3,
        "max_age_days": 90,
        "state": "ok",
        "origin": "export",
    }
    assert ages["business_intelligence.PINECONE_API_KEY"]["state"] == "missing"
    table = sophia(esc, "status", "--spec", str(SPEC))
    assert "ai_intelligence.ARIZE_API_KEY" in table.stdout and "expired" in table.stdout


def test_bad_stdin_and_missing_token(esc: FakeEsc) -> None:
    result = sophia(esc, "export", "--spec", str(SPEC), stdin="OPENROUTER_API_KEY=sk-secret-123")
    assert result.returncode == 2 and "stdin is not JSON" in result.stderr
    assert "sk-secret-123" not in result.stderr + result.stdout
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_ACCESS_TOKEN"}
    no_token = subprocess.run(
        [SOPHIA, "secrets", "status", "--spec", str(SPEC)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert no_token.returncode == 1 and "set PULUMI_ACCESS_TOKEN" in no_token.stderr


def test_kubernetes_secrets_follow_the_active_slot(esc: FakeEsc) -> None:
    """The stack reads the projection's pulumiConfig; a rotation rolls only the pods using it."""
    values = canaries()
    sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values))

    def stack_config() -> dict[str, Any]:
        config = dict(esc.open(ORG, PROJECT, "production")["pulumiConfig"])
        config.update({"sophia-ai:kubeconfig": "k", "sophia-ai:sshPrivateKey": "k"})
        return config

    def annotations(config: dict[str, Any]) -> dict[str, str]:
        def lookup(key: str) -> pulumi.Output[str] | None:
            value = config.get(f"sophia-ai:{key}")
            return None if value is None else pulumi.Output.secret(value)

        resources, _ = run_under_mocks(lambda: build_platform(load_spec(SPEC, "prod"), lookup))
        return {
            r.properties["metadata"]["name"]: r.properties["spec"]["template"]["metadata"][
                "annotations"
            ]["sophia.ai/secrets-checksum"]
            for r in resources
            if r.type == "kubernetes:apps/v1:Deployment"
        }

    before = annotations(stack_config())
    sophia(
        esc,
        "rotate",
        "business_intelligence.PINECONE_API_KEY",
        "--spec",
        str(SPEC),
        stdin=f"{CANARY}-pinecone-v2",
    )
    after = annotations(stack_config())
    assert {n for n in before if before[n] != after[n]} == {"business-intelligence"}


@pytest.mark.parametrize(
    ("credentials_yaml", "problem"),
    [
        (
            "values:\n  ai_intelligence:\n    ARIZE_API_KEY:\n      a: {fn::secret: x}\n"
            "      active: a\n      rotatedAt: last tuesday\n",
            "values.ai_intelligence.ARIZE_API_KEY.rotatedAt is 'last tuesday', not a timestamp",
        ),
        (
            "values:\n  ai_intelligence: [ARIZE_API_KEY]\n",
            "values.ai_intelligence is a list, not a mapping of credentials",
        ),
        (
            "values:\n  ai_intelligence:\n    ARIZE_API_KEY: {a: {fn::secret: x}, active: c}\n",
            "values.ai_intelligence.ARIZE_API_KEY.active is 'c', not a filled slot",
        ),
        ("values: [1, 2\n", "its YAML does not parse"),
    ],
)
def test_an_outside_edit_is_a_clear_error_in_every_command(
    esc: FakeEsc, credentials_yaml: str, problem: str
) -> None:
    esc.seed_yaml(ORG, PROJECT, "production-credentials", credentials_yaml)
    for args, stdin in (
        (("status",), ""),
        (("export",), json.dumps(canaries())),
        (("rotate", "ai_intelligence.ARIZE_API_KEY"), f"{CANARY}-rotated"),
    ):
        result = sophia(esc, *args, "--spec", str(SPEC), stdin=stdin)
        assert result.returncode == 1, (args, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        assert "production-credentials was edited outside sophia" in line, line
        assert problem in line and "Traceback" not in result.stderr
        assert_no_canary(result.stdout, result.stderr)


def test_the_checksum_annotation_is_keyed() -> None:
    """A SHA-256 of a one-key group's value is a dictionary lookup away from the value; the
    annotation is an HMAC under the stack's own key."""
    import hashlib

    from components.secret_bundle import keyed_digest

    password = "hunter2"
    plain = hashlib.sha256(f"SNOWFLAKE_PASSWORD={password}\n".encode()).hexdigest()
    keyed = keyed_digest("k" * 64, [("SNOWFLAKE_PASSWORD", password)])
    assert keyed != plain
    assert keyed != keyed_digest("j" * 64, [("SNOWFLAKE_PASSWORD", password)])
    assert keyed == keyed_digest("k" * 64, [("SNOWFLAKE_PASSWORD", password)])  # stable


def test_export_from_named_environment_variables_only(esc: FakeEsc) -> None:
    """What the workflow runs: one SOPHIA_SECRET_<KEY> per credential of the spec, nothing else
    read (an unrelated variable of the runner is never looked at)."""
    values = {k: v for k, v in canaries().items() if k != "GITHUB_TOKEN"}
    env = {
        **os.environ,
        "PULUMI_ACCESS_TOKEN": VALID_TOKEN,  # the OIDC login's, not the exported credential
        "PULUMI_BACKEND_URL": esc.url,
        "SOPHIA_SECRET_UNRELATED_KEY": f"{CANARY}-unrelated",
        **{f"SOPHIA_SECRET_{k}": v for k, v in values.items()},
    }
    result = subprocess.run(
        [SOPHIA, "secrets", "export", "--from-env", "--spec", str(SPEC)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "19 added" in result.stdout and "UNRELATED" not in result.stdout + result.stderr
    opened = esc.open(ORG, PROJECT, "production")["environmentVariables"]
    assert opened == values
