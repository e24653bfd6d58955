"""`place`: every pod, largest first, on the matching node with the most room — whatever the
mix of workloads sharing nodes, the same placement as the rule applied pod by pod."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from sophia_guardrails.capacity import Amount, Node, Placement, Pod, eligible, place

GIB = 2**30
LABELS = [
    {"gpu-type": "a10", "nvidia.com/gpu.present": "true"},
    {"gpu-type": "h100", "nvidia.com/gpu.present": "true"},
    {"gpu-type": "a10", "nvidia.com/gpu.present": "true", "pool": "batch"},
]
TAINT = {"key": "nvidia.com/gpu", "effect": "NoSchedule"}
TOLERATE_GPU = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _by_the_rule(pods: list[Pod], nodes: list[Node]) -> Placement:
    """The rule as `capacity`'s docstring states it, each pod against every node."""
    unplaced: list[tuple[Pod, str]] = []
    order = sorted(
        pods,
        key=lambda p: (
            -p.request.gpus,
            -p.request.cpu_m,
            -p.request.memory,
            p.workload,
            p.kind,
            p.index,
        ),
    )
    by_name = sorted(nodes, key=lambda n: n.name)
    for pod in order:
        candidates = [n for n in by_name if eligible(pod, n)]
        if not candidates:
            unplaced.append((pod, "no node matches its node selector, affinity and tolerations"))
            continue
        fitting = [n for n in candidates if pod.request.fits_in(n.free)]
        if not fitting:
            roomiest = max(candidates, key=lambda n: (n.free.gpus, n.free.cpu_m, n.free.memory))
            reason = ", ".join(pod.request.short_of(roomiest.free))
            unplaced.append((pod, f"short of {reason} on {roomiest.name}, the roomiest match"))
            continue
        best = max(
            fitting, key=lambda n: (n.free.cpu_m / max(n.allocatable.cpu_m, 1), n.free.memory)
        )
        best.used = best.used + pod.request
        best.pods.append(pod.label)
    return Placement(nodes, unplaced)


def _random_stack(rng: random.Random) -> tuple[list[Pod], list[Node]]:
    nodes = [
        Node(
            f"node-{i:02d}",
            "gpu_1x_a10",
            dict(rng.choice(LABELS)),
            (TAINT,) if rng.random() < 0.3 else (),
            Amount(rng.choice([7000, 15000, 29000]), rng.choice([14, 30, 200]) * GIB, 1),
        )
        for i in range(rng.randint(1, 12))
    ]
    pods: list[Pod] = []
    for w in range(rng.randint(1, 40)):
        gpus = 1 if rng.random() < 0.15 else 0
        request = Amount(rng.choice([100, 250, 500, 1000, 4000]), rng.choice([1, 2, 8]) * GIB, gpus)
        selector: dict[str, Any] = rng.choice([{}, {}, {"gpu-type": "a10"}, {"pool": "batch"}])
        expressions: tuple[dict[str, Any], ...] = rng.choice(
            [(), (), ({"key": "gpu-type", "operator": "NotIn", "values": ["h100"]},)]
        )
        tolerations: tuple[dict[str, Any], ...] = (
            (TOLERATE_GPU,) if gpus or rng.random() < 0.2 else ()
        )
        if rng.random() < 0.5:  # another workload's constraints, as equal but separate objects
            selector, expressions, tolerations = copy.deepcopy((selector, expressions, tolerations))
        wanted = rng.randint(1, 5)
        for i in range(wanted + rng.randint(0, 1)):
            kind = "replica" if i < wanted else "surge"
            pods.append(
                Pod(f"Deployment 'w{w}'", i, kind, request, selector, expressions, tolerations)
            )
    rng.shuffle(pods)
    return pods, nodes


@pytest.mark.parametrize("seed", range(40))
def test_placement_is_the_rule_applied_pod_by_pod(seed: int) -> None:
    pods, nodes = _random_stack(random.Random(seed))
    expected = _by_the_rule(pods, copy.deepcopy(nodes))
    placed = place(pods, nodes)
    assert [(n.name, n.pods, n.used) for n in placed.nodes] == [
        (n.name, n.pods, n.used) for n in expected.nodes
    ]
    assert [(p.label, why) for p, why in placed.unplaced] == [
        (p.label, why) for p, why in expected.unplaced
    ]


def test_workloads_sharing_nodes_see_the_room_the_others_took() -> None:
    """x and z may use the same nodes (equal constraints); y, placed between them, fills a:
    z's pods must see that, though z's choices were ranked before y took the room."""
    nodes = [Node(n, "t", {}, (), Amount(5000, 64 * GIB, 0)) for n in ("a", "b")]

    def pods(workload: str, cpu_m: int, count: int, tolerations: tuple[Any, ...]) -> list[Pod]:
        request = Amount(cpu_m, GIB, 0)
        return [
            Pod(f"Deployment '{workload}'", i, "replica", request, {}, (), tolerations)
            for i in range(count)
        ]

    x = pods("x", 2000, 2, ())
    y = pods("y", 1500, 1, (TOLERATE_GPU,))
    z = pods("z", 1000, 2, ())
    placement = place([*z, *y, *x], nodes)
    assert [(n.name, n.pods) for n in placement.nodes] == [
        ("a", ["Deployment 'x' #1", "Deployment 'y' #1"]),
        ("b", ["Deployment 'x' #2", "Deployment 'z' #1", "Deployment 'z' #2"]),
    ]
    assert placement.unplaced == []
