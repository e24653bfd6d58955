"""Each service's share of the hosts it can run on: the figures of the preview's cost table."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sophia.costs import CostEstimate, estimate_costs, service_costs
from sophia.spec import load_spec
from sophia.spec.model import Platform
from sophia.spec.quantities import cpu_cores

WriteSpec = Callable[..., Path]


def _platform(write_spec: WriteSpec, hosts: list[dict[str, Any]], services: list[Any]) -> Platform:
    spec = {
        "apiVersion": "sophia.ai/v1",
        "kind": "Platform",
        "metadata": {"name": "costs"},
        "budget": {"monthlyUsd": 1_000_000},
        "hosts": [{"region": "us-west-1", "sshKeys": ["deploy"], **host} for host in hosts],
        "services": services,
    }
    return load_spec(write_spec(json.dumps(spec))).platform


def _service(name: str, cpu: str, replicas: int = 1, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"ghcr.io/acme/{name}:1.0",
        "replicas": replicas,
        "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": "8"}},
        **more,
    }


def _definition(platform: Platform, estimate: CostEstimate) -> dict[str, float]:
    """The rule as the docstring states it, service by service and host by host."""
    weights: dict[str, dict[str, float]] = {h.host: {} for h in estimate.hosts}
    for s in platform.services:
        if s.host:
            hosts = [s.host]
        elif s.gpu:
            hosts = [h.host for h in estimate.hosts if h.gpu_type == s.gpu.type]
        else:
            hosts = list(weights)
        for host in hosts:
            if host in weights:
                reserved = s.peak_replicas * cpu_cores(s.resources.requests.cpu)
                weights[host][s.name] = reserved / len(hosts)
    shares: dict[str, float] = {}
    for h in estimate.hosts:
        total = sum(weights[h.host].values())
        if total <= 0:
            shares["(unallocated)"] = shares.get("(unallocated)", 0.0) + h.monthly_usd
            continue
        for name, weight in weights[h.host].items():
            shares[name] = shares.get(name, 0.0) + h.monthly_usd * weight / total
    return {name: round(value, 2) for name, value in shares.items()}


def test_a_host_is_shared_by_reserved_cpu_among_the_services_that_can_use_it(
    write_spec: WriteSpec,
) -> None:
    platform = _platform(
        write_spec,
        [
            {"name": "a10-1", "instanceType": "gpu_1x_a10"},
            {"name": "a10-2", "instanceType": "gpu_1x_a10"},
            {"name": "big", "instanceType": "gpu_1x_a100"},
        ],
        [
            _service("web", "500m", replicas=2),  # anywhere: 1 core, a third on each host
            _service("infer", "2", gpu={"count": 1, "type": "a10"}),  # 1 core on each a10
            _service("batch", "1", host="big"),
        ],
    )
    estimate = estimate_costs(platform)
    a10_1, a10_2, big = (h.monthly_usd for h in estimate.hosts)
    # Every host carries 4/3 of a core: web a quarter of each, infer and batch the rest.
    shares = service_costs(platform, estimate)
    assert list(shares) == ["web", "infer", "batch"]
    assert shares == pytest.approx(  # rounded to cents after summing in some order
        {"web": (a10_1 + a10_2 + big) / 4, "infer": (a10_1 + a10_2) * 3 / 4, "batch": big * 3 / 4},
        abs=0.011,
    )


def test_hosts_no_service_can_use_are_reported_unallocated_after_the_services(
    write_spec: WriteSpec,
) -> None:
    platform = _platform(
        write_spec,
        [
            {"name": "spare", "instanceType": "gpu_1x_a100"},
            {"name": "a10", "instanceType": "gpu_1x_a10"},
            {"name": "spare-2", "instanceType": "gpu_1x_h100_pcie"},
        ],
        [_service("infer", "2", gpu={"count": 1, "type": "a10"})],
    )
    estimate = estimate_costs(platform)
    spare, a10, spare_2 = (h.monthly_usd for h in estimate.hosts)
    shares = service_costs(platform, estimate)
    assert list(shares) == ["infer", "(unallocated)"]
    assert shares == pytest.approx({"infer": a10, "(unallocated)": spare + spare_2}, abs=0.011)


@pytest.mark.parametrize("seed", range(6))
def test_random_platforms_get_the_shares_the_rule_defines(write_spec: WriteSpec, seed: int) -> None:
    rng = random.Random(seed)
    types = ["gpu_1x_a10", "gpu_1x_a100", "gpu_1x_h100_pcie"]
    hosts = [{"name": f"h{i}", "instanceType": rng.choice(types)} for i in range(rng.randint(1, 7))]
    present = sorted(
        {
            t.rsplit("_", 1)[-1] if "h100" not in t else "h100"
            for t in (h["instanceType"] for h in hosts)
        }
    )
    services = []
    for i in range(rng.randint(1, 30)):
        where = rng.choice(["anywhere", "gpu", "pinned"])
        more: dict[str, Any] = {}
        if where == "gpu":
            more["gpu"] = {"count": 1, "type": rng.choice(present)}
        elif where == "pinned":
            more["host"] = rng.choice(hosts)["name"]
        cpu = rng.choice(["100m", "250m", "1", "3"])
        services.append(_service(f"s{i}", cpu, replicas=rng.randint(1, 4), **more))
    platform = _platform(write_spec, hosts, services)
    estimate = estimate_costs(platform)
    expected = _definition(platform, estimate)
    shares = service_costs(platform, estimate)
    assert shares == pytest.approx(expected, abs=0.011)  # summed in another order: ±1 cent
    assert set(shares) == set(expected)
    spec_order = [s.name for s in platform.services if s.name in shares]
    assert list(shares) == spec_order + (["(unallocated)"] if "(unallocated)" in shares else [])
