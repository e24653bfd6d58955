"""The seed's intents as a scripted MCP session through the official client, as Cursor drives
it: "scale for high business intelligence load" (BI ×3) goes from a plan to a budget raise,
the plan applied, a passing preview within budget, and a deploy guarded by its token; and
"optimise costs for current AI usage" finds what the spec pays for and does not use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import ClientSession

from sophia.spec import load_spec
from tests.mcp.test_mcp_server import error_of, payload, session_run


def test_high_business_intelligence_load(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> dict[str, Any]:
        steps: dict[str, Any] = {}
        demand = {"replicas": {"business-intelligence": 3}}
        steps["plan"] = payload(await session.call_tool("plan_capacity", demand))
        steps["refused"] = error_of(
            await session.call_tool("plan_capacity", {**demand, "apply": True})
        )
        steps["budget"] = payload(await session.call_tool("set_budget", {"monthly_usd": 1900}))
        steps["staging"] = payload(
            await session.call_tool("set_budget", {"monthly_usd": 1900, "stack_name": "staging"})
        )
        steps["applied"] = payload(
            await session.call_tool("plan_capacity", {**demand, "apply": True})
        )
        steps["preview"] = payload(await session.call_tool("preview", {}))
        steps["stale"] = error_of(await session.call_tool("deploy", {"token": "prod:0000"}))
        steps["deploy"] = error_of(
            await session.call_tool("deploy", {"token": steps["preview"]["deployToken"]})
        )
        return steps

    steps = session_run(spec_copy, body)
    plan = steps["plan"]
    assert plan["feasible"] and not plan["withinBudget"]
    assert [h["instance_type"] for h in plan["hosts"]] == ["gpu_1x_a10"] * 3
    assert plan["deltaMonthlyUsd"] == 1095.0 and plan["binding"].startswith("GPUs")
    assert "over the budget of 1,000.00 (set_budget raises it)" in steps["refused"]
    assert steps["budget"]["message"] == "applied: budget.monthlyUsd → 1900"
    assert steps["staging"]["message"] == "applied: stacks.staging.budget.monthlyUsd → 1900"
    assert steps["applied"]["applied"]["monthlyCostDeltaUsd"] == 1095.0
    preview = steps["preview"]
    # three A10s and the data services (a warehouse, an index) as they were
    assert preview["summary"]["passed"] is True and preview["totalMonthlyCost"] == "1846.49"
    assert preview["deployToken"].startswith("prod:")
    assert "not that of a passing preview" in steps["stale"]
    # The token opens the gate; this machine's PATH has no Pulumi CLI, which the engine says.
    assert "pulumi" in steps["deploy"].lower() and "token" not in steps["deploy"]
    platform = load_spec(spec_copy, "prod").platform
    bi = platform.service("business-intelligence")
    assert bi is not None and bi.replicas == 3 and len(platform.hosts) == 3


def test_a_token_is_void_once_the_spec_changes(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> str:
        token = payload(await session.call_tool("preview", {}))["deployToken"]
        payload(
            await session.call_tool("scale_service", {"service": "infrastructure", "replicas": 2})
        )
        return error_of(await session.call_tool("deploy", {"token": token}))

    assert "preview again" in session_run(spec_copy, body)


def test_optimise_costs_for_current_usage(spec_copy: Path) -> None:
    """A host nobody needs is found and removed: the plan for today's demand is the one A10 the
    GPU service needs, priced against what the spec pays; applying it drops the spare."""

    async def body(session: ClientSession) -> dict[str, Any]:
        steps: dict[str, Any] = {}
        steps["refused"] = error_of(
            await session.call_tool("add_host", {"name": "spare", "instance_type": "gpu_1x_a10"})
        )
        for stack in (None, "staging"):
            budget = {"monthly_usd": 3000, **({"stack_name": stack} if stack else {})}
            payload(await session.call_tool("set_budget", budget))
        steps["added"] = payload(
            await session.call_tool("add_host", {"name": "spare", "instance_type": "gpu_1x_a10"})
        )
        steps["catalog"] = payload(await session.call_tool("list_catalog", {}))
        steps["today"] = payload(await session.call_tool("plan_capacity", {}))
        steps["applied"] = payload(await session.call_tool("plan_capacity", {"apply": True}))
        return steps

    steps = session_run(spec_copy, body)
    assert "monthly-budget" in steps["refused"]  # 1,095.00 a month is over the budget
    assert steps["added"]["monthlyCostDeltaUsd"] == 547.5  # priced before it exists
    cheapest = steps["catalog"]["instanceTypes"][0]
    assert cheapest["name"] == "gpu_1x_a10" and cheapest["usdPerMonth"] == 547.5
    today = steps["today"]
    assert [h["instance_type"] for h in today["hosts"]] == ["gpu_1x_a10"]
    assert today["deltaMonthlyUsd"] == -547.5
    assert steps["applied"]["applied"]["monthlyCostDeltaUsd"] == -547.5
    assert [h.name for h in load_spec(spec_copy, "prod").platform.hosts] == ["gpu-a10"]


def test_deploy_new_pinecone_index_for_customer_segmentation(spec_copy: Path) -> None:
    """ "Deploy new Pinecone index for customer segmentation analysis": the index added to the
    spec (owned and used by business intelligence), the preview's cost delta and verdict, the
    deploy through the guarded path; a second add of the same name, or one owned by nobody, is
    refused and leaves the file as it was."""

    index = {
        "name": "customer-segmentation",
        "owner": "business-intelligence",
        "dimension": 1536,
        "description": "Customer segmentation analysis",
        "read_units_per_month": 2_000_000,
        "write_units_per_month": 500_000,
        "storage_gb": 10,
    }

    async def body(session: ClientSession) -> dict[str, Any]:
        steps: dict[str, Any] = {}
        steps["before"] = payload(await session.call_tool("estimate_cost", {}))
        steps["added"] = payload(await session.call_tool("add_pinecone_index", index))
        steps["again"] = error_of(await session.call_tool("add_pinecone_index", index))
        steps["orphan"] = error_of(
            await session.call_tool(
                "add_pinecone_index", {**index, "name": "orphan", "owner": "nobody"}
            )
        )
        steps["preview"] = payload(await session.call_tool("preview", {}))
        steps["deploy"] = error_of(
            await session.call_tool("deploy", {"token": steps["preview"]["deployToken"]})
        )
        return steps

    steps = session_run(spec_copy, body)
    added = steps["added"]
    assert added["message"] == (
        "applied: Pinecone index customer-segmentation (1536-d, cosine) added for "
        "business-intelligence"
    )
    # 2M read units × 16/M + 0.5M write units × 4/M + 10 GB × 0.33
    assert added["monthlyCostDeltaUsd"] == 37.3
    assert "already has a Pinecone index 'customer-segmentation'" in steps["again"]
    assert "nobody" in steps["orphan"]
    preview = steps["preview"]
    assert preview["summary"]["passed"] is True
    before = steps["before"]["totalMonthlyCost"]
    assert float(preview["totalMonthlyCost"]) == round(before + 37.3, 2)
    priced = {d["name"]: d for d in preview["dataServices"]}
    assert priced["customer-segmentation"]["monthlyCost"] == "37.30"
    assert "2,000,000 RU" in priced["customer-segmentation"]["assumptions"]
    assert "pulumi" in steps["deploy"].lower() and "token" not in steps["deploy"]
    platform = load_spec(spec_copy, "prod").platform
    made = platform.data_services.pinecone_index("customer-segmentation")
    assert made is not None and made.deletion_protection and made.owner == "business-intelligence"
    bi = platform.service("business-intelligence")
    assert bi is not None and "customer-segmentation" in bi.data_services.pinecone
