"""The `sophia-guardrails` policy pack: every rule family's policies, served over gRPC."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, PolicyPack

from . import cost, credentials, data, gpu, hygiene, readable, server

PACK_NAME = "sophia-guardrails"
POLICIES: list[Policy] = [
    readable.POLICY,
    *gpu.POLICIES,
    *cost.POLICIES,
    *credentials.POLICIES,
    *hygiene.POLICIES,
    *data.POLICIES,
]


def build_pack() -> PolicyPack:
    """Starts the Analyzer gRPC server, prints its port and serves until killed."""
    server.install()
    return PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.ADVISORY,
        description="GPU placement and capacity, instance allow-list, monthly budget, "
        "no plaintext credentials, pinned images, resource limits, data services sized, "
        "protected and owned.",
    )
