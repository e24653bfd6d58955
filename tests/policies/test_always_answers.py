"""The pack answers every request, quickly and correctly, whatever the resource looks like."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from google.protobuf import struct_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia.offline.runner import RecordedResource
from tests.policies.harness import (
    GPU_POD_EXTRAS,
    Pack,
    config_map,
    container,
    deployment,
    esc_environment,
    fires,
    gpu_container,
    instance,
    of,
    quiet,
    raw_resource,
    recreated,
    resource,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.mark.parametrize("gpus", [1, 1.0, "1"])
def test_gpu_counts_in_every_form_kubernetes_accepts(pack: Pack, gpus: Any) -> None:
    c = container()
    c["resources"]["limits"]["nvidia.com/gpu"] = gpus
    found = pack.analyze(deployment("bi", [c], **GPU_POD_EXTRAS))
    quiet("gpu-placement", found)
    quiet("readable-resources", found)


def _affinity(gpu_type: str) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "gpu-type", "operator": "In", "values": [gpu_type]}
                        ]
                    }
                ]
            }
        }
    }


def test_gpu_pods_placed_by_affinity_are_placed_and_counted(pack: Pack) -> None:
    pod = {
        "runtimeClassName": "nvidia",
        "tolerations": GPU_POD_EXTRAS["tolerations"],
        "affinity": _affinity("a10"),
    }
    placed = recreated(deployment("bi", [gpu_container(1)], 1, **pod))
    props = placed.properties
    quiet("gpu-placement", pack.analyze(placed))
    quiet("capacity", pack.analyze_stack([instance("gpu_1x_a10"), placed]))
    props["spec"]["replicas"] = 2
    over = resource(DEPLOYMENT, props, placed.name)
    fires(
        "capacity",
        pack.analyze_stack([instance("gpu_1x_a10"), over]),
        "Deployment 'bi' #2: short of nvidia.com/gpu",
    )


def _with_number(value: float) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update({"spec": {"replicas": 1}})
    struct["spec"]["replicas"] = value
    return struct


def _deep(levels: int) -> struct_pb2.Struct:
    root = struct_pb2.Struct()
    node = root
    for _ in range(levels):
        node = node.get_or_create_struct("a")
    return root


@pytest.mark.parametrize(
    ("struct", "fragment"),
    [
        (_with_number(float("nan")), "spec.replicas is nan, not a finite number"),
        (_with_number(float("inf")), "spec.replicas is inf, not a finite number"),
        (_deep(500), "nested deeper than 64 levels"),
    ],
    ids=["nan", "infinity", "deep"],
)
def test_unreadable_resources_get_one_mandatory_answer(
    pack: Pack, struct: struct_pb2.Struct, fragment: str
) -> None:
    started = time.monotonic()
    found = pack.analyze(raw_resource(DEPLOYMENT, struct))
    assert [d.policy_name for d in found] == ["readable-resources"]
    assert found[0].enforcement_level == "mandatory" and fragment in found[0].message
    stack = pack.analyze_stack([raw_resource(DEPLOYMENT, struct), instance("gpu_1x_a10")])
    assert [d.policy_name for d in stack] == ["readable-resources"]
    assert time.monotonic() - started < 10


def test_a_secret_without_its_value_is_refused_not_crashed_on(pack: Pack) -> None:
    struct = struct_pb2.Struct()
    struct.update(
        {"data": {"KEY": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}}}
    )
    found = pack.analyze(raw_resource("kubernetes:core/v1:Secret", struct))
    fires("readable-resources", found, "data.KEY is a secret without a value")


def test_ten_megabytes_are_answered_in_bounded_time_with_short_messages(pack: Pack) -> None:
    huge = "x" * (10 * 1024 * 1024)
    started = time.monotonic()
    found = pack.analyze(deployment("api", [container(image=huge + ":latest")]))
    assert time.monotonic() - started < 30
    assert all(len(d.message) <= 1000 for d in found)
    fires("pinned-images", found)


def test_a_credential_inside_a_long_value_is_still_found(pack: Pack) -> None:
    buried = "a" * 50_000 + " ghp_" + "Z9" * 18 + " " + "b" * 50_000
    fires("no-plaintext-secrets", pack.analyze(config_map({"notes": buried})))


def test_binary_data_is_checked_too(pack: Pack) -> None:
    token = base64.b64encode(b"AKIAIOSFODNN7EXAMPLE").decode()
    cm = config_map({})
    struct = struct_pb2.Struct()
    struct.update(
        {
            **cm.properties,
            "binaryData": {"aws": token, "png": base64.b64encode(b"\x89PNG\xff").decode()},
        }
    )
    found = pack.analyze(raw_resource("kubernetes:core/v1:ConfigMap", struct, "settings"))
    fires("no-plaintext-secrets", found, "binaryData.aws")
    assert not [d for d in found if "binaryData.png" in d.message]


def test_an_alias_bomb_in_an_esc_definition_is_answered_at_once(pack: Pack) -> None:
    bomb = "values:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb += f"  {level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
    assert len(bomb.encode()) < 1000
    started = time.monotonic()
    found = pack.analyze(esc_environment(bomb))
    assert time.monotonic() - started < 10
    fires("esc-values-secret", found, "aliases repeated too often")


# --- generated pods: the verdict is known from how each pod was made ---------------------


@st.composite
def gpu_pods(draw: st.DrawFn) -> tuple[RecordedResource, set[str]]:
    """A GPU Deployment with each placement ingredient present or not; the expected set of
    gpu-placement findings follows from the choices made."""
    count = draw(st.sampled_from([1, 1.0, "1", 2, "2"]))
    c = container()
    c["resources"]["limits"]["nvidia.com/gpu"] = count
    pod: dict[str, Any] = {}
    expected: set[str] = set()
    if draw(st.booleans()):
        pod["runtimeClassName"] = "nvidia"
    else:
        expected.add("runtimeClassName")
    how = draw(st.sampled_from(["selector", "affinity", "none"]))
    if how == "selector":
        pod["nodeSelector"] = {"gpu-type": "a10"}
    elif how == "affinity":
        pod["affinity"] = _affinity("a10")
    else:
        expected.add("selects no GPU node")
    if draw(st.booleans()):
        pod["tolerations"] = GPU_POD_EXTRAS["tolerations"]
    else:
        expected.add("tolerations")
    replicas = draw(st.sampled_from([1, 1.0, 2]))
    made = deployment("gen", [c], 1, **pod)
    props = made.properties
    props["spec"]["replicas"] = replicas
    return resource(DEPLOYMENT, props, "gen-deployment"), expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(gpu_pods())
def test_generated_gpu_pods_get_the_right_verdict(
    pack: Pack, case: tuple[RecordedResource, set[str]]
) -> None:
    made, expected = case
    found = of("gpu-placement", pack.analyze(made))
    assert len(found) == len(expected), [d.message for d in found]
    for fragment in expected:
        assert any(fragment in d.message for d in found), (fragment, [d.message for d in found])
    assert not of("readable-resources", pack.analyze(made))
