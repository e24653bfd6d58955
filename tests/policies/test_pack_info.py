"""The pack as the engine first sees it: name, policies, levels, config schemas, config handling."""

from __future__ import annotations

import pytest

from sophia.offline.analyzer import PolicyPackError
from tests.policies.harness import Pack

EXPECTED = {
    "readable-resources": "mandatory",
    "gpu-placement": "mandatory",
    "gpu-nodes-reserved": "advisory",
    "capacity": "mandatory",
    "gpu-instance-allowlist": "mandatory",
    "monthly-budget": "mandatory",
    "no-plaintext-secrets": "mandatory",
    "esc-values-secret": "mandatory",
    "pinned-images": "advisory",
    "resource-limits": "advisory",
    "snowflake-warehouse-size": "mandatory",
    "snowflake-auto-suspend": "mandatory",
    "data-deletion-protection": "mandatory",
    "data-owner": "mandatory",
}


def test_analyzer_info(pack: Pack) -> None:
    assert pack.process.name == "sophia-guardrails"
    assert {n: p.enforcement_level for n, p in pack.process.policies.items()} == EXPECTED
    budget = pack.process.policies["monthly-budget"].config_schema["properties"]
    assert budget["monthlyBudgetUsd"]["default"] == 1000
    assert budget["hoursPerMonth"]["default"] == 730


def test_every_policy_has_a_config_schema_and_remediation_steps(pack: Pack) -> None:
    for name, policy in pack.process.policies.items():
        properties = policy.config_schema.get("properties", {})
        assert properties, f"{name} declares no config"
        assert all("default" in p and p.get("description") for p in properties.values()), name
        assert len(policy.remediation_steps) > 30, name


def test_config_defaults_all_and_per_policy(pack: Pack) -> None:
    resolved = pack.process.resolve_config(
        {
            "all": "advisory",
            "monthly-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1500},
            "pinned-images": "disabled",
        }
    )
    assert resolved["gpu-placement"]["enforcementLevel"] == "advisory"
    assert resolved["monthly-budget"] == {
        "enforcementLevel": "mandatory",
        "properties": {
            "monthlyBudgetUsd": 1500,
            "hoursPerMonth": 730,
            "snowflakeUsdPerCredit": 3.0,
            "warehouseActiveHoursPerDay": {},
            "pineconeUsage": {},
        },
    }
    assert resolved["pinned-images"]["enforcementLevel"] == "disabled"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"monthly-budgt": {"monthlyBudgetUsd": 1}}, "unknown policies: monthly-budgt"),
        ({"monthly-budget": {"monthlyBudgetUsd": "lots"}}, "'lots' is not of type 'number'"),
        ({"monthly-budget": {"monthlyBudgetUsd": -5}}, "less than or equal to the minimum of 0"),
        ({"all": "blocking"}, "enforcement level 'blocking' is not one of"),
        ({"gpu-instance-allowlist": {"maxGpusPerHost": 0}}, "0 is less than the minimum of 1"),
    ],
)
def test_bad_config_is_refused_clearly(pack: Pack, config: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyPackError, match=message.replace("(", r"\(")):
        pack.process.resolve_config(config)
