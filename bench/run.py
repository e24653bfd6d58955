"""`make bench`: how fast sophia-infra is and how it scales, measured side by side in one run.

At 100, 300, 1000 and 3000 services (synthetic specs, `synthetic_spec`):

1. the program under Pulumi's mock monitor against its floor: the raw SDK making the same
   engine calls (URNs, inputs, dependencies, outputs: checked), in alternation;
2. the policy pack over gRPC, Analyze for each resource and AnalyzeStack, against the same
   rules served by pulumi-policy's own servicer (`BEFORE_PACK`), and the pack's own work
   per resource in-process (up to 1000 services);
3. the program and the policies as `sophia preview` runs them (the pack configured while the
   program runs);
4. the cost estimate and the rendered report;
5. `sophia preview specs/sophia.yaml` end to end: wall time and peak memory.

Prints tables and writes bench/results/scaling.png and bench/results/results.json.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from sophia.costs import estimate_costs, service_costs
from sophia.offline.analyzer import Analysis, PolicyPackProcess
from sophia.offline.preview import PreviewResult, check_resources
from sophia.offline.report import print_report
from sophia.offline.runner import PROJECT, RecordedResource, is_secret, run_spec, run_under_mocks
from sophia.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SIZES = (100, 300, 1000, 3000)
REPEATS = 3


def synthetic_spec(services: int) -> dict[str, Any]:
    """A platform of `services` services: a mix of plain, autoscaled, GPU and credentialed ones."""
    groups = {f"g{g}": {"prefixes": [f"G{g}_"], "keys": [f"G{g}_API_KEY"]} for g in range(4)}
    spec: dict[str, Any] = {
        "apiVersion": "sophia.ai/v1",
        "kind": "Platform",
        "metadata": {"name": "bench"},
        "budget": {"monthlyUsd": 100000},
        "secrets": {"esc": {"organization": "bench"}, "groups": groups},
        "hosts": [
            {
                "name": f"gpu-{h}",
                "instanceType": "gpu_1x_a10",
                "region": "us-west-1",
                "sshKeys": ["deploy"],
            }
            for h in range(max(1, services // 50))
        ],
        "services": [],
    }
    for i in range(services):
        service: dict[str, Any] = {
            "name": f"svc-{i}",
            "image": f"ghcr.io/b/s{i}:1.{i}",
            "replicas": 2,
            "ports": [{"name": "http", "port": 8080}],
            "env": {"LOG_LEVEL": "info"},
            "secrets": {"groups": [f"g{i % 4}"]},
            "health": {"path": "/healthz"},  # on the port named http
        }
        if i % 50 == 0:
            service["gpu"] = {"count": 1, "type": "a10"}
            service["replicas"] = 1
        elif i % 3 == 1:
            service["autoscaling"] = {"min": 2, "max": 4}
        spec["services"].append(service)
    return spec


def write_spec(path: Path, services: int) -> Path:
    """The synthetic spec as compact YAML: one service per line (a JSON flow mapping, which is
    YAML), so that even 5000 services stay under the loader's 1 MiB limit."""
    spec = synthetic_spec(services)
    items = spec.pop("services")
    lines = [json.dumps(spec, separators=(",", ":"))[:-1] + ',"services":[']
    lines += [json.dumps(item, separators=(",", ":")) + "," for item in items]
    text = "\n".join(lines).rstrip(",") + "]}\n"
    path.write_text(text, encoding="utf-8")
    return path


def best_of(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def config(key: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(f"bench-{key}")


KUBERNETES_CLASSES: dict[str, Any] = {
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "kubernetes:core/v1:Secret": k8s.core.v1.Secret,
    "kubernetes:core/v1:ServiceAccount": k8s.core.v1.ServiceAccount,
    "kubernetes:core/v1:Service": k8s.core.v1.Service,
    "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "kubernetes:policy/v1:PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": k8s.networking.v1.NetworkPolicy,
}
SNAKE = {
    "stringData": "string_data",
    "automountServiceAccountToken": "automount_service_account_token",
}


def _inputs(value: Any) -> Any:
    """Recorded wire inputs as program inputs: secrets as secret Outputs again."""
    if is_secret(value):
        return pulumi.Output.secret(_inputs(value.get("value")))
    if isinstance(value, dict):
        return {k: _inputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_inputs(v) for v in value]
    return value


class RawComponent(pulumi.ComponentResource):
    """A component as the SDK alone writes one: a subclass, as Pulumi's documentation has it
    (a bare `ComponentResource(...)` call sends the engine no source position)."""

    def __init__(
        self, t: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(t, name, props, opts)


def _depending_on(value: Any, resources: list[pulumi.Resource]) -> pulumi.Output[Any]:
    """`value` as an input made from `resources`' outputs, at the least cost the SDK allows:
    an Output of the known value that names them, so that the engine learns the same property
    dependencies. (A program writes `namespace=ns.metadata.name`, an `apply` on the way.)"""
    loop = asyncio.get_running_loop()

    def resolved(result: Any) -> asyncio.Future[Any]:
        future = loop.create_future()
        future.set_result(result)
        return future

    return pulumi.Output(set(resources), resolved(value), resolved(True))


def raw_program(recorded: list[RecordedResource]) -> Callable[[], None]:
    """The floor: what the SDK itself costs for the same engine calls. Every resource the
    components registered, in the same order, with the same inputs, parents, providers,
    options and dependencies (each property depending on the resources it did) — the
    components as minimal `ComponentResource` subclasses registering the same inputs and
    outputs (as values), Kubernetes objects with the typed pulumi_kubernetes classes, the other
    custom resources by type — so that the engine receives the same requests (checked by
    `engine_calls`), and nothing of sophia runs: no spec, no builder, no component logic."""
    plan = [(r, _inputs(r.properties)) for r in recorded]
    outputs = {
        r.urn: _inputs(json_format.MessageToDict(r.outputs))
        for r in recorded
        if r.outputs is not None
    }

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r, values in plan:
            by_property = r.property_dependencies
            props = values
            if by_property:
                props = {
                    key: _depending_on(value, [made[u] for u in by_property[key]])
                    if key in by_property
                    else value
                    for key, value in props.items()
                }
            through_properties = {u for urns in by_property.values() for u in urns}
            opts = pulumi.ResourceOptions(
                parent=made.get(r.parent),
                provider=made.get(r.provider.rpartition("::")[0]) if r.provider else None,  # type: ignore[arg-type]
                depends_on=[made[u] for u in r.dependencies if u not in through_properties] or None,
                protect=r.protect or None,
                retain_on_delete=r.retain_on_delete or None,
            )
            if not r.custom:
                component = made[r.urn] = RawComponent(r.type, r.name, props, opts)
                if r.urn in outputs:
                    component.register_outputs(outputs[r.urn])
            elif r.type.startswith("pulumi:providers:"):
                package = r.type.removeprefix("pulumi:providers:")
                made[r.urn] = pulumi.ProviderResource(package, r.name, props, opts)
            elif r.type in KUBERNETES_CLASSES:
                args = {
                    SNAKE.get(k, k): v for k, v in props.items() if k not in ("apiVersion", "kind")
                }
                made[r.urn] = KUBERNETES_CLASSES[r.type](r.name, opts=opts, **args)
            else:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, props, opts)

    return program


def engine_calls(recorded: list[RecordedResource]) -> list[tuple[str, ...]]:
    """What the engine was asked, per resource, independent of arrival order: URN, inputs,
    dependencies, property dependencies, provider, options and registered outputs."""
    return sorted(
        (
            r.urn,
            json_format.MessageToJson(r.struct, sort_keys=True),
            repr(sorted(r.dependencies)),
            repr(sorted((k, sorted(v)) for k, v in r.property_dependencies.items())),
            r.provider,
            repr((r.protect, r.retain_on_delete)),
            "" if r.outputs is None else json_format.MessageToJson(r.outputs, sort_keys=True),
        )
        for r in recorded
    )


_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], capture_output=True, check=False)
wall = time.perf_counter() - start
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def wall_and_peak_rss(command: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of a command and its children, measured in a fresh process
    so that nothing this benchmark ran before counts."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, peak_kib = result.stdout.split()
    return float(wall), int(peak_kib) / 1024


BEFORE_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack
from sophia_guardrails.pack import PACK_NAME, POLICIES
PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
"""
"""The pack as pulumi-policy serves it unaided: every request decoded again for each policy."""


def paired(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best of REPEATS for two measurements taken in alternation (drift hits both alike)."""
    a, b, result = [], [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = first()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        second()
        b.append(time.perf_counter() - start)
    return min(a), min(b), result


def pack_own_work(recorded: list[RecordedResource]) -> dict[str, float]:
    """Milliseconds per resource of the pack's own work (no transport): Analyze for every
    resource and one AnalyzeStack, in-process, pulumi-policy's servicer against the pack's."""
    from pulumi_policy import EnforcementLevel
    from pulumi_policy import policy as pulumi_policy_internals
    from sophia_guardrails.pack import PACK_NAME, POLICIES
    from sophia_guardrails.server import GuardedServicer

    from sophia.offline.analyzer import analyze_request, stack_request

    requests = [analyze_request(r) for r in recorded]
    stack = stack_request(recorded)
    result = {}
    for label, servicer_class in (
        ("before", pulumi_policy_internals._PolicyAnalyzerServicer),
        ("now", GuardedServicer),
    ):
        servicer = servicer_class(PACK_NAME, "0.0.1", POLICIES, EnforcementLevel.ADVISORY)
        start = time.perf_counter()
        for request in requests:
            servicer.Analyze(request, None)
        analyze = time.perf_counter() - start
        start = time.perf_counter()
        servicer.AnalyzeStack(stack, None)
        whole = analyze + time.perf_counter() - start
        result[f"analyze_ms_{label}"] = analyze / len(recorded) * 1000
        result[f"pack_ms_{label}"] = whole / len(recorded) * 1000
    return result


def report_and_costs(spec: Any, recorded: list[RecordedResource], diagnostics: Any) -> float:
    """The cost estimate and the rendered report of a preview over these resources."""
    start = time.perf_counter()
    costs = estimate_costs(spec.platform)
    result = PreviewResult(
        spec, "bench", recorded, diagnostics, costs, service_costs(spec.platform, costs), None
    )
    print_report(result, Console(file=io.StringIO(), width=140))
    return time.perf_counter() - start


def program_and_policies(spec: Any, pack: PolicyPackProcess) -> tuple[list[RecordedResource], Any]:
    """The offline preview's core, as `preview_spec` runs it: the pack configured while the
    program runs, the resources sent when it is done."""
    with Analysis(pack, {}, PROJECT, "bench") as analysis:
        recorded, _ = run_spec(spec, "bench", config)
        return recorded, analysis.finish(recorded)


def measure(
    size: int, tmp: Path, now: PolicyPackProcess, before: PolicyPackProcess
) -> dict[str, float]:
    path = write_spec(tmp / f"spec-{size}.yaml", size)
    load_time, spec = best_of(lambda: load_spec(path))
    recorded, _ = run_spec(spec, "bench", config)
    raw = raw_program(recorded)
    program_time, raw_time, (again, _) = paired(
        lambda: run_spec(spec, "bench", config), lambda: run_under_mocks(raw, "bench")
    )
    assert engine_calls(run_under_mocks(raw, "bench")[0]) == engine_calls(again), (
        "the raw program must ask the engine for exactly what the program asks"
    )
    policies_before, _ = best_of(lambda: check_resources(before, recorded, "bench", {}), 1)
    policies_now, diagnostics = best_of(lambda: check_resources(now, recorded, "bench", {}))
    both, (_, diagnostics_again) = best_of(lambda: program_and_policies(spec, now))
    assert sorted(map(repr, diagnostics)) == sorted(map(repr, diagnostics_again))
    return {
        "services": size,
        "resources": len(recorded),
        "load_s": load_time,
        "program_s": program_time,
        "raw_sdk_s": raw_time,
        "overhead": program_time / raw_time,
        "program_us_per_service": program_time / size * 1e6,
        "policies_before_s": policies_before,
        "policies_s": policies_now,
        "program_and_policies_s": both,
        "report_s": min(report_and_costs(spec, recorded, diagnostics) for _ in range(REPEATS)),
        "violations": len(diagnostics),
        **(pack_own_work(recorded) if size <= 1000 else {}),
    }


def main() -> None:
    console = Console(width=160)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, float]] = {}
    before = PolicyPackProcess(args=("-c", BEFORE_PACK))
    with tempfile.TemporaryDirectory() as tmp, PolicyPackProcess() as now, before:
        for size in SIZES:
            rows[size] = measure(size, Path(tmp), now, before)
            console.print(f"measured {size} services", style="dim")
    preview_runs = [
        wall_and_peak_rss(
            [str(Path(sys.executable).with_name("sophia")), "preview", "specs/sophia.yaml"]
        )
        for _ in range(REPEATS)
    ]
    preview_wall = min(w for w, _ in preview_runs)
    preview_rss = max(m for _, m in preview_runs)

    table = Table(
        title="The program against the raw SDK, the policies, the report (best of 3; 2 cores)",
        title_justify="left",
    )
    for column in (
        "services",
        "resources",
        "program",
        "raw SDK, same calls",
        "×",
        "µs/service",
        "policies before",
        "policies now",
        "now/before",
        "program + policies",
        "report + cost",
    ):
        table.add_column(column, justify="right")
    for r in rows.values():
        table.add_row(
            str(r["services"]),
            str(r["resources"]),
            f"{r['program_s'] * 1000:.0f} ms",
            f"{r['raw_sdk_s'] * 1000:.0f} ms",
            f"{r['overhead']:.2f}",
            f"{r['program_us_per_service']:.0f}",
            f"{r['policies_before_s'] * 1000:.0f} ms",
            f"{r['policies_s'] * 1000:.0f} ms",
            f"{r['policies_s'] / r['policies_before_s']:.2f}",
            f"{r['program_and_policies_s'] * 1000:.0f} ms",
            f"{r['report_s'] * 1000:.0f} ms",
        )
    console.print(table)
    own = Table(title="The pack's own work, in-process (ms per resource)", title_justify="left")
    for column in ("services", "Analyze before", "Analyze now", "+ AnalyzeStack before", "now"):
        own.add_column(column, justify="right")
    for r in rows.values():
        if "analyze_ms_now" in r:
            own.add_row(
                str(r["services"]),
                f"{r['analyze_ms_before']:.3f}",
                f"{r['analyze_ms_now']:.3f}",
                f"{r['pack_ms_before']:.3f}",
                f"{r['pack_ms_now']:.3f}",
            )
    console.print(own)
    small, large = rows[SIZES[1]], rows[SIZES[-1]]
    growth = {
        key: (large[key] / small[key]) / (SIZES[-1] / SIZES[1])
        for key in ("program_s", "raw_sdk_s", "policies_s", "report_s")
    }
    console.print(
        f"per service at {SIZES[-1]} relative to {SIZES[1]} (1.0 = linear): "
        + ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in growth.items())
    )
    console.print(
        f"sophia preview specs/sophia.yaml: {preview_wall:.2f} s wall, "
        f"peak RSS {preview_rss:.0f} MiB (goal: 1.0 s)"
    )
    summary = {
        "sizes": rows,
        "per_service_growth": growth,
        "preview": {"wall_s": preview_wall, "peak_rss_mib": preview_rss},
    }
    (RESULTS / "results.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    plot(rows)
    console.print(f"wrote {RESULTS / 'results.json'} and {RESULTS / 'scaling.png'}")


def plot(rows: dict[int, dict[str, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(rows)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for key, label in (
        ("load_s", "spec load + validation"),
        ("program_s", "program (components)"),
        ("raw_sdk_s", "same engine calls, raw SDK"),
        ("policies_before_s", "policy pack before (gRPC)"),
        ("policies_s", "policy pack now (gRPC)"),
        ("report_s", "report + cost estimate"),
    ):
        ax.plot(sizes, [rows[s][key] for s in sizes], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("services in the spec")
    ax.set_ylabel("seconds (best of 3)")
    ax.set_title("sophia-infra: time against platform size (log-log; slope 1 = linear)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png")


if __name__ == "__main__":
    main()
