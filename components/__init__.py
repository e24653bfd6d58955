"""Reusable Pulumi components of sophia-infra, usable from any Python stack with typed args.

from components import SophiaMicroservice, MicroserviceArgs

A component declares the outputs it offers where `__init__` assigns them
(`self.endpoint: pulumi.Output[str] = ...`), not as class annotations: the SDK resolves a
resource class's annotations with `typing.get_type_hints` for every instance it registers.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data_services.pinecone import PineconeIndex, PineconeIndexArgs
    from .data_services.snowflake import SnowflakeWorkspace, SnowflakeWorkspaceArgs
    from .data_services.weaviate import WeaviateCollection, WeaviateCollectionArgs
    from .gpu_host import K3sJoin, LambdaGpuHost, LambdaGpuHostArgs, SshAccess
    from .microservice import (
        Autoscaling,
        ComputeResources,
        ContainerPort,
        GpuRequest,
        HealthProbe,
        ImageBuild,
        MicroserviceArgs,
        Rollout,
        SecretKeyRef,
        SophiaMicroservice,
        WritableVolume,
    )
    from .node_directory import NodeDirectoryClaim, NodeDirectoryClaimArgs
    from .secret_bundle import EscProjection, EscSecretBundle, EscSecretBundleArgs

# Where each public name lives. Importing `components.catalog` (as `sophia validate` and the
# policy pack do) should not pay for the Pulumi SDKs, so the components load on first use.
_HOMES = {
    "K3sJoin": "gpu_host",
    "LambdaGpuHost": "gpu_host",
    "LambdaGpuHostArgs": "gpu_host",
    "SshAccess": "gpu_host",
    "PineconeIndex": "data_services.pinecone",
    "PineconeIndexArgs": "data_services.pinecone",
    "SnowflakeWorkspace": "data_services.snowflake",
    "SnowflakeWorkspaceArgs": "data_services.snowflake",
    "WeaviateCollection": "data_services.weaviate",
    "WeaviateCollectionArgs": "data_services.weaviate",
    "NodeDirectoryClaim": "node_directory",
    "NodeDirectoryClaimArgs": "node_directory",
    "EscProjection": "secret_bundle",
    "EscSecretBundle": "secret_bundle",
    "EscSecretBundleArgs": "secret_bundle",
    **dict.fromkeys(
        [
            "Autoscaling",
            "ComputeResources",
            "ContainerPort",
            "GpuRequest",
            "HealthProbe",
            "ImageBuild",
            "MicroserviceArgs",
            "Rollout",
            "SecretKeyRef",
            "SophiaMicroservice",
            "WritableVolume",
        ],
        "microservice",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


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
    "NodeDirectoryClaim",
    "NodeDirectoryClaimArgs",
    "PineconeIndex",
    "PineconeIndexArgs",
    "Rollout",
    "SecretKeyRef",
    "SnowflakeWorkspace",
    "SnowflakeWorkspaceArgs",
    "SophiaMicroservice",
    "SshAccess",
    "WeaviateCollection",
    "WeaviateCollectionArgs",
    "WritableVolume",
]
