"""`SophiaMicroservice`: one containerized service on Kubernetes with secure defaults.

Usable from any Pulumi Python program with plain typed args; nothing here reads YAML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pulumi
import pulumi_kubernetes as k8s

if TYPE_CHECKING:
    import pulumi_docker as docker

GPU_RESOURCE = "nvidia.com/gpu"
GPU_NODE_LABEL = "gpu-type"
HOST_NODE_LABEL = "sophia.ai/host"
CHECKSUM_ANNOTATION = "sophia.ai/secrets-checksum"
NON_ROOT_UID = 10001


@dataclass(frozen=True)
class ContainerPort:
    name: str
    port: int
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True)
class SecretKeyRef:
    """One environment variable taken from one key of a Kubernetes Secret."""

    env_name: str
    secret_name: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class GpuRequest:
    count: int
    gpu_type: str
    """Value of the `gpu-type` node label the pod must land on (e.g. 'a10')."""


@dataclass(frozen=True)
class ComputeResources:
    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str = "500m"
    memory_limit: str = "512Mi"


@dataclass(frozen=True)
class HealthProbe:
    """Three probes from one health endpoint, each with its own job:

    - startup: the process may take up to `startup_seconds` to answer (a model loading onto a
      GPU takes minutes); liveness and readiness wait until it has;
    - readiness: out of the Service after `failure_threshold` failures in a row;
    - liveness: restarted only after three times as many failures (a busy pod is not dead).
    """

    port: str | int
    path: str | None = None
    """HTTP path; None probes with a TCP connect."""
    initial_delay_seconds: int = 5
    period_seconds: int = 10
    failure_threshold: int = 3
    startup_seconds: int = 120


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int = 70


@dataclass(frozen=True)
class ImageBuild:
    """Build `MicroserviceArgs.image` from source and push it (pulumi_docker)."""

    context: str
    dockerfile: str = "Dockerfile"
    args: Mapping[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"
    registry_server: pulumi.Input[str] | None = None
    registry_username: pulumi.Input[str] | None = None
    registry_password: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class WritableVolume:
    """A writable directory for a read-only-root container: scratch space that lives as long
    as the pod (`size_limit` caps it: a model cache must not fill the node's disk), or an
    existing PersistentVolumeClaim (`claim`) for what must outlive it."""

    name: str
    mount_path: str
    size_limit: str | None = "10Gi"
    claim: pulumi.Input[str] | None = None
    memory: bool = False
    """Scratch space in RAM (tmpfs): fast, counted against the container's memory limit."""
    read_only: bool = False


@dataclass(frozen=True)
class Rollout:
    """How a new version replaces the old pods.

    Recreate stops the old pods first: the only rollout that cannot deadlock where a pod holds
    a resource the host has no second of (one GPU, one GPU pod). RollingUpdate starts up to
    `max_surge` new pods before stopping old ones (no downtime, needs room for the surge).
    """

    strategy: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"


GPU_ROLLOUT = Rollout("Recreate")
"""The default for GPU services: the old pod frees its GPU before the new one needs it."""


@dataclass(frozen=True)
class MicroserviceArgs:
    namespace: pulumi.Input[str]
    image: str
    """Pinned image reference (tag or digest); with `build`, the name it is pushed as."""
    replicas: int = 1
    ports: Sequence[ContainerPort] = ()
    command: Sequence[str] = ()
    args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    """Plain, non-secret environment variables."""
    secret_env_from: Sequence[pulumi.Input[str]] = ()
    """Names of Secrets whose every key becomes an environment variable (`envFrom`)."""
    secret_env: Sequence[SecretKeyRef] = ()
    """Single credentials (`secretKeyRef`)."""
    secrets_checksum: pulumi.Input[str] | None = None
    """Changes whenever a referenced Secret changes; rolls the pods (a pod annotation)."""
    resources: ComputeResources = field(default_factory=ComputeResources)
    gpu: GpuRequest | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    health: HealthProbe | None = None
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    allow_from: Sequence[str] | None = None
    """Names of services allowed to connect (a NetworkPolicy); None allows any pod."""
    min_available: int | None = None
    """Adds a PodDisruptionBudget; needs replicas ≥ 2."""
    build: ImageBuild | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    run_as_user: int = NON_ROOT_UID
    image_pull_secrets: Sequence[pulumi.Input[str]] = ()
    """Names of `kubernetes.io/dockerconfigjson` Secrets for private registries."""
    volumes: Sequence[WritableVolume] = ()
    """Writable directories besides /tmp (model caches, weights on a persistent volume)."""
    rollout: Rollout | None = None
    """Default: Recreate for GPU services (see `GPU_ROLLOUT`), Kubernetes' RollingUpdate
    (25% surge, 25% unavailable) for the others."""

    @property
    def effective_rollout(self) -> Rollout:
        if self.rollout is not None:
            return self.rollout
        return GPU_ROLLOUT if self.gpu is not None else Rollout()


def _volume(volume: WritableVolume) -> k8s.core.v1.VolumeArgsDict:
    if volume.claim is not None:
        return {"name": volume.name, "persistent_volume_claim": {"claim_name": volume.claim}}
    scratch: k8s.core.v1.EmptyDirVolumeSourceArgsDict = {}
    if volume.size_limit is not None:
        scratch["size_limit"] = volume.size_limit
    if volume.memory:
        scratch["medium"] = "Memory"
    return {"name": volume.name, "empty_dir": scratch}


def _volume_mount(volume: WritableVolume) -> k8s.core.v1.VolumeMountArgsDict:
    mount: k8s.core.v1.VolumeMountArgsDict = {"name": volume.name, "mount_path": volume.mount_path}
    if volume.read_only:
        mount["read_only"] = True
    return mount


def _probe(
    health: HealthProbe, kind: Literal["startup", "readiness", "liveness"]
) -> k8s.core.v1.ProbeArgsDict:
    if kind == "startup":
        period, failures, delay = 5, max(1, -(-health.startup_seconds // 5)), 0
    elif kind == "readiness":
        period, failures = health.period_seconds, health.failure_threshold
        delay = health.initial_delay_seconds
    else:
        period, failures = health.period_seconds, 3 * health.failure_threshold
        delay = health.initial_delay_seconds
    probe: k8s.core.v1.ProbeArgsDict = {
        "initial_delay_seconds": delay,
        "period_seconds": period,
        "failure_threshold": failures,
    }
    if health.path:
        probe["http_get"] = {"path": health.path, "port": health.port}
    else:
        probe["tcp_socket"] = {"port": health.port}
    return probe


def image_version(image: str) -> str | None:
    """The tag of an image reference, as a label value (None for a digest-only reference)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    tag = name.rsplit(":", 1)[1] if ":" in name else None
    if tag is None:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.")
    return cleaned or None


def _strategy(rollout: Rollout) -> k8s.apps.v1.DeploymentStrategyArgsDict:
    if rollout.strategy == "Recreate":
        return {"type": "Recreate"}
    return {
        "type": "RollingUpdate",
        "rolling_update": {
            "max_surge": rollout.max_surge,
            "max_unavailable": rollout.max_unavailable,
        },
    }


class SophiaMicroservice(pulumi.ComponentResource):
    """ServiceAccount, Deployment and Service, plus PDB, HPA and NetworkPolicy where asked."""

    def __init__(
        self, name: str, args: MicroserviceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:index:SophiaMicroservice", name, None, opts)
        if args.min_available is not None and args.replicas < 2:
            raise ValueError(f"{name}: a PodDisruptionBudget needs replicas >= 2")
        child = pulumi.ResourceOptions(parent=self)
        self._name = name
        self._args = args
        self.selector = {"app.kubernetes.io/name": name}
        self.labels = {
            **args.labels,
            **self.selector,
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/component": "gpu-service" if args.gpu else "service",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        version = image_version(args.image)
        if version:
            self.labels["app.kubernetes.io/version"] = version

        # A plain string unless built: an Output would cost the Deployment a turn of the loop.
        image: pulumi.Input[str] = (
            args.image if args.build is None else self._build_image(args.build, child).repo_digest
        )

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=self._metadata(),
            automount_service_account_token=False,
            opts=child,
        )
        deployment_opts = (
            child.merge(pulumi.ResourceOptions(ignore_changes=["spec.replicas"]))
            if args.autoscaling
            else child
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=self._metadata(),
            spec={
                "replicas": args.replicas,
                "strategy": _strategy(args.effective_rollout),
                "selector": {"match_labels": self.selector},
                "template": {"metadata": self._pod_metadata(), "spec": self._pod_spec(image)},
            },
            opts=deployment_opts,
        )
        # A worker without ports gets no Service: Kubernetes refuses one without ports.
        self.service = (
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=self._metadata(),
                spec={
                    "type": args.service_type,
                    "selector": self.selector,
                    "ports": [
                        {
                            "name": p.name,
                            "port": p.port,
                            "target_port": p.name,
                            "protocol": p.protocol,
                        }
                        for p in args.ports
                    ],
                },
                opts=child,
            )
            if args.ports
            else None
        )
        if args.min_available is not None:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=self._metadata(),
                spec={
                    "min_available": args.min_available,
                    "selector": {"match_labels": self.selector},
                },
                opts=child,
            )
        if args.autoscaling is not None:
            self._autoscaler(args.autoscaling, child)
        if args.allow_from is not None:
            self._network_policy(args.allow_from, child)

        self.service_dns_name: pulumi.Output[str] = pulumi.Output.from_input(args.namespace).apply(
            lambda namespace: f"{name}.{namespace}.svc.cluster.local"
        )
        self.deployment_name: pulumi.Output[str] = self.deployment.metadata.apply(
            lambda m: m.name or name
        )
        self.image_ref: pulumi.Output[str] = pulumi.Output.from_input(image)
        self.register_outputs(
            {
                "serviceDnsName": self.service_dns_name,
                "deploymentName": self.deployment_name,
                "imageRef": self.image_ref,
            }
        )

    def _metadata(self) -> k8s.meta.v1.ObjectMetaArgsDict:
        return {"name": self._name, "namespace": self._args.namespace, "labels": self.labels}

    def _pod_metadata(self) -> k8s.meta.v1.ObjectMetaArgsDict:
        metadata: k8s.meta.v1.ObjectMetaArgsDict = {"labels": self.labels}
        if self._args.secrets_checksum is not None:
            metadata["annotations"] = {CHECKSUM_ANNOTATION: self._args.secrets_checksum}
        return metadata

    def _build_image(self, build: ImageBuild, opts: pulumi.ResourceOptions) -> docker.Image:
        import pulumi_docker as docker  # only programs that build images pay for its import

        registry = (
            docker.RegistryArgs(
                server=build.registry_server,
                username=build.registry_username,
                password=build.registry_password,
            )
            if build.registry_server is not None
            else None
        )
        return docker.Image(
            f"{self._name}-image",
            image_name=self._args.image,
            build=docker.DockerBuildArgs(
                context=build.context,
                dockerfile=build.dockerfile,
                args=dict(build.args),
                platform=build.platform,
            ),
            registry=registry,
            opts=opts,
        )

    def _pod_spec(self, image: pulumi.Input[str]) -> k8s.core.v1.PodSpecArgsDict:
        a = self._args
        limits: dict[str, str] = {"cpu": a.resources.cpu_limit, "memory": a.resources.memory_limit}
        node_selector = dict(a.node_selector)
        if a.gpu is not None:
            limits[GPU_RESOURCE] = str(a.gpu.count)
            node_selector[GPU_NODE_LABEL] = a.gpu.gpu_type
        env: list[k8s.core.v1.EnvVarArgsDict] = [
            {"name": k, "value": v} for k, v in sorted(a.env.items())
        ]
        env += [
            {
                "name": ref.env_name,
                "value_from": {"secret_key_ref": {"name": ref.secret_name, "key": ref.key}},
            }
            for ref in a.secret_env
        ]
        container: k8s.core.v1.ContainerArgsDict = {
            "name": self._name,
            "image": image,
            "resources": {
                "requests": {"cpu": a.resources.cpu_request, "memory": a.resources.memory_request},
                "limits": limits,
            },
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": a.run_as_user,
                "allow_privilege_escalation": False,
                "read_only_root_filesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volume_mounts": [
                {"name": "tmp", "mount_path": "/tmp"},
                *(_volume_mount(v) for v in a.volumes),
            ],
        }
        if a.command:
            container["command"] = list(a.command)
        if a.args:
            container["args"] = list(a.args)
        if a.ports:
            container["ports"] = [
                {"name": p.name, "container_port": p.port, "protocol": p.protocol} for p in a.ports
            ]
        if env:
            container["env"] = env
        if a.secret_env_from:
            container["env_from"] = [{"secret_ref": {"name": n}} for n in a.secret_env_from]
        if a.health is not None:
            container["startup_probe"] = _probe(a.health, "startup")
            container["readiness_probe"] = _probe(a.health, "readiness")
            container["liveness_probe"] = _probe(a.health, "liveness")
        spec: k8s.core.v1.PodSpecArgsDict = {
            "service_account_name": self._name,
            "automount_service_account_token": False,
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": a.run_as_user,
                "run_as_group": a.run_as_user,
                "fs_group": a.run_as_user,
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [
                {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
                *(_volume(v) for v in a.volumes),
            ],
        }
        if a.gpu is not None:
            spec["runtime_class_name"] = "nvidia"
            spec["tolerations"] = [
                {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
            ]
        if a.image_pull_secrets:
            spec["image_pull_secrets"] = [{"name": n} for n in a.image_pull_secrets]
        if node_selector:
            spec["node_selector"] = node_selector
        return spec

    def _autoscaler(self, scaling: Autoscaling, opts: pulumi.ResourceOptions) -> None:
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-hpa",
            metadata=self._metadata(),
            spec={
                "scale_target_ref": {
                    "api_version": "apps/v1",
                    "kind": "Deployment",
                    "name": self._name,
                },
                "min_replicas": scaling.min_replicas,
                "max_replicas": scaling.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "average_utilization": scaling.target_cpu_percent,
                            },
                        },
                    }
                ],
            },
            opts=opts.merge(pulumi.ResourceOptions(depends_on=[self.deployment])),
        )

    def _network_policy(self, allow_from: Sequence[str], opts: pulumi.ResourceOptions) -> None:
        rule: k8s.networking.v1.NetworkPolicyIngressRuleArgsDict = {
            "from_": [
                {"pod_selector": {"match_labels": {"app.kubernetes.io/name": source}}}
                for source in allow_from
            ]
        }
        if self._args.ports:
            rule["ports"] = [{"port": p.port, "protocol": p.protocol} for p in self._args.ports]
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-netpol",
            metadata=self._metadata(),
            spec={
                "pod_selector": {"match_labels": self.selector},
                "policy_types": ["Ingress"],
                "ingress": [rule],
            },
            opts=opts,
        )
