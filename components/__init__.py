"""Reusable Pulumi components of sophia-infra, usable from any Python stack with typed args.

from components import SophiaMicroservice, MicroserviceArgs
"""

from .gpu_host import K3sJoin, LambdaGpuHost, LambdaGpuHostArgs, SshAccess
from .microservice import (
    Autoscaling,
    ComputeResources,
    ContainerPort,
    GpuRequest,
    HealthProbe,
    ImageBuild,
    MicroserviceArgs,
    SecretKeyRef,
    SophiaMicroservice,
)
from .secret_bundle import EscProjection, EscSecretBundle, EscSecretBundleArgs

__all__ = [
    "Autoscaling",
    "ComputeResources",
    "ContainerPort",
    "EscProjection",
    "EscSecretBundle",
    "EscSecretBundleArgs",
    "GpuRequest",
    "HealthProbe",
    "ImageBuild",
    "K3sJoin",
    "LambdaGpuHost",
    "LambdaGpuHostArgs",
    "MicroserviceArgs",
    "SecretKeyRef",
    "SophiaMicroservice",
    "SshAccess",
]
