"""A spec that validates never makes a later command fail: generated specs, full of the values
a hostile or careless author writes (extreme quantities, any Unicode, newlines in env values,
odd but legal names), go through validate → summary → the program → render → the policy
pack → report, Infracost JSON and PR comment. Only `InvalidSpecError` may stop one, and only at
validation.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from ruamel.yaml import YAML

from components.catalog import load_catalog
from sophia.costs import estimate_costs, service_costs
from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.infracost import infracost_json
from sophia.offline.preview import PreviewResult, check_resources
from sophia.offline.render import manifests, secret_outlines
from sophia.offline.report import markdown, print_report
from sophia.offline.runner import run_spec
from sophia.policy_config import policy_config
from sophia.spec import InvalidSpecError, load_spec
from sophia.summary import print_summary

CATALOG = load_catalog()
INSTANCE_TYPES = sorted(t.name for t in CATALOG)

names = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=24)
env_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
cpus = st.one_of(
    st.integers(1, 999_999).map(str),
    st.integers(1, 999_999_999).map(lambda n: f"{n}m"),
    st.sampled_from(["0.001", "2.5", "999999.999"]),
)
memories = st.one_of(
    st.sampled_from(["1", "128Mi", "1Gi", "7Ti", "8388607Ti", "999999999999999", "1.5G"]),
    st.integers(1, 10**15).map(lambda n: f"{n}Ki"),
)


@st.composite
def services(draw: st.DrawFn, hosts: list[dict[str, Any]], groups: list[str]) -> dict[str, Any]:
    request = {"cpu": draw(cpus), "memory": draw(memories)}
    service: dict[str, Any] = {
        "name": draw(names),
        "image": draw(
            st.sampled_from(
                [
                    "ghcr.io/sophia-ai/api:1.0.0",
                    "nginx:1.27",
                    "registry.example.com:5000/a/b__c:v1",
                    "ghcr.io/x/y@sha256:" + "a" * 64,
                ]
            )
        ),
        "replicas": draw(st.integers(0, 100)),
        "ports": [{"name": "http", "port": draw(st.integers(1, 65535))}],
        "env": draw(st.dictionaries(env_names, text, max_size=3)),
        "command": draw(st.lists(text, max_size=2)),
        "resources": {"requests": request, "limits": request},
    }
    if groups and draw(st.booleans()):
        service["secrets"] = {"groups": [draw(st.sampled_from(groups))]}
    if hosts and draw(st.booleans()):
        host = draw(st.sampled_from(hosts))
        gpus = CATALOG.get(host["instanceType"])
        assert gpus is not None
        service["host"] = host["name"]
        if draw(st.booleans()):
            service["gpu"] = {"count": draw(st.integers(1, 8)), "type": gpus.gpu_type}
    if draw(st.booleans()):
        low = draw(st.integers(1, 100))
        service["autoscaling"] = {"min": low, "max": draw(st.integers(low, 100))}
        service["replicas"] = low
    if draw(st.booleans()):
        service["health"] = {
            "path": "/" + draw(st.from_regex(r"[a-z0-9/_.-]{0,20}", fullmatch=True)),
            "port": "http",
            "initialDelaySeconds": draw(st.integers(0, 3600)),
        }
    return service


@st.composite
def platforms(draw: st.DrawFn) -> dict[str, Any]:
    host_names = draw(st.lists(names, max_size=3, unique=True))
    hosts = [
        {
            "name": name,
            "instanceType": draw(st.sampled_from(INSTANCE_TYPES)),
            "region": "us-west-1",
            "sshKeys": [draw(names)],
            "labels": draw(
                st.dictionaries(st.sampled_from(["tier", "sophia.ai/pool"]), names, max_size=2)
            ),
        }
        for name in host_names
    ]
    groups = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), max_size=2, unique=True)
    )
    spec: dict[str, Any] = {
        "apiVersion": "sophia.ai/v1",
        "kind": "Platform",
        "metadata": {"name": draw(names), "description": draw(text)},
        "budget": {
            "monthlyUsd": draw(st.floats(0.01, 1e9, allow_nan=False, allow_infinity=False)),
            "hoursPerMonth": draw(st.floats(0.01, 744)),
        },
        "hosts": hosts,
        "cluster": {"type": "k3s"} if hosts else {"type": "existing"},
        "services": draw(
            st.lists(services(hosts, groups), max_size=4, unique_by=lambda s: s["name"])
        ),
    }
    if groups:
        spec["secrets"] = {
            "esc": {"organization": "sophia-ai"},
            "groups": {
                g: {"keys": [f"{g.upper()}_API_KEY"], "prefixes": [f"{g.upper()}_"]} for g in groups
            },
        }
    return spec


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess() as process:
        yield process


def _every_later_command(path: Path, pack: PolicyPackProcess) -> None:
    spec = load_spec(path, None)  # may raise InvalidSpecError: the only allowed failure
    sink = Console(file=io.StringIO(), width=200)
    print_summary(spec, sink)
    resources, _ = run_spec(spec, "prod")
    json.dumps(manifests(resources))
    secret_outlines(resources)
    diagnostics = check_resources(pack, resources, "prod", policy_config(spec.platform))
    costs = estimate_costs(spec.platform)
    result = PreviewResult(
        spec, "prod", resources, diagnostics, costs, service_costs(spec.platform, costs), None
    )
    print_report(result, sink)
    json.dumps(infracost_json(result))
    markdown(result)


def test_a_valid_spec_never_breaks_a_later_command(
    tmp_path_factory: pytest.TempPathFactory, pack: PolicyPackProcess
) -> None:
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(platforms())
    def check(data: dict[str, Any]) -> None:
        path = tmp_path_factory.mktemp("spec") / "sophia.yaml"
        with path.open("w", encoding="utf-8") as handle:
            YAML(typ="safe", pure=True).dump(data, handle)
        try:
            _every_later_command(path, pack)
        except InvalidSpecError as invalid:
            assert all("\n" not in str(e) for e in invalid.errors)
            outcomes["invalid"] += 1
            return
        outcomes["valid"] += 1

    check()
    # Most generated specs are valid (the rest ask a host for more GPUs than it has), so
    # the later commands really ran.
    assert outcomes["valid"] >= 3 * outcomes["invalid"], outcomes
