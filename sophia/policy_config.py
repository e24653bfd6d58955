"""The policy pack's config for one stack, derived from its spec: one truth for every engine.

`sophia preview` (offline), `sophia up` / `preview --engine pulumi`, the pull-request workflow
and a hand-run `pulumi preview --policy-pack policies --policy-pack-config FILE` all use this,
so the budget, allow-list and enforcement levels are the same whoever asks. A config file the
user passes is merged over it, policy by policy (the file wins).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .spec.model import Platform

PRODUCTION_ENVIRONMENTS = ("production", "prod")
"""`metadata.environment` values whose data must be protected from deletion."""


def policy_config(platform: Platform, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `--policy-pack-config` document for a stack's (override-applied) platform."""
    budget = platform.budget
    config: dict[str, dict[str, Any]] = {
        "monthly-budget": {
            "monthlyBudgetUsd": budget.monthly_usd,
            "hoursPerMonth": budget.hours_per_month,
            **_data_usage(platform),
        },
        "data-deletion-protection": {
            "required": platform.metadata.environment in PRODUCTION_ENVIRONMENTS
        },
    }
    guardrails = platform.policies
    if guardrails.allowed_warehouse_sizes is not None:
        config["snowflake-warehouse-size"] = {
            "allowedSizes": list(guardrails.allowed_warehouse_sizes)
        }
    allowlist: dict[str, Any] = {}
    if guardrails.allowed_instance_types is not None:
        allowlist["allowedInstanceTypes"] = list(guardrails.allowed_instance_types)
    if guardrails.max_gpus_per_host is not None:
        allowlist["maxGpusPerHost"] = guardrails.max_gpus_per_host
    if allowlist:
        config["gpu-instance-allowlist"] = allowlist
    result: dict[str, Any] = {}
    if "all" in guardrails.enforcement:
        result["all"] = guardrails.enforcement["all"]
    for name, level in guardrails.enforcement.items():
        if name != "all":
            config.setdefault(name, {})["enforcementLevel"] = level
    result.update(config)
    for name, value in (overrides or {}).items():
        result[name] = _merge_entry(result.get(name), value)
    return result


def _data_usage(platform: Platform) -> dict[str, Any]:
    """What the budget policy cannot read from resources: the spec's usage assumptions."""
    data = platform.data_services
    usage: dict[str, Any] = {}
    if data.snowflake is not None:
        usage["snowflakeUsdPerCredit"] = data.snowflake.usd_per_credit
        usage["warehouseActiveHoursPerDay"] = {
            w.name: w.active_hours_per_day for w in data.snowflake.warehouses
        }
    if data.pinecone is not None:
        usage["pineconeUsage"] = {
            i.name: {
                "readUnitsPerMonth": i.usage.read_units_per_month,
                "writeUnitsPerMonth": i.usage.write_units_per_month,
                "storageGb": i.usage.storage_gb,
            }
            for i in data.pinecone.indexes
            if i.pod is None
        }
    return usage


def _merge_entry(base: Any, override: Any) -> Any:
    """A file entry is a level ("advisory") or a mapping; mappings merge, anything else wins."""
    if isinstance(override, str):
        if isinstance(base, Mapping):
            return {**base, "enforcementLevel": override}
        return override
    if isinstance(override, Mapping) and isinstance(base, Mapping):
        return {**base, **override}
    return override


def policy_config_json(platform: Platform, overrides: Mapping[str, Any] | None = None) -> str:
    return json.dumps(policy_config(platform, overrides), indent=2, sort_keys=True) + "\n"
