"""The real Pulumi engine (file backend) with the real policy pack and the Pinecone and
Weaviate dynamic providers, against their loopback fakes (each checked against its published
document): preview verdicts equal the offline engine's, an index and a collection are made
exactly once, changed in place or replaced as their APIs allow, kept while protected, and no
key reaches the state in plain text.

(Snowflake's resources need the pulumi-snowflake provider plugin, which cannot be built here:
toolchain/README.md names the module and the proxy's answer.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from components.data_services.pinecone import PineconeIndex, PineconeIndexArgs
from components.data_services.weaviate import (
    CollectionProperty,
    WeaviateCollection,
    WeaviateCollectionArgs,
)
from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import check_resources
from sophia.offline.runner import PROJECT, run_under_mocks
from tests.conftest import REPO
from tests.e2e.engine import EventLog, scan_for
from tests.fakes import pinecone as pinecone_fake
from tests.fakes import weaviate as weaviate_fake
from tests.fakes.pinecone import FakePinecone
from tests.fakes.weaviate import FakeWeaviate

STACK = "e2e-data"
POLICY_CONFIG = {
    "monthly-budget": {
        "monthlyBudgetUsd": 1000,
        "pineconeUsage": {"segments": {"readUnitsPerMonth": 1e6, "storageGb": 5}},
    }
}


class Owner(pulumi.ComponentResource):
    """Stands for the service that owns the data (the `data-owner` policy looks for it)."""

    def __init__(self, name: str) -> None:
        super().__init__("sophia:index:SophiaMicroservice", name, None)
        self.register_outputs({})


def program(pinecone: FakePinecone, weaviate: FakeWeaviate) -> Callable[[], None]:
    def run() -> None:
        config = pulumi.Config()
        Owner("bi")
        index = PineconeIndex(
            "segments",
            PineconeIndexArgs(
                name="segments",
                dimension=config.get_int("dimension") or 1536,
                owner=config.get("owner") or "bi",
                deletion_protection=config.get_bool("protect") is not False,
                api_key=pulumi.Output.secret(pinecone_fake.VALID_KEY),
                api_base=pinecone.base_url,
            ),
        )
        properties = [CollectionProperty("title", "text")]
        if config.get_bool("priority"):
            properties.append(CollectionProperty("priority", "int"))
        WeaviateCollection(
            "tickets",
            WeaviateCollectionArgs(
                name="SupportTicket",
                url=weaviate.url,
                owner="bi",
                properties=properties,
                deletion_protection=config.get_bool("protect") is not False,
                api_key=pulumi.Output.secret(weaviate_fake.VALID_KEY),
            ),
        )
        pulumi.export("host", index.host)

    return run


@pytest.fixture
def workspace(
    tmp_path: Path, pulumi_env: dict[str, str], pinecone: FakePinecone, weaviate: FakeWeaviate
) -> auto.Stack:
    work = tmp_path / "project"
    work.mkdir()
    return auto.create_or_select_stack(
        stack_name=STACK,
        project_name=PROJECT,
        program=program(pinecone, weaviate),
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(work),
            env_vars={**pulumi_env, "PULUMI_PYTHON_CMD": sys.executable},
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        ),
    )


def _pack() -> str:
    assert (REPO / "policies" / "venv" / "bin" / "python").exists(), "`make policy-venv`"
    return str(REPO / "policies")


def test_preview_verdicts_match_the_offline_engine(
    workspace: auto.Stack, tmp_path: Path, pinecone: FakePinecone, weaviate: FakeWeaviate
) -> None:
    """Unprotected data owned by a service the stack lacks: both engines, the same verdicts."""
    workspace.set_config("protect", auto.ConfigValue("false"))
    workspace.set_config("owner", auto.ConfigValue("nobody"))
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps(POLICY_CONFIG))
    log = EventLog()
    with pytest.raises(auto.CommandError):
        workspace.preview(
            policy_packs=[_pack()], policy_pack_configs=[str(config_file)], on_event=log
        )

    def offline() -> None:
        pulumi.runtime.set_all_config({f"{PROJECT}:protect": "false", f"{PROJECT}:owner": "nobody"})
        program(pinecone, weaviate)()

    resources, _ = run_under_mocks(offline, STACK)
    with PolicyPackProcess() as pack:
        diagnostics = check_resources(pack, resources, STACK, POLICY_CONFIG)
    assert log.planned() == {(r.urn, r.type, r.parent) for r in resources}
    assert log.violations() == sorted(
        (d.policy_name, d.enforcement_level, d.urn) for d in diagnostics
    )
    assert {v[0] for v in log.violations()} == {"data-deletion-protection", "data-owner"}
    assert pinecone.state.indexes == {} and weaviate.state.classes == {}  # nothing made


def test_up_change_replace_protect_and_destroy(
    workspace: auto.Stack,
    tmp_path: Path,
    pulumi_env: dict[str, str],
    pinecone: FakePinecone,
    weaviate: FakeWeaviate,
) -> None:
    pinecone.faults.drop_after_create_next = 1  # the create's answer is lost: adopted, not twice
    first = workspace.up(policy_packs=[_pack()])
    assert first.summary.result == "succeeded"
    assert pinecone.state.creates == 1 and weaviate.state.creates == 1
    host = pinecone.state.indexes["segments"]["host"]
    assert first.outputs["host"].value == host
    assert pinecone.state.indexes["segments"]["deletion_protection"] == "enabled"

    again = workspace.up(policy_packs=[_pack()])
    assert set(again.summary.resource_changes or {}) == {"same"}

    # A new property is added in place; the collection (and its objects) stays.
    workspace.set_config("priority", auto.ConfigValue("true"))
    added = workspace.up(policy_packs=[_pack()])
    assert (added.summary.resource_changes or {}).get("update") == 1
    assert [p["name"] for p in weaviate.state.classes["SupportTicket"]["properties"]] == [
        "title",
        "priority",
    ]
    assert weaviate.state.creates == 1

    # A new dimension replaces the index — refused while it is protected.
    workspace.set_config("dimension", auto.ConfigValue("768"))
    with pytest.raises(auto.CommandError, match="deletion protection on"):
        workspace.up(policy_packs=[_pack()])
    assert pinecone.state.indexes["segments"]["dimension"] == 1536

    # Protection off (in place), then the replacement goes through.
    workspace.set_config("dimension", auto.ConfigValue("1536"))
    workspace.set_config("protect", auto.ConfigValue("false"))
    unprotected = workspace.up()
    assert (unprotected.summary.resource_changes or {}).get("update") == 2
    assert pinecone.state.indexes["segments"]["deletion_protection"] == "disabled"
    workspace.set_config("dimension", auto.ConfigValue("768"))
    replaced = workspace.up()
    assert (replaced.summary.resource_changes or {}).get("replace") == 1
    assert pinecone.state.indexes["segments"]["dimension"] == 768
    assert pinecone.state.creates == 2

    for key in (pinecone_fake.VALID_KEY, weaviate_fake.VALID_KEY):
        assert scan_for(key, tmp_path / "state") == []

    gone = workspace.destroy()
    assert (gone.summary.resource_changes or {}).get("delete", 0) >= 2
    assert pinecone.state.indexes == {} and weaviate.state.classes == {}
