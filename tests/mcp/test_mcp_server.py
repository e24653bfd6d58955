"""`sophia mcp` through the official MCP SDK's own stdio client, as Cursor would drive it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import REPO

SOPHIA = str(Path(sys.executable).with_name("sophia"))
TOOLS = {
    "validate_spec",
    "preview",
    "estimate_cost",
    "list_catalog",
    "list_services",
    "plan_capacity",
    "scale_service",
    "add_host",
    "resize_host",
    "remove_host",
    "add_pinecone_index",
    "set_budget",
    "set_image",
    "secrets_status",
    "stack_outputs",
    "refresh",
    "deploy",
}
READ_ONLY = {"validate_spec", "preview", "estimate_cost", "list_catalog", "list_services",
             "secrets_status", "stack_outputs"}  # fmt: skip


def session_run(
    spec: Path,
    body: Callable[[ClientSession], Awaitable[Any]],
    env: dict[str, str] | None = None,
) -> Any:
    async def main() -> Any:
        params = StdioServerParameters(
            command=SOPHIA,
            args=["mcp", "--spec", str(spec)],
            cwd=str(REPO),
            env={"PATH": "/usr/bin:/bin", **(env or {})},
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return asyncio.run(main())


def payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def error_of(result: Any) -> str:
    """The reason of a failed call: an error result, never a success carrying an error."""
    assert result.is_error, result.content
    text = str(result.content[0].text)
    assert "Error executing tool" in text and len(text) > 40, text  # a reason, not just a name
    return text


def test_tools_and_resources_are_listed(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        tools = (await session.list_tools()).tools
        resources = {str(r.uri) for r in (await session.list_resources()).resources}
        spec_text = (await session.read_resource("sophia://spec")).contents[0].text
        schema = json.loads((await session.read_resource("sophia://schema")).contents[0].text)
        return tools, resources, spec_text, schema

    tools, resources, spec_text, schema = session_run(spec_copy, body)
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        hints = tool.annotations
        assert tool.title and hints is not None, tool.name
        assert hints.read_only_hint is (tool.name in READ_ONLY), tool.name
    by_name = {t.name: t for t in tools}
    assert by_name["deploy"].annotations.destructive_hint is True
    assert by_name["deploy"].annotations.open_world_hint is True
    assert by_name["scale_service"].annotations.idempotent_hint is True
    replicas = by_name["scale_service"].input_schema["properties"]["replicas"]
    assert (replicas["minimum"], replicas["maximum"]) == (0, 100)
    assert resources == {"sophia://spec", "sophia://schema"}
    assert spec_text == spec_copy.read_text()
    assert schema["title"] == "Platform"


def test_read_only_tools(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        return [
            payload(await session.call_tool(name, {}))
            for name in ("validate_spec", "preview", "estimate_cost", "list_services")
        ]

    validate, preview, cost, listed = session_run(spec_copy, body)
    services = listed["services"]
    assert validate == {
        "valid": True,
        "errors": [],
        "services": 4,
        "hosts": 1,
        "stacks": ["prod", "staging"],
    }
    assert preview["summary"]["passed"] is True and preview["totalMonthlyCost"] == "751.49"
    assert cost["totalMonthlyCost"] == 751.49 and cost["withinBudget"] is True
    assert cost["dataServices"]["warehouse SOPHIA_ANALYTICS_WH"]["monthlyCost"] == 185.54
    assert [s["name"] for s in services] == [
        "ai-intelligence",
        "data-intelligence",
        "business-intelligence",
        "infrastructure",
    ]
    assert services[2]["gpu"] == {"count": 1, "type": "a10"}


def test_scale_edits_in_place_keeping_comments(spec_copy: Path) -> None:
    before = spec_copy.read_text()

    async def body(session: ClientSession) -> Any:
        return payload(
            await session.call_tool("scale_service", {"service": "infrastructure", "replicas": 2})
        )

    result = session_run(spec_copy, body)
    assert result["applied"] is True and result["message"] == "applied: infrastructure replicas → 2"
    assert result["monthlyCostDeltaUsd"] == 0
    after = spec_copy.read_text()
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [("    replicas: 1", "    replicas: 2")]  # one line; comments and order kept


def test_scaling_an_autoscaled_service_moves_its_hpa_and_says_so(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        return payload(
            await session.call_tool(
                "scale_service", {"service": "data-intelligence", "replicas": 3}
            )
        )

    result = session_run(spec_copy, body)
    assert "(an HPA owns its replicas): autoscaling min → 3, max → 6" in result["message"]
    text = spec_copy.read_text()
    assert (
        "    autoscaling: {min: 3, max: 6}" in text
        and "    replicas: 3\n    ports:\n      - {name: http, port: 8080}\n    env:\n      LOG_LEVEL: info\n      CRAWL"
        in text
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        (
            "scale_service",
            {"service": "business-intelligence", "replicas": 2},
            "breaks mandatory policies",
        ),
        ("scale_service", {"service": "nope", "replicas": 1}, "no service 'nope'"),
        ("remove_host", {"name": "gpu-a10"}, "runs the k3s server"),
        ("add_host", {"name": "gpu-a10", "instance_type": "gpu_1x_a10"}, "already has a host"),
        ("set_budget", {"monthly_usd": 100}, "monthly-budget"),
        (
            "set_image",
            {"service": "ai-intelligence", "image": "ghcr.io/x/y:latest"},
            "makes the spec invalid",
        ),
    ],
)
def test_a_failing_edit_leaves_the_file_byte_for_byte(
    spec_copy: Path, tool: str, arguments: dict[str, Any], fragment: str
) -> None:
    before = spec_copy.read_bytes()

    async def body(session: ClientSession) -> Any:
        return error_of(await session.call_tool(tool, arguments))

    assert fragment in session_run(spec_copy, body)
    assert spec_copy.read_bytes() == before


def test_secrets_status_without_a_token_says_so(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        return error_of(await session.call_tool("secrets_status", {}))

    assert "PULUMI_ACCESS_TOKEN" in session_run(spec_copy, body)


def test_the_server_keeps_one_policy_pack_and_restarts_a_dead_one(spec_copy: Path) -> None:
    """A long-lived server pays the pack's start once (warm previews: see bench/README.md)."""
    from sophia.mcp_server import SophiaTools

    tools = SophiaTools(spec_copy)
    try:
        first = tools.preview()
        pack = tools._pack
        assert pack is not None and pack.alive
        assert tools.preview()["summary"] == first["summary"] and tools._pack is pack
        pack._process.kill()  # type: ignore[union-attr]
        pack._process.wait()  # type: ignore[union-attr]
        again = tools.preview()
        assert tools._pack is not pack and tools._pack is not None and tools._pack.alive
        assert again["summary"] == first["summary"]
    finally:
        if tools._pack is not None:
            tools._pack.stop()
