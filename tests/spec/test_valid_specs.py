"""The committed specs load, the schema is current, and stack overrides apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sophia.costs import estimate_costs
from sophia.spec import load_spec, schema_text
from sophia.spec.source import read_document
from tests.conftest import EXAMPLES, REPO, SPEC

SCHEMA_FILE = REPO / "specs" / "sophia.schema.json"


@pytest.mark.parametrize("path", [SPEC, *EXAMPLES], ids=lambda p: p.name)
def test_committed_specs_are_valid(path: Path) -> None:
    spec = load_spec(path)
    assert spec.platform.services
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=")
    schema_ref = first_line.split("$schema=", 1)[1]
    assert (path.parent / schema_ref).resolve() == SCHEMA_FILE


def test_committed_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "specs/sophia.schema.json is stale: run `make schema`"
    )


def test_schema_is_draft_2020_12_and_accepts_the_specs() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = Draft202012Validator(schema)
    for path in [SPEC, *EXAMPLES]:
        assert list(validator.iter_errors(read_document(path).data)) == []


def _descriptions_missing(node: object, where: str = "$") -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        # An object schema's `properties` (not a field that happens to be named so).
        fields = node.get("properties", {}) if node.get("type") == "object" else {}
        for name, prop in fields.items():
            if "description" not in prop:
                missing.append(f"{where}.{name}")
        for key, child in node.items():
            missing += _descriptions_missing(child, f"{where}.{key}")
    return missing


def test_every_field_is_documented_in_the_schema() -> None:
    assert _descriptions_missing(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))) == []


def test_sophia_platform_content() -> None:
    p = load_spec(SPEC).platform
    assert [s.name for s in p.services] == [
        "ai-intelligence",
        "data-intelligence",
        "business-intelligence",
        "infrastructure",
    ]
    assert p.budget.monthly_usd == 1000
    assert p.secrets is not None
    groups = p.secrets.groups
    assert list(groups) == [
        "ai_intelligence",
        "data_intelligence",
        "infrastructure",
        "business_intelligence",
    ]
    assert sum(len(g.keys) for g in groups.values()) == 19
    assert groups["ai_intelligence"].prefixes == [
        "ARIZE_",
        "OPENROUTER_",
        "PORTKEY_",
        "HUGGINGFACE_",
        "TOGETHER_",
    ]
    bi = p.service("business-intelligence")
    assert bi is not None and bi.gpu is not None
    assert (bi.gpu.count, bi.gpu.type, bi.host) == (1, "a10", "gpu-a10")
    assert p.hosts[0].instance_type == "gpu_1x_a10"
    assert estimate_costs(p).monthly_usd == pytest.approx(751.49)  # host 547.50 + data 203.99
    data = p.data_services
    assert data.snowflake is not None and data.pinecone is not None
    assert [w.name for w in data.snowflake.warehouses] == ["SOPHIA_ANALYTICS_WH"]
    assert [d.name for d in data.snowflake.databases] == ["SOPHIA_ANALYTICS"]
    assert [i.name for i in data.pinecone.indexes] == ["bi-documents"]
    assert bi.data_services.pinecone == ["bi-documents"]


def test_stack_overrides_merge_over_the_base() -> None:
    base = load_spec(SPEC).platform
    staging = load_spec(SPEC, stack="staging").platform
    prod = load_spec(SPEC, stack="prod").platform
    assert prod.model_dump(exclude={"stacks"}) == base.model_dump(exclude={"stacks"})
    assert staging.metadata.environment == "staging"
    assert staging.budget.monthly_usd == 800
    assert staging.secrets is not None and staging.secrets.esc.environment == "staging"
    assert staging.secrets.esc.organization == "sophia-ai"  # untouched keys survive the merge
    data = staging.service("data-intelligence")
    assert data is not None and data.autoscaling is not None
    assert (data.replicas, data.autoscaling.min_replicas, data.autoscaling.max_replicas) == (
        1,
        1,
        2,
    )
    assert data.autoscaling.target_cpu_percent == 70
    infra = staging.service("infrastructure")
    assert infra is not None and infra.env == {"LOG_LEVEL": "debug"}
    assert staging.service("ai-intelligence") == base.service("ai-intelligence")


def test_yaml_anchors_and_merge_keys_work(write_spec) -> None:  # type: ignore[no-untyped-def]
    path = write_spec(
        """\
apiVersion: sophia.ai/v1
kind: Platform
metadata: {name: anchors}
budget: {monthlyUsd: 10}
cluster: {type: existing}
services:
  - &api
    name: a
    image: nginx:1.27
    replicas: 3
  - <<: *api
    name: b
    replicas: 1
"""
    )
    a, b = load_spec(path).platform.services
    assert (a.name, a.replicas, b.name, b.replicas, b.image) == ("a", 3, "b", 1, "nginx:1.27")
