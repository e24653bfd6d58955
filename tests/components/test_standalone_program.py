"""The components from a hand-written program, with no spec in sight."""

from __future__ import annotations

import json
from collections import Counter

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from components import MicroserviceArgs, SophiaMicroservice
from sophia.offline.runner import run_under_mocks
from tests.components.standalone_program import program

KEY = "sk-or-v1-standalone-canary-0123456789"


def test_components_work_without_a_spec() -> None:
    resources, outputs = run_under_mocks(lambda: program(pulumi.Output.secret(KEY)))
    counts = Counter(r.type for r in resources)
    assert counts["sophia:index:SophiaMicroservice"] == 1
    assert counts["sophia:index:EscSecretBundle"] == 1
    assert counts["kubernetes:policy/v1:PodDisruptionBudget"] == 1
    assert counts["kubernetes:networking.k8s.io/v1:NetworkPolicy"] == 1
    assert _sync_await(outputs["dns"].future()) == "router.inference.svc.cluster.local"  # type: ignore[attr-defined]
    assert _sync_await(outputs["image"].future()) == "ghcr.io/example/router:2.1.0"  # type: ignore[attr-defined]
    (deployment,) = [r for r in resources if r.type == "kubernetes:apps/v1:Deployment"]
    pod = deployment.properties["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gpu-type": "h100"}
    assert pod["containers"][0]["env"] == [
        {
            "name": "OPENROUTER_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "keys-llm", "key": "OPENROUTER_API_KEY"}},
        }
    ]
    assert KEY not in json.dumps(deployment.properties)


def test_disruption_budget_needs_two_replicas() -> None:
    with pytest.raises(ValueError, match="needs replicas >= 2"):
        run_under_mocks(
            lambda: SophiaMicroservice(
                "solo", MicroserviceArgs(namespace="x", image="nginx:1.27", min_available=1)
            )
        )
