"""`sophia preview`: the stack's program under the mock monitor, judged by the policy pack.

What the Pulumi CLI's `preview --policy-pack policies` does, without the CLI, a cloud
account or the network: the same program, the same pack, the same gRPC protocol.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sophia_guardrails.capacity import Placement, nodes_of, place, pods_of

from ..costs import CostEstimate, estimate_costs, service_costs
from ..memory import fewer_collections
from ..policy_config import policy_config as spec_policy_config
from ..spec import InvalidSpecError, LoadedSpec, load_spec, load_stack, validate_document
from ..spec.source import parse_document
from .analyzer import Analysis, Diagnostic, PolicyPackProcess, load_policy_config
from .changes import LAMBDA_INSTANCE, Plan, plan_changes
from .runner import PROJECT, RecordedResource, run_spec, unwrap_secrets

JSON_FORMAT_VERSION = 1


class BaseSpecError(Exception):
    """`--base` names something that cannot be read or is not a valid spec."""


@dataclass(frozen=True)
class BaseComparison:
    ref: str
    monthly_usd: float
    costs: CostEstimate
    resources: list[RecordedResource]
    changes: Plan


@dataclass(frozen=True)
class _AsPolicySees:
    """A recorded resource in the shape the pack's rules read (resource_type, props, name)."""

    resource_type: str
    props: dict[str, Any]
    name: str


def as_policy_sees(resources: Iterable[RecordedResource]) -> list[_AsPolicySees]:
    return [_AsPolicySees(r.type, unwrap_secrets(r.properties), r.name) for r in resources]


def capacity_at_peak(
    resources: list[RecordedResource], reserve: Mapping[str, Any] | None = None
) -> Placement:
    """Where every pod at peak lands on the stack's hosts: the capacity policy's own model."""
    seen = as_policy_sees(resources)
    return place(pods_of(seen), nodes_of(seen, reserve))


@dataclass(frozen=True)
class PreviewResult:
    spec: LoadedSpec
    stack: str
    resources: list[RecordedResource]
    diagnostics: list[Diagnostic]
    costs: CostEstimate
    service_costs: dict[str, float]
    base: BaseComparison | None

    @cached_property
    def capacity(self) -> Placement:
        return capacity_at_peak(self.resources)

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.enforcement_level == "mandatory"]

    @property
    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.enforcement_level != "mandatory"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0


def default_stack(spec_path: Path) -> str:
    """The stack commands use when none is named (`Platform.default_stack`)."""
    return load_spec(spec_path).platform.default_stack


def run_preview(
    spec_path: Path,
    stack: str | None = None,
    policy_config: Path | None = None,
    base: str | None = None,
    pack: PolicyPackProcess | None = None,
) -> PreviewResult:
    """Raises InvalidSpecError (bad spec), BaseSpecError, PolicyPackError (bad pack config).
    `pack`: a running pack to reuse (a long-lived process such as the MCP server keeps one)."""
    spec = load_stack(spec_path, stack)  # read and parsed once
    assert spec.stack is not None
    file_config = load_policy_config(policy_config) if policy_config else {}
    return preview_spec(spec, spec.stack, file_config, base, pack)


def preview_spec(
    spec: LoadedSpec,
    stack: str,
    file_config: Mapping[str, Any] | None = None,
    base: str | None = None,
    pack: PolicyPackProcess | None = None,
) -> PreviewResult:
    """The preview of a spec already loaded (or edited in memory and validated)."""
    own = pack is None
    running = pack or PolicyPackProcess()
    if own:
        running.launch()  # starts while the program runs
    policy_config = spec_policy_config(spec.platform, file_config)
    try:
        with Analysis(running, policy_config, PROJECT, stack) as analysis:
            resources, _ = run_spec(spec, stack)
            diagnostics = analysis.finish(resources)
        comparison = _compare_with_base(base, spec, stack, resources) if base else None
    finally:
        if own:
            running.stop()
    costs = estimate_costs(spec.platform)
    return PreviewResult(
        spec, stack, resources, diagnostics, costs, service_costs(spec.platform, costs), comparison
    )


def check_resources(
    pack: PolicyPackProcess,
    resources: list[RecordedResource],
    stack: str,
    policy_config: Mapping[str, Any],
) -> list[Diagnostic]:
    """What the CLI does with a policy pack: configure it, then Analyze each, AnalyzeStack all."""
    with Analysis(pack, policy_config, PROJECT, stack) as analysis:
        return analysis.finish(resources)


def read_base(ref: str, spec_path: Path) -> tuple[str, str]:
    """(text, display name) of `--base`: a file, or `git:REF:path` from the spec's repository."""
    if ref.startswith("git:"):
        _, _, rest = ref.partition(":")
        revision, sep, path = rest.partition(":")
        if not sep or not revision or not path:
            raise BaseSpecError(
                f"--base {ref}: expected git:REF:path, e.g. git:origin/main:specs/sophia.yaml"
            )
        result = subprocess.run(
            ["git", "show", f"{revision}:{path}"],
            cwd=spec_path.resolve().parent,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BaseSpecError(f"--base {ref}: {result.stderr.strip() or 'git show failed'}")
        return result.stdout, ref
    try:
        return Path(ref).read_text(encoding="utf-8"), ref
    except OSError as exc:
        raise BaseSpecError(f"--base {ref}: {exc.strerror or exc}") from None


def _compare_with_base(
    ref: str, spec: LoadedSpec, stack: str, resources: list[RecordedResource]
) -> BaseComparison:
    text, _ = read_base(ref, spec.path)
    try:
        # Resolved beside the current spec, so build contexts mean the same in both.
        document = parse_document(text, str(spec.path))
        stacks = _stacks_of(document.data)
        base_stack = stack if not stacks or stack in stacks else None
        base_spec = validate_document(document, spec.path, base_stack)
    except InvalidSpecError as invalid:
        first = invalid.errors[0]
        raise BaseSpecError(
            f"--base {ref} is not a valid spec: line {first.line}: {first.path}: {first.message}"
        ) from None
    base_resources, _ = run_spec(base_spec, stack)
    base_costs = estimate_costs(base_spec.platform)
    servers = server_instances(spec, resources) | server_instances(base_spec, base_resources)
    return BaseComparison(
        ref,
        base_costs.monthly_usd,
        base_costs,
        base_resources,
        plan_changes(base_resources, resources, servers),
    )


def instance_urn(resources: Iterable[RecordedResource], host: str) -> str | None:
    """The URN of the Lambda instance a spec host became (LambdaGpuHost's `<host>-instance`)."""
    wanted = f"{host}-instance"
    return next((r.urn for r in resources if r.type == LAMBDA_INSTANCE and r.name == wanted), None)


def server_instances(spec: LoadedSpec, resources: list[RecordedResource]) -> set[str]:
    """URNs of the Lambda instance that runs the k3s server (its loss takes the cluster)."""
    server = spec.platform.server_host
    urn = instance_urn(resources, server.name) if server is not None else None
    return {urn} if urn else set()


def _stacks_of(data: Any) -> list[str]:
    stacks = data.get("stacks") if isinstance(data, dict) else None
    return list(stacks) if isinstance(stacks, dict) else []


def money(value: float) -> str:
    return f"{value:.2f}"


@fewer_collections()
def to_json(result: PreviewResult) -> dict[str, Any]:
    """sophia's own summary (schema: sophia/offline/preview.schema.json), what the MCP tools
    answer; `--json` writes Infracost's format instead (infracost.py)."""
    counts = Counter(r.type for r in result.resources)
    base = result.base
    return {
        "version": JSON_FORMAT_VERSION,
        "spec": str(result.spec.path),
        "project": PROJECT,
        "stack": result.stack,
        "engine": "offline",
        "currency": "USD",
        "totalMonthlyCost": money(result.costs.monthly_usd),
        "pastTotalMonthlyCost": money(base.monthly_usd) if base else None,
        "diffTotalMonthlyCost": money(result.costs.monthly_usd - base.monthly_usd)
        if base
        else None,
        "budgetMonthlyCost": money(result.costs.budget_usd),
        "hoursPerMonth": result.costs.hours_per_month,
        "catalogDate": result.costs.catalog_date,
        "hosts": [
            {
                "name": h.host,
                "instanceType": h.instance_type,
                "gpuType": h.gpu_type,
                "gpus": h.gpus,
                "hourlyCost": money(h.usd_per_hour),
                "monthlyCost": money(h.monthly_usd),
            }
            for h in result.costs.hosts
        ],
        "services": [
            {"name": name, "monthlyCost": money(cost)}
            for name, cost in result.service_costs.items()
        ],
        "dataServices": [
            {
                "type": item.resource_type,
                "name": item.name,
                "monthlyCost": money(item.monthly_usd),
                "assumptions": item.assumptions,
            }
            for item in result.costs.data
        ],
        "resources": [
            {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent or None}
            for r in result.resources
        ],
        "resourceCounts": dict(sorted(counts.items())),
        "policyViolations": [
            {
                "policyName": d.policy_name,
                "policyPackName": d.policy_pack,
                "enforcementLevel": d.enforcement_level,
                "message": d.message,
                "urn": d.urn or None,
            }
            for d in result.diagnostics
        ],
        "diff": (
            {
                "base": base.ref,
                "counts": base.changes.counts(),
                "changes": [
                    {
                        "urn": c.urn,
                        "type": c.type,
                        "name": c.name,
                        "operation": c.operation,
                        "deleteBeforeReplace": c.delete_before_replace,
                        "fields": list(c.fields),
                        "warning": c.warning,
                    }
                    for c in base.changes.changes
                ],
            }
            if base
            else None
        ),
        "summary": {
            "resources": len(result.resources),
            "mandatoryViolations": len(result.mandatory),
            "advisoryViolations": len(result.advisory),
            "passed": result.exit_code == 0,
        },
    }
