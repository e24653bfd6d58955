"""`make bench`: how fast sophia-infra is and how it scales, measured side by side in one run.

1. spec load + validation for 10, 100, 1000 services;
2. the program under Pulumi's mock monitor, against a hand-written program that registers
   exactly the same Kubernetes resources with the raw SDK under the same monitor;
3. policy evaluation: Analyze + AnalyzeStack over the resources of each size, over gRPC;
4. `sophia preview` of specs/sophia.yaml end to end: wall time and peak memory.

Prints a table and writes bench/results/scaling.png and bench/results/results.json.
"""

from __future__ import annotations

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
from rich.console import Console
from rich.table import Table

from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import check_resources
from sophia.offline.runner import RecordedResource, run_spec, run_under_mocks, unwrap_secrets
from sophia.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SIZES = (10, 100, 1000)
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


def raw_program(recorded: list[RecordedResource]) -> Callable[[], None]:
    """The same resources, hand-written: Kubernetes objects with the raw pulumi_kubernetes SDK,
    the other custom resources (Lambda instance, SSH commands, ESC environment) registered
    directly with their recorded inputs; no components."""
    classes = {
        "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
        "kubernetes:core/v1:Secret": k8s.core.v1.Secret,
        "kubernetes:core/v1:ServiceAccount": k8s.core.v1.ServiceAccount,
        "kubernetes:core/v1:Service": k8s.core.v1.Service,
        "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": (
            k8s.autoscaling.v2.HorizontalPodAutoscaler
        ),
        "kubernetes:policy/v1:PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    }
    objects = [
        (r.type, r.name, unwrap_secrets(r.properties)) for r in recorded if r.type in classes
    ]
    others = [
        (r.type, r.name, unwrap_secrets(r.properties))
        for r in recorded
        if r.custom and r.type not in classes and not r.type.startswith("pulumi:providers:")
    ]

    def program() -> None:
        for type_, name, props in others:
            pulumi.CustomResource(type_, name, props)
        provider = k8s.Provider("kubernetes", kubeconfig=pulumi.Output.secret("bench"))
        opts = pulumi.ResourceOptions(provider=provider)
        for type_, name, props in objects:
            args = {k: v for k, v in props.items() if k not in ("apiVersion", "kind")}
            if "stringData" in args:
                args["string_data"] = args.pop("stringData")
            if "automountServiceAccountToken" in args:
                args["automount_service_account_token"] = args.pop("automountServiceAccountToken")
            classes[type_](name, opts=opts, **args)

    return program


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


def main() -> None:
    console = Console(width=140)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, PolicyPackProcess() as pack:
        for size in SIZES:
            path = write_spec(Path(tmp) / f"spec-{size}.yaml", size)
            load_time, spec = best_of(lambda p=path: load_spec(p))
            program_time, (recorded, _) = best_of(lambda s=spec: run_spec(s, "bench", config))
            raw = raw_program(recorded)
            raw_time, _ = best_of(lambda r=raw: run_under_mocks(r, "bench"))
            policy_time, diagnostics = best_of(
                lambda r=recorded: check_resources(pack, r, "bench", {}), repeats=1
            )
            rows[size] = {
                "services": size,
                "resources": len(recorded),
                "load_s": load_time,
                "program_s": program_time,
                "raw_sdk_s": raw_time,
                "overhead": program_time / raw_time,
                "policy_s": policy_time,
                "resources_per_s": len(recorded) / policy_time,
                "violations": len(diagnostics),
            }
    preview_runs = [
        wall_and_peak_rss(
            [str(Path(sys.executable).with_name("sophia")), "preview", "specs/sophia.yaml"]
        )
        for _ in range(REPEATS)
    ]
    preview_wall = min(w for w, _ in preview_runs)
    preview_rss = max(m for _, m in preview_runs)

    table = Table(title="sophia-infra benchmarks (best of 3; 2-core machine)", title_justify="left")
    for column in (
        "services",
        "resources",
        "spec load+validate",
        "program (mock)",
        "raw SDK (mock)",
        "abstraction ×",
        "policies (gRPC)",
        "resources/s",
    ):
        table.add_column(column, justify="right")
    for r in rows.values():
        table.add_row(
            str(r["services"]),
            str(r["resources"]),
            f"{r['load_s'] * 1000:.0f} ms",
            f"{r['program_s'] * 1000:.0f} ms",
            f"{r['raw_sdk_s'] * 1000:.0f} ms",
            f"{r['overhead']:.2f}",
            f"{r['policy_s'] * 1000:.0f} ms",
            f"{r['resources_per_s']:.0f}",
        )
    console.print(table)
    first, last = rows[SIZES[0]], rows[SIZES[-1]]
    growth = {
        key: (last[key] / first[key]) / (SIZES[-1] / SIZES[0])
        for key in ("load_s", "program_s", "policy_s")
    }
    console.print(
        "scaling 10 → 1000 services, time per service relative to 10 (1.0 = linear): "
        + ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in growth.items())
    )
    console.print(
        f"sophia preview specs/sophia.yaml: {preview_wall:.2f} s wall, "
        f"peak RSS {preview_rss:.0f} MiB (target: under 3 s)"
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
        ("raw_sdk_s", "same resources, raw SDK"),
        ("policy_s", "policy pack (gRPC)"),
    ):
        ax.plot(sizes, [rows[s][key] for s in sizes], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("services in the spec")
    ax.set_ylabel("seconds (best of 3)")
    ax.set_title("sophia-infra: time against platform size (log-log; slope 1 = linear)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png")


if __name__ == "__main__":
    main()
