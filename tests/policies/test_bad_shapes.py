"""Random and malformed property trees: the pack reports, never crashes, answers every request."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.harness import (
    CONFIG_MAP,
    DEPLOYMENT,
    ESC_ENV,
    INSTANCE,
    Pack,
    fires,
    resource,
)

TYPES = [
    DEPLOYMENT,
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
    CONFIG_MAP,
    INSTANCE,
    ESC_ENV,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
]
KEYS = [
    "spec",
    "template",
    "containers",
    "resources",
    "limits",
    "requests",
    "nvidia.com/gpu",
    "env",
    "name",
    "value",
    "image",
    "nodeSelector",
    "tolerations",
    "replicas",
    "data",
    "instance_type_name",
    "yaml",
    "metadata",
    "jobTemplate",
    "maxReplicas",
    "scaleTargetRef",
]
# Finite numbers only: property values reach the engine as JSON, which has no NaN or Infinity
# (pulumi-policy itself cannot decode them: MessageToDict refuses before any policy runs).
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["1", "a10", "gpu_1x_a10", "nvidia"]),
)
trees = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(KEYS), trees, max_size=5))
def test_random_trees_never_crash_the_pack(pack: Pack, type_: str, props: dict[str, Any]) -> None:
    r = resource(type_, props)
    for d in pack.analyze(r):
        assert d.policy_pack == "sophia-guardrails" and d.message
    pack.analyze_stack([r, r])


def test_malformed_deployment_is_reported_not_fatal(pack: Pack) -> None:
    bad = resource(
        DEPLOYMENT,
        {
            "metadata": {"name": "broken"},
            "spec": {"template": {"spec": {"containers": "not-a-list"}}},
        },
    )
    fires(
        "gpu-placement",
        pack.analyze(bad),
        "Deployment 'broken'",
        "spec.template.spec.containers should be a list, not str",
        "fix the resource definition",
    )
    assert (
        pack.analyze(resource(DEPLOYMENT, {"spec": {"template": {"spec": {"containers": []}}}}))
        == []
    )
