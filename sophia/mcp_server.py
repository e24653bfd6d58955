"""`sophia mcp`: the platform as an MCP server (stdio), for Cursor or any MCP client.

Tools read the spec, preview it offline, and edit it only through `spec_edit`, which keeps
comments and key order and writes nothing unless the result is valid and passes the
mandatory policies. No tool returns a credential value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer

from components.esc import EscError, EscGateway
from components.esc.definition import load

from . import __version__
from .costs import estimate_costs, service_costs
from .loops import close_event_loop
from .offline.analyzer import PolicyPackError
from .offline.preview import default_stack, run_preview, to_json
from .secrets.ages import credential_ages
from .secrets.layout import esc_layout
from .spec import InvalidSpecError, load_spec, schema_text
from .spec_edit import EditOutcome, scale, set_image

T = TypeVar("T")


def _isolated(work: Callable[[], T]) -> T:
    """Run `work` on a thread with an asyncio loop of its own.

    The offline engine drives Pulumi's runtime, which needs the calling thread's event loop;
    the MCP server's worker threads have none, and its own loop must not be borrowed.
    """

    def target() -> T:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return work()
        finally:
            close_event_loop(loop)
            asyncio.set_event_loop(None)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(target).result()


def _outcome(outcome: EditOutcome) -> dict[str, Any]:
    result: dict[str, Any] = {
        "applied": outcome.applied,
        "message": outcome.message,
        "problems": outcome.problems,
    }
    if outcome.preview is not None:
        result["totalMonthlyCost"] = to_json(outcome.preview)["totalMonthlyCost"]
    return result


def build_server(spec_path: Path, stack: str | None = None) -> MCPServer:
    server = MCPServer(
        "sophia",
        version=__version__,
        instructions="Operate the Sophia AI platform described in sophia.yaml: validate, "
        "preview (offline, with the sophia-guardrails policies), estimate cost, list and scale "
        "services, change images, and audit credential ages. Edits are refused, and the file "
        "left untouched, when the spec would be invalid or a mandatory policy would fail.",
    )

    def chosen_stack() -> str:
        return stack or default_stack(spec_path)

    @server.tool()
    def validate_spec() -> dict[str, Any]:
        """Validate sophia.yaml (YAML, schema, types, cross-references, every stack)."""
        try:
            spec = load_spec(spec_path)
        except InvalidSpecError as invalid:
            return {"valid": False, "errors": [str(e) for e in invalid.errors]}
        p = spec.platform
        return {
            "valid": True,
            "errors": [],
            "services": len(p.services),
            "hosts": len(p.hosts),
            "stacks": list(p.stacks),
        }

    @server.tool()
    def preview() -> dict[str, Any]:
        """Offline preview: resources, monthly cost and policy violations (nothing is created)."""
        try:
            data = to_json(_isolated(lambda: run_preview(spec_path, chosen_stack())))
        except (InvalidSpecError, PolicyPackError) as problem:
            return {"error": str(problem)}
        data.pop("resources")  # counts say enough to a chat; the CLI's --json has the list
        return data

    @server.tool()
    def estimate_cost() -> dict[str, Any]:
        """Estimated monthly cost per host and per service, against the budget."""
        platform = load_spec(spec_path, chosen_stack()).platform
        costs = estimate_costs(platform)
        return {
            "currency": "USD",
            "totalMonthlyCost": round(costs.monthly_usd, 2),
            "budgetMonthlyCost": costs.budget_usd,
            "withinBudget": costs.within_budget,
            "hosts": {
                h.host: {"instanceType": h.instance_type, "monthlyCost": h.monthly_usd}
                for h in costs.hosts
            },
            "services": service_costs(platform, costs),
            "catalogDate": costs.catalog_date,
        }

    @server.tool()
    def list_services() -> dict[str, list[dict[str, Any]]]:
        """The services: image, replicas, autoscaling, GPU and host."""
        platform = load_spec(spec_path, chosen_stack()).platform
        return {
            "services": [
                {
                    "name": s.name,
                    "image": s.image,
                    "replicas": s.replicas,
                    "autoscaling": (
                        {"min": s.autoscaling.min_replicas, "max": s.autoscaling.max_replicas}
                        if s.autoscaling
                        else None
                    ),
                    "gpu": {"count": s.gpu.count, "type": s.gpu.type} if s.gpu else None,
                    "host": s.host,
                }
                for s in platform.services
            ]
        }

    @server.tool()
    def scale_service(service: str, replicas: int) -> dict[str, Any]:
        """Set a service's replicas in sophia.yaml, if the spec stays valid and within policy."""
        return _outcome(_isolated(lambda: scale(spec_path, service, replicas, chosen_stack())))

    @server.tool(name="set_image")
    def set_image_tool(service: str, image: str) -> dict[str, Any]:
        """Set a service's image (a pinned tag or digest), if the result passes validation."""
        return _outcome(_isolated(lambda: set_image(spec_path, service, image, chosen_stack())))

    @server.tool()
    def secrets_status() -> dict[str, Any]:
        """Each credential's age against maxAgeDays, from ESC (ages only, never values)."""
        platform = load_spec(spec_path, chosen_stack()).platform
        if platform.secrets is None:
            return {"error": "the spec has no 'secrets' section"}
        try:
            where = str(esc_layout(platform).credentials)
            definition = load(EscGateway().read(esc_layout(platform).credentials).yaml, where)
            ages = credential_ages(platform, definition, datetime.now(UTC), where)
        except EscError as problem:
            return {"error": str(problem)}
        return {"credentials": [a.__dict__ for a in ages]}

    @server.resource("sophia://spec", name="sophia.yaml", mime_type="application/yaml")
    def spec_resource() -> str:
        """The platform spec as it is on disk."""
        return spec_path.read_text(encoding="utf-8")

    @server.resource("sophia://schema", name="sophia.schema.json", mime_type="application/json")
    def schema_resource() -> str:
        """The JSON Schema of sophia.yaml."""
        return schema_text()

    return server
