"""A second Pulumi program that uses the components directly, as another stack would.

No YAML and no spec: plain typed args, exactly as documented in the README.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import (
    Autoscaling,
    ComputeResources,
    ContainerPort,
    EscSecretBundle,
    EscSecretBundleArgs,
    GpuRequest,
    HealthProbe,
    MicroserviceArgs,
    SophiaMicroservice,
)


def program(openrouter_key: pulumi.Input[str]) -> dict[str, object]:
    provider = k8s.Provider("cluster", kubeconfig="apiVersion: v1\nkind: Config\n")
    opts = pulumi.ResourceOptions(providers=[provider])
    bundle = EscSecretBundle(
        "llm-keys",
        EscSecretBundleArgs(
            namespace="inference",
            groups={"llm": ["OPENROUTER_API_KEY"]},
            values={"OPENROUTER_API_KEY": openrouter_key},
            secret_name_prefix="keys",
        ),
        opts=opts,
    )
    api = SophiaMicroservice(
        "router",
        MicroserviceArgs(
            namespace="inference",
            image="ghcr.io/example/router:2.1.0",
            replicas=3,
            ports=[ContainerPort("http", 8080)],
            secret_env=[bundle.key_ref("OPENROUTER_API_KEY")],
            secrets_checksum=bundle.checksum_of(["llm"]),
            resources=ComputeResources("250m", "256Mi", "1", "1Gi"),
            gpu=GpuRequest(count=1, gpu_type="h100"),
            autoscaling=Autoscaling(min_replicas=3, max_replicas=6),
            health=HealthProbe(port="http", path="/ready"),
            min_available=2,
            allow_from=["gateway"],
        ),
        opts=opts,
    )
    return {"dns": api.service_dns_name, "image": api.image_ref}
