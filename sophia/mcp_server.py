"""`sophia mcp`: the platform as an MCP server (stdio), for Cursor or any MCP client.

Tools read the spec, plan and preview it offline, edit it only through `spec_edit` (comments
kept; nothing written unless every stack validates and passes its mandatory policies), and
deploy only what a preview of the very same file and stack passed: `preview` returns a deploy
token, `deploy` refuses any other. A failure is an error result (`isError`) with its reason;
the server starts on a broken spec and says what is wrong through its tools. No tool returns a
credential value.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from . import __version__
from .costs import estimate_costs, service_costs
from .loops import close_event_loop
from .offline.analyzer import PolicyPackError, PolicyPackProcess
from .spec import InvalidSpecError, LoadedSpec, load_spec, schema_text
from .spec.data_services import PINECONE_INDEX
from .spec_edit import EditOutcome

T = TypeVar("T")

READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
EDITS_SPEC = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True,
                             openWorldHint=False)  # fmt: skip
REMOVES_FROM_SPEC = ToolAnnotations(readOnlyHint=False, destructiveHint=True,
                                    idempotentHint=True, openWorldHint=False)  # fmt: skip
READS_CLOUD = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=True)
CHANGES_CLOUD = ToolAnnotations(readOnlyHint=False, destructiveHint=True,
                                idempotentHint=False, openWorldHint=True)  # fmt: skip

ServiceName = Annotated[
    str, Field(min_length=1, max_length=63, description="A service of the spec.")
]
HostName = Annotated[str, Field(min_length=1, max_length=63, description="A host of the spec.")]
InstanceTypeName = Annotated[
    str,
    Field(pattern=r"^gpu_[0-9]+x_[a-z0-9_]+$", description="A Lambda type (see list_catalog)."),
]


def isolated(work: Callable[[], T]) -> T:
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


def deploy_token(spec_path: Path, stack: str) -> str:
    """What a preview vouches for: these exact bytes of the spec, for this stack."""
    digest = hashlib.sha256(spec_path.read_bytes() + b"\0" + stack.encode()).hexdigest()
    return f"{stack}:{digest[:24]}"


INSTRUCTIONS = (
    "Operate the Sophia AI platform described in sophia.yaml: validate, "
    "preview (offline, with the sophia-guardrails policies), plan capacity and cost, list "
    "the catalog and the services, scale, add/resize/remove hosts, add Pinecone indexes, "
    "set budgets, change "
    "images, audit credential ages, read stack outputs, refresh and deploy. Edits are "
    "refused, the file left untouched, when any stack would be invalid or fail a mandatory "
    "policy. Deploy takes the token of a passing preview of the same spec and stack."
)


class SophiaTools:
    """The tools, over one spec file and (optionally) a fixed stack."""

    def __init__(self, spec_path: Path, stack: str | None = None) -> None:
        self.spec_path = spec_path
        self.stack = stack
        self.vouched: set[str] = set()
        """Deploy tokens of passing previews (each names the exact bytes and stack)."""
        self._pack: PolicyPackProcess | None = None

    def pack(self) -> PolicyPackProcess:
        """The policy pack, kept running between previews (its start is most of a warm
        preview); started again if it has died."""
        if self._pack is None or not self._pack.alive:
            if self._pack is not None:
                self._pack.stop()
            self._pack = PolicyPackProcess()
            self._pack.start()
        return self._pack

    def spec(self, for_stack: str | None = None) -> LoadedSpec:
        try:
            return load_spec(self.spec_path, for_stack or self.chosen_stack())
        except InvalidSpecError as invalid:
            raise ToolError(_invalid(invalid)) from None

    def chosen_stack(self) -> str:
        if self.stack:
            return self.stack
        from .offline.preview import default_stack

        try:
            return default_stack(self.spec_path)
        except InvalidSpecError as invalid:
            raise ToolError(_invalid(invalid)) from None

    def edited(self, edit: Callable[[], EditOutcome]) -> dict[str, Any]:
        before = _monthly(self.spec_path, self.chosen_stack())
        try:
            outcome = isolated(edit)
        except (InvalidSpecError, PolicyPackError) as problem:
            raise ToolError(str(problem)) from None
        if not outcome.applied:
            raise ToolError("; ".join([outcome.message, *outcome.problems]))
        after = _monthly(self.spec_path, self.chosen_stack())
        return {
            "applied": True,
            "message": outcome.message,
            "monthlyCostUsd": after,
            "monthlyCostDeltaUsd": (
                round(after - before, 2) if before is not None and after is not None else None
            ),
        }

    def validate_spec(self) -> dict[str, Any]:
        """Validate sophia.yaml (YAML, schema, types, cross-references, every stack)."""
        try:
            loaded = load_spec(self.spec_path)
        except InvalidSpecError as invalid:
            return {"valid": False, "errors": [str(e) for e in invalid.errors]}
        p = loaded.platform
        return {
            "valid": True,
            "errors": [],
            "services": len(p.services),
            "hosts": len(p.hosts),
            "stacks": list(p.stacks),
        }

    def preview(self) -> dict[str, Any]:
        """Offline preview: resources, changes against the last commit, monthly cost and
        policy violations (nothing is created). Returns `deployToken` when it passes."""
        from .offline.preview import BaseSpecError, run_preview, to_json

        chosen = self.chosen_stack()
        base = _committed(self.spec_path)
        try:
            try:
                result = isolated(
                    lambda: run_preview(self.spec_path, chosen, base=base, pack=self.pack())
                )
            except BaseSpecError:  # the committed spec does not load: no diff, same preview
                result = isolated(lambda: run_preview(self.spec_path, chosen, pack=self.pack()))
        except InvalidSpecError as invalid:
            raise ToolError(_invalid(invalid)) from None
        except PolicyPackError as problem:
            raise ToolError(str(problem)) from None
        data = to_json(result)
        data.pop("resources")  # counts say enough to a chat; the CLI's --json has the list
        if result.base is not None:
            data["changes"] = [
                {"operation": c.operation, "type": c.type, "name": c.name, "warning": c.warning}
                for c in result.base.changes.changes
            ]
        data["deployToken"] = None
        if not result.mandatory:
            data["deployToken"] = deploy_token(self.spec_path, chosen)
            self.vouched.add(data["deployToken"])
        return data

    def estimate_cost(self) -> dict[str, Any]:
        """Estimated monthly cost per host and per service, against the budget."""
        platform = self.spec().platform
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
            "dataServices": {
                d.item: {"monthlyCost": d.monthly_usd, "assumptions": d.assumptions}
                for d in costs.data
            },
            "catalogDate": costs.catalog_date,
        }

    def list_catalog(self) -> dict[str, Any]:
        """Every Lambda instance type: GPUs, vCPUs, memory, architecture, price per hour and
        per month (the spec's hours), cheapest first."""
        from components.catalog import load_catalog

        catalog = load_catalog()
        hours = self.spec().platform.budget.hours_per_month
        return {
            "catalogDate": catalog.taken_at,
            "instanceTypes": [
                {
                    "name": t.name,
                    "gpus": t.gpus,
                    "gpuType": t.gpu_type,
                    "gpuMemoryGib": t.gpu_memory_gib,
                    "vcpus": t.vcpus,
                    "memoryGib": t.memory_gib,
                    "architecture": t.architecture,
                    "usdPerHour": t.price_usd_per_hour,
                    "usdPerMonth": t.monthly_usd(hours),
                }
                for t in sorted(catalog, key=lambda t: t.price_cents_per_hour)
            ],
        }

    def list_services(self) -> dict[str, list[dict[str, Any]]]:
        """The services: image, replicas, autoscaling, GPU and host."""
        platform = self.spec().platform
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

    def plan_capacity(
        self,
        replicas: Annotated[
            dict[str, Annotated[int, Field(ge=0, le=100)]] | None,
            Field(description="Pods at peak per service, e.g. {'business-intelligence': 3}."),
        ] = None,
        factor: Annotated[
            float, Field(ge=0.1, le=100, description="Every other service's peak × this.")
        ] = 1.0,
        max_hosts: Annotated[int, Field(ge=1, le=12)] = 6,
        apply: Annotated[
            bool, Field(description="Write the hosts and replicas into the spec if it passes.")
        ] = False,
    ) -> dict[str, Any]:
        """The cheapest Lambda hosts on which every pod of the demand fits (GPUs, CPU, memory,
        rollout surge), against the budget; with apply, written into the spec."""
        from .planning.apply import apply_plan
        from .planning.demand import Demand, PlanningError
        from .planning.run import plan_spec

        loaded, chosen = self.spec(), self.chosen_stack()
        demand = Demand(dict(replicas or {}), factor)
        try:
            report = isolated(lambda: plan_spec(loaded, chosen, demand, max_hosts))
        except PlanningError as problem:
            raise ToolError(str(problem)) from None
        result = report.as_json()
        if apply:
            if not report.within_budget:
                raise ToolError(
                    f"not applied: the plan costs {report.monthly_usd:,.2f} USD/month, "
                    f"over the budget of {report.budget_usd:,.2f} (set_budget raises it)"
                    if report.plan.feasible
                    else f"not applied: {report.plan.reason}"
                )
            result["applied"] = self.edited(
                lambda: apply_plan(self.spec_path, loaded.platform, report.plan, demand, self.stack)
            )
        return result

    def scale_service(
        self,
        service: ServiceName,
        replicas: Annotated[int, Field(ge=0, le=100, description="Pods wanted.")],
    ) -> dict[str, Any]:
        """Set a service's pods (under an HPA: its minimum, raising the maximum if needed —
        the answer says so), if every stack stays valid and within policy."""
        from .spec_edit import scale

        return self.edited(lambda: scale(self.spec_path, service, replicas, self.chosen_stack()))

    def add_host(
        self, name: HostName, instance_type: InstanceTypeName, region: str | None = None
    ) -> dict[str, Any]:
        """Add a k3s agent host (set up like the server host), with the monthly cost delta."""
        from .spec_edit import add_host as add

        return self.edited(
            lambda: add(self.spec_path, name, instance_type, region, self.chosen_stack())
        )

    def add_pinecone_index(
        self,
        name: Annotated[
            str,
            Field(
                pattern=PINECONE_INDEX,
                description="Index name: 1-45 lower-case letters, digits and '-'.",
            ),
        ],
        owner: ServiceName,
        dimension: Annotated[
            int, Field(ge=1, le=20_000, description="Vector dimension (the embedding model's).")
        ],
        metric: Literal["cosine", "euclidean", "dotproduct"] = "cosine",
        description: Annotated[str, Field(max_length=200)] = "",
        cloud: Literal["aws", "gcp", "azure"] = "aws",
        region: Annotated[str, Field(pattern=r"^[a-z0-9-]{2,40}$")] = "us-east-1",
        read_units_per_month: Annotated[float, Field(ge=0, le=1e12)] = 0,
        write_units_per_month: Annotated[float, Field(ge=0, le=1e12)] = 0,
        storage_gb: Annotated[float, Field(ge=0, le=1e6)] = 1,
    ) -> dict[str, Any]:
        """Add a serverless Pinecone index (deletion protection on) owned and used by a
        service, which receives its host; answers the monthly cost delta and the verdict.
        Deploy it with `preview` then `deploy`."""
        from .spec_edit import NewIndex
        from .spec_edit import add_pinecone_index as add

        index = NewIndex(
            name,
            owner,
            dimension,
            metric,
            cloud,
            region,
            description,
            read_units_per_month,
            write_units_per_month,
            storage_gb,
        )
        return self.edited(lambda: add(self.spec_path, index, self.chosen_stack()))

    def resize_host(self, name: HostName, instance_type: InstanceTypeName) -> dict[str, Any]:
        """Change a host's instance type (the instance is replaced at deploy), with the cost
        delta."""
        from .spec_edit import resize_host as resize

        return self.edited(lambda: resize(self.spec_path, name, instance_type, self.chosen_stack()))

    def remove_host(self, name: HostName) -> dict[str, Any]:
        """Remove a k3s agent host (its instance is terminated at deploy), if every pod still
        fits; services pinned to it lose the pin."""
        from .spec_edit import remove_host as remove

        return self.edited(lambda: remove(self.spec_path, name, self.chosen_stack()))

    def set_budget(
        self,
        monthly_usd: Annotated[float, Field(gt=0, le=1_000_000, description="USD per month.")],
        stack_name: Annotated[
            str | None, Field(description="A stack with its own budget; default: the base.")
        ] = None,
    ) -> dict[str, Any]:
        """Set the monthly budget the monthly-budget policy enforces."""
        from .spec_edit import set_budget as budget

        return self.edited(lambda: budget(self.spec_path, monthly_usd, stack_name))

    def set_image(
        self,
        service: ServiceName,
        image: Annotated[str, Field(min_length=3, max_length=512, description="tag or digest")],
    ) -> dict[str, Any]:
        """Set a service's image (a pinned tag or digest), if the result passes validation."""
        from .spec_edit import set_image as set_

        return self.edited(lambda: set_(self.spec_path, service, image, self.chosen_stack()))

    def secrets_status(self) -> dict[str, Any]:
        """Each credential's age against maxAgeDays, from ESC (ages only, never values)."""
        from components.esc import EscError, EscGateway

        from .secrets.ages import read_credential_ages

        platform = self.spec().platform
        if platform.secrets is None:
            raise ToolError("the spec has no 'secrets' section")
        try:
            ages = read_credential_ages(EscGateway(), platform, datetime.now(UTC))
        except EscError as problem:
            raise ToolError(str(problem)) from None
        return {"credentials": [a.__dict__ for a in ages]}

    def stack_outputs(self) -> dict[str, Any]:
        """The deployed stack's outputs: endpoints, host IPs, GPU inventory (secrets hidden)."""
        from .automation import EngineError
        from .automation import stack_outputs as outputs

        try:
            return {"stack": self.chosen_stack(), "outputs": outputs(self.chosen_stack())}
        except EngineError as problem:
            raise ToolError(str(problem)) from None

    def refresh(self) -> dict[str, Any]:
        """Read the stack's resources back from the clouds into its state: what drifted."""
        return _engine("refresh", self.spec(), self.chosen_stack())

    def deploy(
        self,
        token: Annotated[str, Field(max_length=100, description="deployToken from preview.")],
    ) -> dict[str, Any]:
        """`pulumi up` with the policy pack — only the spec and stack a passing preview saw."""
        chosen = self.chosen_stack()
        if token not in self.vouched or token != deploy_token(self.spec_path, chosen):
            raise ToolError(
                "not deployed: the token is not that of a passing preview of this spec and "
                f"stack '{chosen}' as it is now (it changed, or the preview failed): preview "
                "again and deploy with its token"
            )
        return _engine("up", self.spec(), chosen)


TOOLS: tuple[tuple[str, str, ToolAnnotations], ...] = (
    ("validate_spec", "Validate the spec", READ_ONLY),
    ("preview", "Preview offline", READ_ONLY),
    ("estimate_cost", "Estimate cost", READ_ONLY),
    ("list_catalog", "List the Lambda catalog", READ_ONLY),
    ("list_services", "List services", READ_ONLY),
    ("plan_capacity", "Plan capacity and cost", EDITS_SPEC),
    ("scale_service", "Scale a service", EDITS_SPEC),
    ("add_host", "Add a host", EDITS_SPEC),
    ("resize_host", "Resize a host", EDITS_SPEC),
    ("remove_host", "Remove a host", REMOVES_FROM_SPEC),
    ("add_pinecone_index", "Add a Pinecone index", EDITS_SPEC),
    ("set_budget", "Set the monthly budget", EDITS_SPEC),
    ("set_image", "Set a service's image", EDITS_SPEC),
    ("secrets_status", "Credential ages", READS_CLOUD),
    ("stack_outputs", "Stack outputs", READS_CLOUD),
    ("refresh", "Refresh (drift)", CHANGES_CLOUD),
    ("deploy", "Deploy", CHANGES_CLOUD),
)
"""Each tool: its method of `SophiaTools`, its title and what it does to the world."""


def build_server(spec_path: Path, stack: str | None = None) -> MCPServer:
    server = MCPServer(
        "sophia",
        version=__version__,
        instructions=INSTRUCTIONS,
    )
    tools = SophiaTools(spec_path, stack)
    for name, title, hints in TOOLS:
        server.tool(name=name, title=title, annotations=hints)(getattr(tools, name))

    @server.resource("sophia://spec", name="sophia.yaml", mime_type="application/yaml")
    def spec_resource() -> str:
        """The platform spec as it is on disk."""
        return spec_path.read_text(encoding="utf-8")

    @server.resource("sophia://schema", name="sophia.schema.json", mime_type="application/json")
    def schema_resource() -> str:
        """The JSON Schema of sophia.yaml."""
        return schema_text()

    return server


def _invalid(invalid: InvalidSpecError) -> str:
    problems = [str(e) for e in invalid.errors]
    shown = "; ".join(problems[:5]) + (
        f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    )
    return f"the spec is invalid ({len(problems)} problem(s)): {shown}"


def _monthly(spec_path: Path, stack: str) -> float | None:
    try:
        return estimate_costs(load_spec(spec_path, stack).platform).monthly_usd
    except InvalidSpecError:
        return None


def _committed(spec_path: Path) -> str | None:
    """`git:HEAD:<path>` when the spec is tracked by git (the preview's diff base), else None."""
    import subprocess

    found = subprocess.run(
        ["git", "ls-files", "--error-unmatch", spec_path.name],
        cwd=spec_path.parent,
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        return None
    prefix = subprocess.run(
        ["git", "rev-parse", "--show-prefix"],
        cwd=spec_path.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"git:HEAD:{prefix}{spec_path.name}"


def _engine(operation: Any, loaded: LoadedSpec, stack: str) -> dict[str, Any]:
    from .automation import EngineError, run_engine

    lines: list[str] = []
    try:
        result = isolated(lambda: run_engine(operation, loaded, stack, lines.append))
    except (EngineError, PolicyPackError) as problem:
        raise ToolError(f"{operation} of '{stack}': {problem}") from None
    log = "".join(lines).splitlines()[-40:]
    if not result.ok:
        raise ToolError(f"{operation} of '{stack}' failed:\n" + "\n".join(log))
    return {"stack": stack, "ok": True, "outputs": result.outputs, "log": log}
