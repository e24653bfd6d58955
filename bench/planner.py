"""Planner benchmark: branch and bound against exhaustive search on the same demands, side by
side, and the planner alone on large demands. Run by `make bench`; figures in README.md.

Demands are synthetic: GPU services (1 GPU per pod, A10/A100/H100 mixed) and CPU services,
placed on the whole catalog (11 instance types).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sophia_guardrails.capacity import Amount, Pod, place

from components.catalog import load_catalog
from sophia.planning.planner import Search, cheapest, planned_nodes

GIB = 2**30
T = TypeVar("T")
OUT = Path(__file__).parent / "results" / "planner.json"


def demand(pods: int, seed: int, gpu_share: float, gpu_types: list[str]) -> list[Pod]:
    rng = random.Random(seed)
    made: list[Pod] = []
    workload = 0
    while len(made) < pods:
        workload += 1
        gpu = rng.random() < gpu_share
        request = Amount(
            rng.choice([250, 1000, 4000]), rng.choice([1, 4, 16]) * GIB, 1 if gpu else 0
        )
        selector = {"gpu-type": rng.choice(gpu_types)} if gpu else {}
        for i in range(min(rng.randint(1, 4), pods - len(made))):
            made.append(Pod(f"svc{workload}", i, "replica", request, selector, (), ()))
    return made


def search(max_hosts: int) -> Search:
    return Search(
        candidates=list(load_catalog()),
        hours_per_month=730,
        max_hosts=max_hosts,
        labels_for=lambda name, e: {"gpu-type": e.gpu_type, "sophia.ai/host": name},
    )


def brute_force(pods: list[Pod], s: Search) -> tuple[float | None, int]:
    best, tried = None, 0
    for size in range(1, s.max_hosts + 1):
        for chosen in itertools.combinations_with_replacement(s.candidates, size):
            tried += 1
            if not place(pods, planned_nodes(chosen, s)).unplaced:
                cost = sum(t.monthly_usd(730) for t in chosen)
                best = cost if best is None else min(best, cost)
    return best, tried


def timed(work: Callable[..., T], *args: Any) -> tuple[T, float]:
    start = time.perf_counter()
    result = work(*args)
    return result, time.perf_counter() - start


def main() -> None:
    rows = []
    print(
        "| pods | max hosts | planner | exhaustive | speed-up "
        "| sets placed (planner / exhaustive) | same cost |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    for pods_n, hosts in ((6, 3), (10, 4), (16, 4)):
        pods, s = demand(pods_n, 2, 0.3, ["a10", "a100"]), search(hosts)
        plan, t_plan = timed(cheapest, pods, s)
        (best, tried), t_brute = timed(brute_force, pods, s)
        same = (best is None and not plan.feasible) or (
            best is not None and abs(plan.monthly_usd - round(best, 2)) < 0.01
        )
        rows.append({"pods": pods_n, "maxHosts": hosts, "plannerS": t_plan, "bruteS": t_brute,
                     "explored": plan.explored, "tried": tried, "same": same})  # fmt: skip
        speedup = t_brute / max(t_plan, 1e-9)
        print(
            f"| {pods_n} | {hosts} | {t_plan * 1000:.0f} ms | {t_brute * 1000:.0f} ms | "
            f"{speedup:.0f}× | {plan.explored} / {tried} | {'yes' if same else 'NO'} |"
        )
    print()
    print("| pods | max hosts | planner | hosts | USD/month | sets placed | proven cheapest |")
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    for pods_n, hosts in ((50, 8), (200, 12), (1000, 24)):
        pods, s = demand(pods_n, 3, 0.02, ["a10", "a100"]), search(hosts)
        plan, t_plan = timed(cheapest, pods, s)
        rows.append({"pods": pods_n, "maxHosts": hosts, "plannerS": t_plan,
                     "explored": plan.explored, "hosts": len(plan.hosts),
                     "monthlyUsd": plan.monthly_usd})  # fmt: skip
        print(
            f"| {pods_n} | {hosts} | {t_plan * 1000:.0f} ms | {len(plan.hosts)} | "
            f"{plan.monthly_usd:,.2f} | {plan.explored} | {'yes' if plan.proven else 'no'} |"
        )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
