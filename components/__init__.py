"""Reusable Pulumi components of sophia-infra, usable from any Python stack with typed args.

from components import SophiaMicroservice, MicroserviceArgs
"""

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
from .secret_bundle import EscSecretBundle, EscSecretBundleArgs

__all__ = [
    "Autoscaling",
    "ComputeResources",
    "ContainerPort",
    "EscSecretBundle",
    "EscSecretBundleArgs",
    "GpuRequest",
    "HealthProbe",
    "ImageBuild",
    "MicroserviceArgs",
    "SecretKeyRef",
    "SophiaMicroservice",
]
