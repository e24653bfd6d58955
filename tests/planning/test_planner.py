"""The planner against exhaustive search: on small demands over real catalog types, the
cheapest host set it finds costs exactly what trying every set finds — so its pruning never
cuts off a cheaper plan."""

from __future__ import annotations

import itertools
import random

import pytest
from sophia_guardrails.capacity import Amount, Pod, place

from components.catalog import InstanceType, load_catalog
from sophia.planning.planner import Search, cheapest, planned_nodes

TYPES = ["gpu_1x_a10", "gpu_1x_a6000", "gpu_1x_a100", "gpu_1x_h100_pcie", "gpu_8x_a100"]
GIB = 2**30


def _search(types: list[InstanceType], max_hosts: int) -> Search:
    return Search(
        candidates=types,
        hours_per_month=730,
        max_hosts=max_hosts,
        labels_for=lambda name, e: {"gpu-type": e.gpu_type, "sophia.ai/host": name},
    )


def _pods(rng: random.Random, gpu_types: list[str]) -> list[Pod]:
    pods = []
    for w in range(rng.randint(1, 4)):
        gpus = rng.choice([0, 0, 1, 1, 2])
        selector = {"gpu-type": rng.choice(gpu_types)} if gpus else {}
        request = Amount(
            rng.choice([500, 2000, 8000, 24000]), rng.choice([1, 8, 32, 120]) * GIB, gpus
        )
        for i in range(rng.randint(1, 3)):
            pods.append(Pod(f"svc{w}", i, "replica", request, selector, (), ()))
    return pods


def _brute_force(pods: list[Pod], search: Search) -> float | None:
    best = None
    for size in range(1, search.max_hosts + 1):
        for chosen in itertools.combinations_with_replacement(search.candidates, size):
            if not place(pods, planned_nodes(chosen, search)).unplaced:
                cost = round(sum(t.monthly_usd(730) for t in chosen), 2)
                best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_planner_finds_what_exhaustive_search_finds(seed: int) -> None:
    rng = random.Random(seed)
    catalog = load_catalog()
    types = [catalog.get(name) for name in TYPES]
    assert all(types)
    search = _search([t for t in types if t], max_hosts=3)
    pods = _pods(rng, sorted({t.gpu_type for t in search.candidates}))
    plan = cheapest(pods, search)
    expected = _brute_force(pods, search)
    if expected is None:
        assert not plan.feasible and "fits every pod" in plan.reason
    else:
        assert plan.feasible and plan.monthly_usd == expected, (plan, expected)
        assert sum(len(h.pods) for h in plan.hosts) == len(pods)  # every pod placed


def test_the_plan_explains_itself() -> None:
    catalog = load_catalog()
    a10 = catalog.get("gpu_1x_a10")
    assert a10 is not None
    pods = [
        Pod("llm", i, "replica", Amount(4000, 16 * GIB, 1), {"gpu-type": "a10"}, (), ())
        for i in range(3)
    ]
    plan = cheapest(pods, _search([a10], max_hosts=4))
    assert plan.feasible and [h.instance_type for h in plan.hosts] == ["gpu_1x_a10"] * 3
    assert plan.binding.startswith("GPUs (100% used")
    assert plan.monthly_usd == round(3 * a10.monthly_usd(730), 2)
    assert all(h.gpus_used == 1 for h in plan.hosts)
