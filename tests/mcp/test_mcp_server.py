"""`sophia mcp` through the official MCP SDK's own stdio client, as Cursor would drive it."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))
TOOLS = {
    "validate_spec",
    "preview",
    "estimate_cost",
    "list_services",
    "scale_service",
    "set_image",
    "secrets_status",
}


def session_run(spec: Path, body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        params = StdioServerParameters(
            command=SOPHIA,
            args=["mcp", "--spec", str(spec)],
            cwd=str(REPO),
            env={"PATH": "/usr/bin:/bin"},
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return asyncio.run(main())


def payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    path = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, path)
    return path


def test_tools_and_resources_are_listed(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        tools = {t.name for t in (await session.list_tools()).tools}
        resources = {str(r.uri) for r in (await session.list_resources()).resources}
        spec_text = (await session.read_resource("sophia://spec")).contents[0].text
        schema = json.loads((await session.read_resource("sophia://schema")).contents[0].text)
        return tools, resources, spec_text, schema

    tools, resources, spec_text, schema = session_run(spec_copy, body)
    assert tools == TOOLS
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
    assert preview["summary"]["passed"] is True and preview["totalMonthlyCost"] == "547.50"
    assert cost["totalMonthlyCost"] == 547.5 and cost["withinBudget"] is True
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
            await session.call_tool(
                "scale_service", {"service": "data-intelligence", "replicas": 3}
            )
        )

    result = session_run(spec_copy, body)
    assert result["applied"] is True and result["message"] == (
        "applied: data-intelligence replicas → 3"
    )
    after = spec_copy.read_text()
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [("    replicas: 2", "    replicas: 3")]  # one line; comments and order kept


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        (
            "scale_service",
            {"service": "business-intelligence", "replicas": 2},
            "breaks mandatory policies",
        ),
        ("scale_service", {"service": "ai-intelligence", "replicas": 9}, "makes the spec invalid"),
        ("scale_service", {"service": "nope", "replicas": 1}, "no service 'nope'"),
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
        return payload(await session.call_tool(tool, arguments))

    result = session_run(spec_copy, body)
    assert result["applied"] is False and fragment in result["message"]
    assert spec_copy.read_bytes() == before


def test_secrets_status_without_a_token_says_so(spec_copy: Path) -> None:
    async def body(session: ClientSession) -> Any:
        return payload(await session.call_tool("secrets_status", {}))

    assert "PULUMI_ACCESS_TOKEN" in session_run(spec_copy, body)["error"]
