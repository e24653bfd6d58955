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


def _volume(volume: WritableVolume) -> k8s.core.v1.VolumeArgs:
    if volume.claim is not None:
        return k8s.core.v1.VolumeArgs(
            name=volume.name,
            persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                claim_name=volume.claim
            ),
        )
    return k8s.core.v1.VolumeArgs(
        name=volume.name,
        empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
            size_limit=volume.size_limit, medium="Memory" if volume.memory else None
        ),
    )


def image_version(image: str) -> str | None:
    """The tag of an image reference, as a label value (None for a digest-only reference)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    tag = name.rsplit(":", 1)[1] if ":" in name else None
    if tag is None:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:63].strip("-_.")
    return cleaned or None


def _strategy(rollout: Rollout) -> k8s.apps.v1.DeploymentStrategyArgs:
    if rollout.strategy == "Recreate":
        return k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
    return k8s.apps.v1.DeploymentStrategyArgs(
        type="RollingUpdate",
        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
            max_surge=rollout.max_surge, max_unavailable=rollout.max_unavailable
        ),
    )


class SophiaMicroservice(pulumi.ComponentResource):
    """ServiceAccount, Deployment and Service, plus PDB, HPA and NetworkPolicy where asked."""

    service_dns_name: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    image_ref: pulumi.Output[str]

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

        image: pulumi.Output[str]
        if args.build is not None:
            built = self._build_image(args.build, child)
            image = built.repo_digest
        else:
            image = pulumi.Output.from_input(args.image)

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
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                strategy=_strategy(args.effective_rollout),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.selector),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=self.labels,
                        annotations=(
                            {CHECKSUM_ANNOTATION: args.secrets_checksum}
                            if args.secrets_checksum is not None
                            else None
                        ),
                    ),
                    spec=self._pod_spec(image),
                ),
            ),
            opts=deployment_opts,
        )
        # A worker without ports gets no Service: Kubernetes refuses one without ports.
        self.service = (
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=self._metadata(),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type=args.service_type,
                    selector=self.selector,
                    ports=[
                        k8s.core.v1.ServicePortArgs(
                            name=p.name, port=p.port, target_port=p.name, protocol=p.protocol
                        )
                        for p in args.ports
                    ],
                ),
                opts=child,
            )
            if args.ports
            else None
        )
        if args.min_available is not None:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=self._metadata(),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    min_available=args.min_available,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.selector),
                ),
                opts=child,
            )
        if args.autoscaling is not None:
            self._autoscaler(args.autoscaling, child)
        if args.allow_from is not None:
            self._network_policy(args.allow_from, child)

        self.service_dns_name = pulumi.Output.concat(
            name, ".", pulumi.Output.from_input(args.namespace), ".svc.cluster.local"
        )
        self.deployment_name = self.deployment.metadata.apply(lambda m: m.name or name)
        self.image_ref = image
        self.register_outputs(
            {
                "serviceDnsName": self.service_dns_name,
                "deploymentName": self.deployment_name,
                "imageRef": self.image_ref,
            }
        )

    def _metadata(self) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=self._name, namespace=self._args.namespace, labels=self.labels
        )

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

    def _pod_spec(self, image: pulumi.Input[str]) -> k8s.core.v1.PodSpecArgs:
        a = self._args
        limits: dict[str, str] = {"cpu": a.resources.cpu_limit, "memory": a.resources.memory_limit}
        node_selector = dict(a.node_selector)
        tolerations = None
        if a.gpu is not None:
            limits[GPU_RESOURCE] = str(a.gpu.count)
            node_selector[GPU_NODE_LABEL] = a.gpu.gpu_type
            tolerations = [
                k8s.core.v1.TolerationArgs(key=GPU_RESOURCE, operator="Exists", effect="NoSchedule")
            ]
        env = [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in sorted(a.env.items())]
        env += [
            k8s.core.v1.EnvVarArgs(
                name=ref.env_name,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                        name=ref.secret_name, key=ref.key
                    )
                ),
            )
            for ref in a.secret_env
        ]
        container = k8s.core.v1.ContainerArgs(
            name=self._name,
            image=image,
            command=list(a.command) or None,
            args=list(a.args) or None,
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name=p.name, container_port=p.port, protocol=p.protocol
                )
                for p in a.ports
            ]
            or None,
            env=env or None,
            env_from=[
                k8s.core.v1.EnvFromSourceArgs(
                    secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret_name)
                )
                for secret_name in a.secret_env_from
            ]
            or None,
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests={"cpu": a.resources.cpu_request, "memory": a.resources.memory_request},
                limits=limits,
            ),
            security_context=k8s.core.v1.SecurityContextArgs(
                run_as_non_root=True,
                run_as_user=a.run_as_user,
                allow_privilege_escalation=False,
                read_only_root_filesystem=True,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            ),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                *(
                    k8s.core.v1.VolumeMountArgs(
                        name=v.name, mount_path=v.mount_path, read_only=v.read_only or None
                    )
                    for v in a.volumes
                ),
            ],
            startup_probe=self._probe(a.health, "startup"),
            readiness_probe=self._probe(a.health, "readiness"),
            liveness_probe=self._probe(a.health, "liveness"),
        )
        return k8s.core.v1.PodSpecArgs(
            service_account_name=self._name,
            automount_service_account_token=False,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=a.run_as_user,
                run_as_group=a.run_as_user,
                fs_group=a.run_as_user,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            runtime_class_name="nvidia" if a.gpu is not None else None,
            image_pull_secrets=[
                k8s.core.v1.LocalObjectReferenceArgs(name=n) for n in a.image_pull_secrets
            ]
            or None,
            node_selector=node_selector or None,
            tolerations=tolerations,
            containers=[container],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi")
                ),
                *(_volume(v) for v in a.volumes),
            ],
        )

    @staticmethod
    def _probe(
        health: HealthProbe | None, kind: Literal["startup", "readiness", "liveness"]
    ) -> k8s.core.v1.ProbeArgs | None:
        if health is None:
            return None
        if kind == "startup":
            period, failures, delay = 5, max(1, -(-health.startup_seconds // 5)), 0
        elif kind == "readiness":
            period, failures = health.period_seconds, health.failure_threshold
            delay = health.initial_delay_seconds
        else:
            period, failures = health.period_seconds, 3 * health.failure_threshold
            delay = health.initial_delay_seconds
        return k8s.core.v1.ProbeArgs(
            http_get=(
                k8s.core.v1.HTTPGetActionArgs(path=health.path, port=health.port)
                if health.path
                else None
            ),
            tcp_socket=(None if health.path else k8s.core.v1.TCPSocketActionArgs(port=health.port)),
            initial_delay_seconds=delay,
            period_seconds=period,
            failure_threshold=failures,
        )

    def _autoscaler(self, scaling: Autoscaling, opts: pulumi.ResourceOptions) -> None:
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-hpa",
            metadata=self._metadata(),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self._name
                ),
                min_replicas=scaling.min_replicas,
                max_replicas=scaling.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization",
                                average_utilization=scaling.target_cpu_percent,
                            ),
                        ),
                    )
                ],
            ),
            opts=opts.merge(pulumi.ResourceOptions(depends_on=[self.deployment])),
        )

    def _network_policy(self, allow_from: Sequence[str], opts: pulumi.ResourceOptions) -> None:
        ports = [
            k8s.networking.v1.NetworkPolicyPortArgs(port=p.port, protocol=p.protocol)
            for p in self._args.ports
        ]
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-netpol",
            metadata=self._metadata(),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.selector),
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"app.kubernetes.io/name": source}
                                )
                            )
                            for source in allow_from
                        ],
                        ports=ports or None,
                    )
                ],
            ),
            opts=opts,
        )
