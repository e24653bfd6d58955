"""The components with plain, schema-friendly args for other languages.

`pulumi.provider.experimental` infers the package schema from these annotations: TypedDict
args named `args`, no unions, tokens `sophia:index:<Class>`. Each class is the Python
component itself, taking the TypedDict and building the typed Args. Structural inputs
(replicas, ports, GPUs, autoscaling) shape the resources and must be plain values; names,
images and credentials may be outputs of other resources.

(No `from __future__ import annotations` here: the schema analyzer needs real types.)
"""

from typing import Literal, NotRequired, Optional, TypedDict

import pulumi

import components
from components import (
    Autoscaling,
    ComputeResources,
    ContainerPort,
    EscSecretBundleArgs,
    GpuRequest,
    HealthProbe,
    K3sJoin,
    LambdaGpuHostArgs,
    MicroserviceArgs,
    SecretKeyRef,
    SshAccess,
)


class PortArgs(TypedDict):
    name: str
    """Port name, e.g. http."""
    port: int
    """Container port."""


class SecretKeyArgs(TypedDict):
    env_name: str
    """Environment variable to set."""
    secret_name: pulumi.Input[str]
    """Kubernetes Secret that holds the value."""
    key: str
    """Key in that Secret."""


class SophiaMicroserviceArgs(TypedDict):
    namespace: pulumi.Input[str]
    """Kubernetes namespace."""
    image: str
    """Image pinned by tag or digest."""
    replicas: NotRequired[int]
    """Pods to run (default 1)."""
    ports: NotRequired[list[PortArgs]]
    """Ports the container listens on."""
    env: NotRequired[dict[str, str]]
    """Plain, non-secret environment variables."""
    secret_env_from: NotRequired[list[pulumi.Input[str]]]
    """Secrets whose keys all become environment variables."""
    secret_env: NotRequired[list[SecretKeyArgs]]
    """Single credentials from Secrets."""
    secrets_checksum: NotRequired[pulumi.Input[str]]
    """Changes when a referenced Secret changes; rolls the pods."""
    cpu_request: NotRequired[str]
    """Default 100m."""
    memory_request: NotRequired[str]
    """Default 128Mi."""
    cpu_limit: NotRequired[str]
    """Default 500m."""
    memory_limit: NotRequired[str]
    """Default 512Mi."""
    gpu_count: NotRequired[int]
    """nvidia.com/gpu per pod."""
    gpu_type: NotRequired[str]
    """gpu-type node label to land on, e.g. a10."""
    min_replicas: NotRequired[int]
    """With max_replicas: a HorizontalPodAutoscaler."""
    max_replicas: NotRequired[int]
    """Most replicas under autoscaling."""
    target_cpu_percent: NotRequired[int]
    """Autoscaling CPU target (default 70)."""
    health_path: NotRequired[str]
    """HTTP probe path; without it a TCP probe on health_port."""
    health_port: NotRequired[str]
    """Port name for the probes."""
    service_type: NotRequired[str]
    """ClusterIP, NodePort or LoadBalancer."""
    allow_from: NotRequired[list[str]]
    """Only these services may connect (a NetworkPolicy)."""
    min_available: NotRequired[int]
    """A PodDisruptionBudget (replicas >= 2)."""


_SERVICE_TYPES: dict[str, Literal["ClusterIP", "NodePort", "LoadBalancer"]] = {
    "ClusterIP": "ClusterIP",
    "NodePort": "NodePort",
    "LoadBalancer": "LoadBalancer",
}


def _service_type(value: str) -> Literal["ClusterIP", "NodePort", "LoadBalancer"]:
    if value not in _SERVICE_TYPES:
        raise ValueError(f"service_type must be one of {', '.join(_SERVICE_TYPES)}, not {value!r}")
    return _SERVICE_TYPES[value]


def _plain(value: object, name: str) -> None:
    if isinstance(value, pulumi.Output):
        raise ValueError(f"{name} shapes the resources and must be a plain value, not an output")


class SophiaMicroservice(components.SophiaMicroservice):
    """A containerized service: ServiceAccount, Deployment, Service; PDB, HPA, NetworkPolicy."""

    service_dns_name: pulumi.Output[str]
    """In-cluster DNS name."""
    deployment_name: pulumi.Output[str]
    """Name of the Deployment."""
    image_ref: pulumi.Output[str]
    """Image the pods run."""

    def __init__(
        self, name: str, args: SophiaMicroserviceArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        for field in (
            "replicas",
            "ports",
            "gpu_count",
            "min_replicas",
            "max_replicas",
            "min_available",
        ):
            _plain(args.get(field), field)
        gpu = (
            GpuRequest(args["gpu_count"], args.get("gpu_type", ""))
            if args.get("gpu_count")
            else None
        )
        scaling = (
            Autoscaling(
                args.get("min_replicas", 1),
                args["max_replicas"],
                args.get("target_cpu_percent", 70),
            )
            if args.get("max_replicas")
            else None
        )
        health = (
            HealthProbe(port=args.get("health_port", "http"), path=args.get("health_path"))
            if args.get("health_path") or args.get("health_port")
            else None
        )
        super().__init__(
            name,
            MicroserviceArgs(
                namespace=args["namespace"],
                image=args["image"],
                replicas=args.get("replicas", 1),
                ports=[ContainerPort(p["name"], p["port"]) for p in args.get("ports", [])],
                env=args.get("env", {}),
                secret_env_from=args.get("secret_env_from", []),
                secret_env=[
                    SecretKeyRef(s["env_name"], s["secret_name"], s["key"])
                    for s in args.get("secret_env", [])
                ],
                secrets_checksum=args.get("secrets_checksum"),
                resources=ComputeResources(
                    args.get("cpu_request", "100m"),
                    args.get("memory_request", "128Mi"),
                    args.get("cpu_limit", "500m"),
                    args.get("memory_limit", "512Mi"),
                ),
                gpu=gpu,
                autoscaling=scaling,
                health=health,
                service_type=_service_type(args.get("service_type", "ClusterIP")),
                allow_from=args.get("allow_from"),
                min_available=args.get("min_available"),
            ),
            opts,
        )


class EscSecretBundleArgsDict(TypedDict):
    namespace: pulumi.Input[str]
    """Kubernetes namespace for the Secrets."""
    groups: dict[str, list[str]]
    """Group name to credential keys."""
    values: dict[str, pulumi.Input[str]]
    """Credential key to value (secret)."""
    secret_name_prefix: NotRequired[str]
    """Prefix of the Secrets' names (default credentials)."""


class EscSecretBundle(components.EscSecretBundle):
    """Credential groups as Kubernetes Secrets, with checksums that roll pods on rotation."""

    secret_names: pulumi.Output[dict[str, str]]  # type: ignore[assignment]
    """Group name to Kubernetes Secret name."""
    checksums: pulumi.Output[dict[str, str]]  # type: ignore[assignment]
    """Group name to checksum (pass it as secrets_checksum)."""

    def __init__(
        self,
        name: str,
        args: EscSecretBundleArgsDict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        _plain(args.get("groups"), "groups")
        super().__init__(
            name,
            EscSecretBundleArgs(
                namespace=args["namespace"],
                groups=args["groups"],
                values=args["values"],
                secret_name_prefix=args.get("secret_name_prefix", "credentials"),
            ),
            opts,
        )


class LambdaGpuHostArgsDict(TypedDict):
    instance_name: str
    """Stack-unique Lambda instance name."""
    instance_type: str
    """e.g. gpu_1x_a10."""
    region: str
    """e.g. us-west-1."""
    ssh_key_name: str
    """Lambda SSH key the instance trusts."""
    ssh_private_key: pulumi.Input[str]
    """Its private half (secret), for the bootstrap."""
    k3s_version: NotRequired[str]
    """Pinned k3s release."""
    labels: NotRequired[dict[str, str]]
    """Extra node labels."""
    join_server_url: NotRequired[pulumi.Input[str]]
    """With join_node_token: join that k3s server as an agent."""
    join_node_token: NotRequired[pulumi.Input[str]]
    """The server's node token (secret)."""
    api_key: NotRequired[pulumi.Input[str]]
    """Lambda Cloud API key (secret); default LAMBDA_API_KEY."""


class LambdaGpuHost(components.LambdaGpuHost):
    """A Lambda Cloud GPU instance bootstrapped into a k3s node with the NVIDIA runtime."""

    ip: pulumi.Output[str]
    """Public IP."""
    gpu_type: str
    """GPU model, as in the gpu-type node label."""
    gpu_count: int
    """GPUs on the instance."""
    private_ip: pulumi.Output[str]
    """Private IP."""
    kubeconfig: Optional[pulumi.Output[str]]
    """The k3s server's kubeconfig (secret); server hosts only."""
    node_token: Optional[pulumi.Output[str]]
    """Join token for agents (secret); server hosts only."""
    server_url: Optional[pulumi.Output[str]]
    """https://<ip>:6443 of the server; server hosts only."""

    def __init__(
        self, name: str, args: LambdaGpuHostArgsDict, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        join = (
            K3sJoin(args["join_server_url"], args["join_node_token"])
            if "join_server_url" in args and "join_node_token" in args
            else None
        )
        super().__init__(
            name,
            LambdaGpuHostArgs(
                instance_name=args["instance_name"],
                instance_type=args["instance_type"],
                region=args["region"],
                ssh_key_name=args["ssh_key_name"],
                ssh=SshAccess(private_key=args["ssh_private_key"]),
                k3s_version=args.get("k3s_version", "v1.30.6+k3s1"),
                labels=args.get("labels", {}),
                join=join,
                api_key=args.get("api_key"),
            ),
            opts,
        )
