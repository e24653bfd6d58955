"""Each consumer gets exactly what the spec grants it, and new keys reach it with the export:
what every derived environment exports, opened through the fake ESC API's evaluator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from components.esc import EscGateway
from sophia.secrets.layout import esc_layout
from sophia.secrets.sync import export
from sophia.spec import load_spec
from tests.conftest import SPEC
from tests.esc.test_secrets_cli import canaries, sophia
from tests.fakes.esc import VALID_TOKEN, FakeEsc

ORG = PROJECT = "sophia-ai"


def test_every_mcp_server_and_group_environment_exports_only_its_grant(esc: FakeEsc) -> None:
    platform = load_spec(SPEC).platform
    assert platform.secrets is not None
    export(EscGateway(VALID_TOKEN, esc.url), platform, canaries(), datetime.now(UTC))
    groups = platform.secrets.groups
    layout = esc_layout(platform)

    def exported(env_name: str) -> set[str]:
        return set(esc.open(ORG, PROJECT, env_name)["environmentVariables"])

    granted = {m.name: {k for g in m.secret_groups for k in groups[g].keys} for m in platform.mcp}
    granted["sophia"] = {"PULUMI_ACCESS_TOKEN"}
    assert {name: exported(env.name) for name, env in layout.mcp.items()} == granted
    assert granted["pinecone"] == {
        "SNOWFLAKE_ACCOUNT",
        "SNOWFLAKE_USER",
        "SNOWFLAKE_PASSWORD",
        "PINECONE_API_KEY",
    }
    for group, env in layout.groups.items():
        assert exported(env.name) == set(groups[group].keys)
    assert exported("production") == set(platform.credential_keys)  # what the stack imports


def test_a_new_group_reaches_the_stack_environment_with_its_export(
    esc: FakeEsc, write_spec: Callable[[str | bytes, str], Path]
) -> None:
    values = canaries()
    assert sophia(esc, "export", "--spec", str(SPEC), stdin=json.dumps(values)).returncode == 0
    text = SPEC.read_text().replace(
        "  groups:\n",
        "  groups:\n    search:\n      prefixes: [EXA_]\n      keys: [EXA_API_KEY]\n",
        1,
    )
    spec = write_spec(text, "sophia.yaml")
    values["EXA_API_KEY"] = "CANARY-esc-7d41-exa"
    result = sophia(esc, "export", "--spec", str(spec), stdin=json.dumps(values))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    opened = esc.open(ORG, PROJECT, "production")
    assert opened["environmentVariables"]["EXA_API_KEY"] == "CANARY-esc-7d41-exa"
    assert opened["pulumiConfig"]["sophia-ai:exaApiKey"] == "CANARY-esc-7d41-exa"


def test_prefix_only_keys_are_named_with_the_edit_or_adopted(
    esc: FakeEsc, write_spec: Callable[[str | bytes, str], Path]
) -> None:
    spec = write_spec(SPEC.read_text(), "sophia.yaml")
    comments = [line for line in SPEC.read_text().splitlines() if line.lstrip().startswith("#")]
    values = canaries() | {"SNOWFLAKE_WAREHOUSE": "CANARY-esc-7d41-wh"}
    reported = sophia(esc, "export", "--spec", str(spec), stdin=json.dumps(values))
    assert reported.returncode == 1
    assert (
        "not exported: SNOWFLAKE_WAREHOUSE matches prefix SNOWFLAKE_ of group "
        "business_intelligence but is not one of its keys; add SNOWFLAKE_WAREHOUSE to "
        "secrets.groups.business_intelligence.keys (or rerun with --adopt)"
    ) in reported.stderr
    assert "SNOWFLAKE_WAREHOUSE" not in esc.open(ORG, PROJECT, "production")["environmentVariables"]

    adopted = sophia(esc, "export", "--spec", str(spec), "--adopt", stdin=json.dumps(values))
    assert adopted.returncode == 0, adopted.stderr
    assert "SNOWFLAKE_WAREHOUSE" in load_spec(spec).platform.credential_keys
    kept = [line for line in spec.read_text().splitlines() if line.lstrip().startswith("#")]
    assert kept == comments  # a round-trip edit: the file's comments stay
    opened = esc.open(ORG, PROJECT, "production")
    assert opened["environmentVariables"]["SNOWFLAKE_WAREHOUSE"] == "CANARY-esc-7d41-wh"
